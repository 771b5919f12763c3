"""The seeded command stream that every engine runs: built once, before any timing, as plain tuples.

One contact per conversation; each contact writes to one of two multi-user inboxes. Twenty users: user 0
is the admin, users 1..19 are agents split between the two inboxes. Each step is a :class:`Step` tuple of
small integers, so every engine translates the same stream into its own vocabulary before its clock starts.

The mix follows the issue: inbound 40%, reply 20%, assign/unassign 15%, close 10%, read/unread 10%,
star/unstar 5%. A conversation's first step is always the contact's inbound message, which starts it. The
clock advances by a random step at every event so that the stream spans weeks, and the generator keeps a
small reference model of status, close time and assignees as it goes: it picks meaningful targets (unassign
someone who is assigned) and counts how many closed conversations the contact wrote to within the
seven-day reopen window and how many after it. Its final statuses and assignees are what every engine must
end with.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, NamedTuple

# The commands, as small ints so that a step is a tuple of ints.
INBOUND: Final = 0
REPLY: Final = 1
ASSIGN: Final = 2
UNASSIGN: Final = 3
CLOSE: Final = 4
READ: Final = 5
UNREAD: Final = 6
STAR: Final = 7
UNSTAR: Final = 8
OP_NAMES: Final = ("inbound", "reply", "assign", "unassign", "close", "read", "unread", "star", "unstar")

ADMIN: Final = 0
"""The index of the admin user; agents are 1..users-1."""
NOBODY: Final = -1
"""The actor of an inbound step (the contact acts) and the target of steps that have none."""

SECOND_US: Final = 1_000_000
DAY_US: Final = 86_400 * SECOND_US
WEEK_US: Final = 7 * DAY_US
"""The reopen window: one week, in the account's time zone, which is UTC here, so exactly 168 hours. A
message at exactly ``closed_at + WEEK_US`` is after the window."""

# (category weight, [(command, share of the category)]): the mix.
_MIX: Final = (
    (40, ((INBOUND, 1.0),)),
    (20, ((REPLY, 1.0),)),
    (15, ((ASSIGN, 0.6), (UNASSIGN, 0.4))),
    (10, ((CLOSE, 1.0),)),
    (10, ((READ, 0.7), (UNREAD, 0.3))),
    (5, ((STAR, 0.7), (UNSTAR, 0.3))),
)
_OPS: Final = tuple(op for _, ops in _MIX for op, _ in ops)
_WEIGHTS: Final = tuple(weight * share for weight, ops in _MIX for _, share in ops)

ADMIN_ACTS: Final = 0.05
"""How often the admin (who is in no inbox but may act on every conversation) is the actor."""
STARTED_BY: Final = 0.6
"""Conversations start at an even pace until this fraction of the stream, so that most of them then live
for weeks of stream time (closing, being written to again, reopening)."""


class Step(NamedTuple):
    """One command: what, on which conversation, by whom, to whom, and when."""

    op: int
    conversation: int
    actor: int
    """A user index (0 is the admin), or NOBODY for an inbound message (the contact acts)."""
    target: int
    """The user assigned or unassigned, or NOBODY."""
    at: int
    """Microseconds since the stream's start."""


@dataclass(frozen=True)
class Directory:
    """The account: users, the two multi-user inboxes and their members, and each contact's inbox."""

    users: int
    members: tuple[tuple[int, ...], ...]
    """For each inbox, its member users (agents; the admin is in none)."""
    inbox_of: tuple[int, ...]
    """For each conversation (one per contact), its inbox."""

    @property
    def conversations(self) -> int:
        return len(self.inbox_of)

    @property
    def inboxes(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class Stream:
    seed: int
    directory: Directory
    steps: list[Step]
    first_steps: list[Step]
    """Each conversation's first step (the inbound message that starts it), in stream order: running only
    these is how every engine's setup cost per conversation is measured."""
    expected_status: list[str]
    """For each conversation: ``open``, ``closed`` or ``none`` (never started) at the end of the stream."""
    expected_assignees: list[frozenset[int]]
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def span_us(self) -> int:
        return self.steps[-1].at if self.steps else 0


def directory(conversations: int, users: int, inboxes: int, rng: random.Random) -> Directory:
    agents = list(range(1, users))
    members = tuple(tuple(agents[i::inboxes]) for i in range(inboxes))
    inbox_of = tuple(rng.randrange(inboxes) for _ in range(conversations))
    return Directory(users, members, inbox_of)


def build(
    *,
    events: int = 100_000,
    conversations: int = 10_000,
    users: int = 20,
    inboxes: int = 2,
    weeks: float = 12.0,
    seed: int = 20_260_105,
) -> Stream:
    """The stream of ``events`` commands over ``conversations`` conversations, spanning about ``weeks``."""
    if events < 1 or conversations < 1 or users < inboxes + 1 or inboxes < 1:
        raise ValueError("need at least one event and conversation, and an agent for every inbox")
    rng = random.Random(seed)
    account = directory(conversations, users, inboxes, rng)
    mean_step = max(1, round(weeks * WEEK_US / events))

    open_: list[bool | None] = [None] * conversations  # None: not started yet
    closed_at = [0] * conversations
    assignees: list[set[int]] = [set() for _ in range(conversations)]
    started: list[int] = []
    unstarted = list(range(conversations))
    rng.shuffle(unstarted)
    stats: Counter[str] = Counter()
    steps: list[Step] = []
    first_steps: list[Step] = []
    start_until = STARTED_BY * events
    at = 0

    for index in range(events):
        at += rng.randint(0, 2 * mean_step)
        op = rng.choices(_OPS, _WEIGHTS)[0] if started else INBOUND
        if op == INBOUND:
            inbound_left = max(1.0, 0.4 * (start_until - index))
            if unstarted and (not started or rng.random() < len(unstarted) / inbound_left):
                conversation = unstarted.pop()
                step = Step(INBOUND, conversation, NOBODY, NOBODY, at)
                open_[conversation] = True
                started.append(conversation)
                first_steps.append(step)
                steps.append(step)
                stats["started"] += 1
                continue
        conversation = rng.choice(started)
        members = account.members[account.inbox_of[conversation]]
        assigned = assignees[conversation]
        actor = ADMIN if rng.random() < ADMIN_ACTS else rng.choice(members)
        target = NOBODY
        if op == INBOUND:
            actor = NOBODY
            if open_[conversation]:
                stats["inbound to open"] += 1
            elif at < closed_at[conversation] + WEEK_US:
                stats["reopened within window"] += 1
                open_[conversation] = True
            else:
                stats["reopened after window"] += 1
                open_[conversation] = True
                if assigned:
                    stats["reopened after window, assignees dropped"] += 1
                assigned.clear()
        elif op == ASSIGN:
            free = [user for user in members if user not in assigned]
            target = rng.choice(free) if free and rng.random() < 0.9 else rng.choice(members)
            stats["assign (no-op: already assigned)" if target in assigned else "assign"] += 1
            assigned.add(target)
        elif op == UNASSIGN:
            target = rng.choice(sorted(assigned)) if assigned else rng.choice(members)
            stats["unassign" if target in assigned else "unassign (no-op: not assigned)"] += 1
            assigned.discard(target)
        elif op == CLOSE:
            if open_[conversation]:
                stats["close"] += 1
                open_[conversation] = False
                closed_at[conversation] = at
            else:
                stats["close (no-op: already closed)"] += 1
        steps.append(Step(op, conversation, actor, target, at))

    for op, count in Counter(step.op for step in steps).items():
        stats[f"op {OP_NAMES[op]}"] = count
    status = ["none" if state is None else "open" if state else "closed" for state in open_]
    stats["final open"] = status.count("open")
    stats["final closed"] = status.count("closed")
    stats["never started"] = status.count("none")
    return Stream(
        seed,
        account,
        steps,
        first_steps,
        status,
        [frozenset(users_) for users_ in assignees],
        dict(sorted(stats.items())),
    )


def describe(stream: Stream) -> str:
    """A short account of the stream, for the benchmark's output."""
    stats = stream.stats
    ops = ", ".join(f"{name} {stats.get(f'op {name}', 0)}" for name in OP_NAMES)
    return (
        f"{len(stream.steps)} events over {stream.directory.conversations} conversations "
        f"({stats.get('never started', 0)} never started), {stream.directory.users} users, "
        f"{stream.directory.inboxes} inboxes, seed {stream.seed}, spanning "
        f"{stream.span_us / DAY_US:.1f} days\n"
        f"commands: {ops}\n"
        f"closes: {stats.get('close', 0)} (+{stats.get('close (no-op: already closed)', 0)} no-op); "
        f"inbound to a closed conversation: {stats.get('reopened within window', 0)} within the 7-day "
        f"window, {stats.get('reopened after window', 0)} after it "
        f"({stats.get('reopened after window, assignees dropped', 0)} of which dropped assignees)\n"
        f"final: {stats.get('final open', 0)} open, {stats.get('final closed', 0)} closed"
    )


if __name__ == "__main__":
    print(describe(build()))

"""The engines that run the same stream, from everything convostate does to the least anyone could do.

Each engine translates the stream's integer steps into its own vocabulary once, before timing (ids, actors
and instants are what a host already holds when a request arrives), then ``run`` feeds it every step in
order. Every engine creates a conversation when it sees that conversation's first inbound message, inside
the timed loop, and reads the same steps; what each one does with a step is listed in its ``models``.

- ``facade``: :class:`convostate.Helpdesk` on the memory store: checks the actor and input, loads, decides,
  evolves, appends with optimistic concurrency, keeps the event log and updates the tab index.
- ``decide/evolve``: the pure core alone: builds the command and a ``DecisionContext``, calls ``decide``
  and folds the events with ``evolve``, keeping states in a dict keyed by conversation id.
- ``FastCore``: the fused write path (:class:`convostate.FastCore`): the same rules, run in place, its
  methods called with the ids and aware instants the core's commands take.
- ``transitions``: one shared ``Machine(model=None, auto_transitions=False)``; ``add_model`` per
  conversation; status, close time and assignees only.
- ``python-statemachine``: a ``StateMachine`` subclass, one instance per conversation (its documented way);
  status, close time and assignees only.
- ``dict floor``: hand-written dicts of status, close time and assignees.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

import pendulum
from statemachine import State, StateMachine
from stream import (
    ASSIGN,
    CLOSE,
    INBOUND,
    NOBODY,
    OP_NAMES,
    READ,
    REPLY,
    STAR,
    UNASSIGN,
    UNREAD,
    WEEK_US,
    Directory,
    Step,
    Stream,
)
from transitions import Machine

from convostate import (
    AccountSettings,
    Actor,
    CalendarDuration,
    ContactId,
    Conversation,
    ConversationId,
    FastCore,
    Helpdesk,
    Inbox,
    InboxId,
    MessageId,
    Role,
    Status,
    Store,
    UserId,
)
from convostate.core import (
    Assign,
    Close,
    DecisionContext,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    SendReply,
    Star,
    Unassign,
    Unstar,
    decide,
    evolve,
)
from convostate.testing import ManualClock, SequentialIds

try:  # Since the rules engine, reopening on inbound is a default rule that the pure core runs in handle().
    from convostate.rules import DEFAULT_RULES, handle
except ImportError:  # Before it, decide() reopened on its own.
    DEFAULT_RULES = handle = None

EPOCH: Final = pendulum.datetime(2026, 1, 5, tz="UTC")
"""The instant the stream starts (a Monday)."""
BODY: Final = "Hello, is my order on its way?"
REPLY_BODY: Final = "It left the warehouse this morning."

ALL_COMMANDS: Final = "all 9 commands"
STATUS_ONLY: Final = "inbound, close, assign, unassign (reply, read, unread, star, unstar: skipped)"


class Engine(abc.ABC):
    """One way of running the stream. ``reset`` (untimed) makes a fresh, empty account; ``run`` is timed."""

    name: ClassVar[str]
    models: ClassVar[str]
    """What the engine does with the stream's commands."""
    tracks_assignees: ClassVar[bool] = True
    acts_on: ClassVar[frozenset[int]] = frozenset(range(len(OP_NAMES)))
    """The commands the engine does something with; it reads and skips the others."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.reset()
        self.steps: Sequence[Any] = self.translate(stream.steps)
        self.first_steps: Sequence[Any] = self.translate(stream.first_steps)

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget every conversation: a fresh account with the stream's users and inboxes."""

    @abc.abstractmethod
    def translate(self, steps: Sequence[Step]) -> Sequence[Any]:
        """The steps in this engine's own vocabulary (built before timing)."""

    @abc.abstractmethod
    def run(self, steps: Sequence[Any]) -> None:
        """Process ``steps`` (translated) in order."""

    @abc.abstractmethod
    def statuses(self) -> list[str]:
        """For each conversation: ``open``, ``closed``, or ``none`` if it never started."""

    @abc.abstractmethod
    def assignees(self) -> list[frozenset[int]]:
        """For each conversation, its assignees as user indexes (empty if it never started)."""


def instants(steps: Sequence[Step]) -> list[pendulum.DateTime]:
    """The steps' times as aware UTC instants, for the engines that take datetimes."""
    return [EPOCH.add(microseconds=step.at) for step in steps]


# ---------------------------------------------------------------------------------------------- convostate


class StreamClock:
    """A :class:`convostate.Clock` that reads the current step's instant.

    A host's clock is ``SystemClock`` (``pendulum.now("UTC")``, about 1 µs here); ``ManualClock.set`` checks
    every instant it is given (2.4 µs at 913843f, 0.6 µs at 8f8d7b1). This clock costs nothing, so the
    figures are the library's own. ``run.py --manual-clock`` uses ``ManualClock.set`` instead.
    """

    __slots__ = ("instant",)

    def __init__(self, instant: pendulum.DateTime) -> None:
        self.instant = instant

    def now(self) -> pendulum.DateTime:
        return self.instant


class Account:
    """The users, inboxes and contacts of a fresh Helpdesk, by the stream's indexes."""

    def __init__(self, helpdesk: Helpdesk, directory: Directory, *, contacts: bool = True) -> None:
        admin = helpdesk.add_user("Ada Admin", "admin@example.com", role=Role.ADMIN)
        helpdesk.update_settings(by=admin.id, timezone="UTC", reopen_window=CalendarDuration(weeks=1))
        agents = [
            helpdesk.add_user(f"Agent {n}", f"agent{n}@example.com", by=admin.id).id
            for n in range(1, directory.users)
        ]
        self.users: list[UserId] = [admin.id, *agents]
        self.inboxes: list[Inbox] = [
            helpdesk.add_inbox(f"Inbox {n}", members=[self.users[user] for user in members], by=admin.id)
            for n, members in enumerate(directory.members)
        ]
        self.contacts: list[ContactId] = [
            helpdesk.add_contact(name=f"Contact {n}", phone=f"+1555{n:07d}").id
            for n in range(directory.conversations if contacts else 0)
        ]
        self.user_index = {user: n for n, user in enumerate(self.users)}


class FacadeEngine(Engine):
    name = "convostate facade"
    models = ALL_COMMANDS + " through Helpdesk on the memory store (event log, tab index)"

    def __init__(
        self, stream: Stream, *, manual_clock: bool = False, store: Callable[[], Store] | None = None
    ) -> None:
        self.manual_clock = manual_clock
        self.new_store = store
        """Makes the empty store of every fresh account (None: the memory store)."""
        super().__init__(stream)

    def reset(self) -> None:
        self.clock: StreamClock | ManualClock = (
            ManualClock(EPOCH) if self.manual_clock else StreamClock(EPOCH)
        )
        store = self.new_store() if self.new_store is not None else None
        self.helpdesk = Helpdesk(store=store, clock=self.clock, ids=SequentialIds())
        account = Account(self.helpdesk, self.stream.directory)
        if hasattr(self, "account"):  # sequential ids: every fresh account has the same ids
            assert account.users == self.account.users
            assert account.contacts == self.account.contacts
        self.account = account
        self.conversation_ids: list[ConversationId | None] = [None] * self.stream.directory.conversations

    def translate(self, steps: Sequence[Step]) -> Sequence[Any]:
        users, contacts = self.account.users, self.account.contacts
        inbox_ids = [inbox.id for inbox in self.account.inboxes]
        inbox_of = self.stream.directory.inbox_of
        return [
            (
                step.op,
                step.conversation,
                contacts[step.conversation],
                inbox_ids[inbox_of[step.conversation]],
                None if step.actor == NOBODY else users[step.actor],
                None if step.target == NOBODY else users[step.target],
                at,
            )
            for step, at in zip(steps, instants(steps), strict=True)
        ]

    def run(self, steps: Sequence[Any]) -> None:
        helpdesk, clock, conversations = self.helpdesk, self.clock, self.conversation_ids
        manual = isinstance(clock, ManualClock)
        for op, n, contact, inbox, actor, target, at in steps:
            if manual:
                clock.set(at)  # type: ignore[union-attr]
            else:
                clock.instant = at  # type: ignore[union-attr]
            if op == INBOUND:
                outcome = helpdesk.receive(contact, inbox, BODY)
                if conversations[n] is None:
                    conversations[n] = outcome.conversation.id
            elif op == REPLY:
                helpdesk.reply(conversations[n], REPLY_BODY, by=actor)  # type: ignore[arg-type]
            elif op == ASSIGN:
                helpdesk.assign(conversations[n], target, by=actor)  # type: ignore[arg-type]
            elif op == UNASSIGN:
                helpdesk.unassign(conversations[n], target, by=actor)  # type: ignore[arg-type]
            elif op == CLOSE:
                helpdesk.close(conversations[n], by=actor)  # type: ignore[arg-type]
            elif op == READ:
                helpdesk.mark_read(conversations[n], by=actor)  # type: ignore[arg-type]
            elif op == UNREAD:
                helpdesk.mark_unread(conversations[n], by=actor)  # type: ignore[arg-type]
            elif op == STAR:
                helpdesk.star(conversations[n], by=actor)  # type: ignore[arg-type]
            else:
                helpdesk.unstar(conversations[n], by=actor)  # type: ignore[arg-type]

    def _states(self) -> list[Conversation | None]:
        return [None if cid is None else self.helpdesk.conversation(cid) for cid in self.conversation_ids]

    def statuses(self) -> list[str]:
        return [_status(state) for state in self._states()]

    def assignees(self) -> list[frozenset[int]]:
        index = self.account.user_index
        return [
            frozenset() if state is None else frozenset(index[user] for user in state.assignees)
            for state in self._states()
        ]


class BatchEngine(FacadeEngine):
    """The facade's batch (``Helpdesk.batch()``), as a host importing history uses it: every step with its
    instant (``at=``), committed every ``COMMIT_EVERY`` steps and at the end."""

    name = "convostate batch"
    models = ALL_COMMANDS + " through Helpdesk.batch() on the memory store, a commit per 10,000 steps"
    COMMIT_EVERY: ClassVar[int] = 10_000

    def run(self, steps: Sequence[Any]) -> None:
        conversations, every = self.conversation_ids, self.COMMIT_EVERY
        batch = self.helpdesk.batch()
        for done, (op, n, contact, inbox, actor, target, at) in enumerate(steps, 1):
            if op == INBOUND:
                outcome = batch.receive(contact, inbox, BODY, at=at)
                if conversations[n] is None:
                    conversations[n] = outcome.conversation.id
            elif op == REPLY:
                batch.reply(conversations[n], REPLY_BODY, by=actor, at=at)  # type: ignore[arg-type]
            elif op == ASSIGN:
                batch.assign(conversations[n], target, by=actor, at=at)  # type: ignore[arg-type]
            elif op == UNASSIGN:
                batch.unassign(conversations[n], target, by=actor, at=at)  # type: ignore[arg-type]
            elif op == CLOSE:
                batch.close(conversations[n], by=actor, at=at)  # type: ignore[arg-type]
            elif op == READ:
                batch.mark_read(conversations[n], by=actor, at=at)  # type: ignore[arg-type]
            elif op == UNREAD:
                batch.mark_unread(conversations[n], by=actor, at=at)  # type: ignore[arg-type]
            elif op == STAR:
                batch.star(conversations[n], by=actor, at=at)  # type: ignore[arg-type]
            else:
                batch.unstar(conversations[n], by=actor, at=at)  # type: ignore[arg-type]
            if done % every == 0:
                batch.commit()
        batch.commit()


def _status(state: Conversation | None) -> str:
    if state is None:
        return "none"
    return "open" if state.status is Status.OPEN else "closed"


class DeciderEngine(Engine):
    """The pure core with no store: ``decide`` and ``evolve`` (through ``handle`` with the default rules, in
    versions that have a rules engine), states in a dict keyed by conversation id."""

    name = "convostate decide/evolve" + (" + rules" if handle is not None else "")
    models = ALL_COMMANDS + (
        ": command + DecisionContext + handle(decide, evolve, default rules), states in a dict"
        if handle is not None
        else ": command + DecisionContext + decide + evolve, states in a dict"
    )

    def reset(self) -> None:
        directory = self.stream.directory
        self.users = [UserId(f"user-{n}") for n in range(directory.users)]
        self.actors = [Actor.user(user) for user in self.users]
        self.inboxes = [
            Inbox.multi_user(
                InboxId(f"inbox-{n}"), f"Inbox {n}", frozenset(self.users[user] for user in members)
            )
            for n, members in enumerate(directory.members)
        ]
        self.settings = AccountSettings(timezone="UTC", reopen_window=CalendarDuration(weeks=1))
        self.conversation_ids = [ConversationId(f"conversation-{n}") for n in range(directory.conversations)]
        self.states: dict[ConversationId, Conversation] = {}

    def translate(self, steps: Sequence[Step]) -> Sequence[Any]:
        inbox_of = self.stream.directory.inbox_of
        return [
            (
                step.op,
                self.conversation_ids[step.conversation],
                self.inboxes[inbox_of[step.conversation]],
                ContactId(f"contact-{step.conversation}"),
                MessageId(f"message-{n}") if step.op in (INBOUND, REPLY) else None,
                None if step.actor == NOBODY else self.users[step.actor],
                None if step.actor == NOBODY else self.actors[step.actor],
                None if step.target == NOBODY else self.users[step.target],
                at,
            )
            for n, (step, at) in enumerate(zip(steps, instants(steps), strict=True))
        ]

    def run(self, steps: Sequence[Any]) -> None:
        states, settings, rules = self.states, self.settings, DEFAULT_RULES
        for op, cid, inbox, contact, message, user, actor, target, at in steps:
            command: Any
            if op == INBOUND:
                command = ReceiveMessage(cid, inbox.id, contact, message, BODY)
            elif op == REPLY:
                command = SendReply(cid, message, REPLY_BODY, actor)
            elif op == ASSIGN:
                command = Assign(cid, target, actor)
            elif op == UNASSIGN:
                command = Unassign(cid, target, actor)
            elif op == CLOSE:
                command = Close(cid, actor)
            elif op == READ:
                command = MarkRead(cid, user, actor)
            elif op == UNREAD:
                command = MarkUnread(cid, user, actor)
            elif op == STAR:
                command = Star(cid, user, actor)
            else:
                command = Unstar(cid, user, actor)
            state = states.get(cid)
            context = DecisionContext(at, settings, inbox=inbox)
            if rules is not None:
                handled = handle(state, command, context, rules)
                if handled.events:
                    states[cid] = handled.state
                continue
            events = decide(state, command, context)
            if events:
                for event in events:
                    state = evolve(state, event)
                states[cid] = state  # type: ignore[assignment]

    def _state(self, cid: ConversationId) -> Conversation | None:
        return self.states.get(cid)

    def statuses(self) -> list[str]:
        return [_status(self._state(cid)) for cid in self.conversation_ids]

    def assignees(self) -> list[frozenset[int]]:
        index = {user: n for n, user in enumerate(self.users)}
        result: list[frozenset[int]] = []
        for cid in self.conversation_ids:
            state = self._state(cid)
            result.append(frozenset() if state is None else frozenset(index[u] for u in state.assignees))
        return result


# ---------------------------------------------------------------------------------------------- the peers


class _PeerEngine(Engine):
    """The peers and the floor read the stream's integer steps as they are: times in microseconds."""

    models = STATUS_ONLY
    acts_on = frozenset({INBOUND, CLOSE, ASSIGN, UNASSIGN})

    def translate(self, steps: Sequence[Step]) -> Sequence[Any]:
        return [(step.op, step.conversation, step.target, step.at) for step in steps]


class TransitionsConversation:
    """The model object that ``transitions`` decorates with ``state``, ``close()`` and ``inbound()``."""

    def __init__(self) -> None:
        self.closed_at = 0
        self.assignees: set[int] = set()

    def within_window(self, now: int) -> bool:
        return now < self.closed_at + WEEK_US

    def record_close(self, now: int) -> None:
        self.closed_at = now

    def drop_assignees(self, now: int) -> None:
        self.assignees.clear()


def transitions_machine() -> Machine:
    return Machine(
        model=None,
        states=["open", "closed"],
        transitions=[
            {"trigger": "close", "source": "open", "dest": "closed", "after": "record_close"},
            {"trigger": "inbound", "source": "closed", "dest": "open", "conditions": "within_window"},
            {
                "trigger": "inbound",
                "source": "closed",
                "dest": "open",
                "unless": "within_window",
                "after": "drop_assignees",
            },
        ],
        initial="open",
        auto_transitions=False,
        # Closing a closed conversation, or a message to an open one, changes nothing and is no error.
        ignore_invalid_triggers=True,
    )


class TransitionsEngine(_PeerEngine):
    name = "transitions"

    def reset(self) -> None:
        self.machine = transitions_machine()
        self.conversations: dict[int, Any] = {}

    def run(self, steps: Sequence[Any]) -> None:
        machine, conversations = self.machine, self.conversations
        for op, n, target, at in steps:
            if op == INBOUND:
                conversation = conversations.get(n)
                if conversation is None:
                    conversation = TransitionsConversation()
                    machine.add_model(conversation)
                    conversations[n] = conversation
                else:
                    conversation.inbound(now=at)
            elif op == CLOSE:
                conversations[n].close(now=at)
            elif op == ASSIGN:
                conversations[n].assignees.add(target)
            elif op == UNASSIGN:
                conversations[n].assignees.discard(target)

    def statuses(self) -> list[str]:
        found = self.conversations
        return [found[n].state if n in found else "none" for n in range(self.stream.directory.conversations)]

    def assignees(self) -> list[frozenset[int]]:
        found = self.conversations
        return [
            frozenset(found[n].assignees) if n in found else frozenset()
            for n in range(self.stream.directory.conversations)
        ]


class StatemachineConversation:
    """The model a ``ConversationMachine`` keeps its state in (``state``) and calls back."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.closed_at = 0
        self.assignees: set[int] = set()

    def within_window(self, now: int) -> bool:
        return now < self.closed_at + WEEK_US

    def record_close(self, now: int) -> None:
        self.closed_at = now

    def drop_assignees(self) -> None:
        self.assignees.clear()


class ConversationMachine(StateMachine):  # type: ignore[type-arg]
    # Closing a closed conversation, or a message to an open one, changes nothing and is no error.
    allow_event_without_transition = True

    open = State(initial=True)
    closed = State()

    close = open.to(closed, after="record_close")
    inbound = closed.to(open, cond="within_window") | closed.to(
        open, unless="within_window", after="drop_assignees"
    )


class StatemachineEngine(_PeerEngine):
    name = "python-statemachine"

    def reset(self) -> None:
        self.conversations: dict[int, ConversationMachine] = {}

    def run(self, steps: Sequence[Any]) -> None:
        conversations = self.conversations
        for op, n, target, at in steps:
            if op == INBOUND:
                machine = conversations.get(n)
                if machine is None:
                    conversations[n] = ConversationMachine(StatemachineConversation())
                else:
                    machine.inbound(now=at)
            elif op == CLOSE:
                conversations[n].close(now=at)
            elif op == ASSIGN:
                conversations[n].model.assignees.add(target)
            elif op == UNASSIGN:
                conversations[n].model.assignees.discard(target)

    def statuses(self) -> list[str]:
        found = self.conversations
        return [
            str(found[n].model.state) if n in found else "none"
            for n in range(self.stream.directory.conversations)
        ]

    def assignees(self) -> list[frozenset[int]]:
        found = self.conversations
        return [
            frozenset(found[n].model.assignees) if n in found else frozenset()
            for n in range(self.stream.directory.conversations)
        ]


class DictFloorEngine(_PeerEngine):
    name = "dict floor"

    def reset(self) -> None:
        self.open: dict[int, bool] = {}
        self.closed_at: dict[int, int] = {}
        self.assigned: dict[int, set[int]] = {}

    def run(self, steps: Sequence[Any]) -> None:
        is_open, closed_at, assigned = self.open, self.closed_at, self.assigned
        for op, n, target, at in steps:
            if op == INBOUND:
                state = is_open.get(n)
                if state is None:
                    is_open[n] = True
                    assigned[n] = set()
                elif not state:
                    is_open[n] = True
                    if at >= closed_at[n] + WEEK_US:
                        assigned[n].clear()
            elif op == CLOSE:
                if is_open[n]:
                    is_open[n] = False
                    closed_at[n] = at
            elif op == ASSIGN:
                assigned[n].add(target)
            elif op == UNASSIGN:
                assigned[n].discard(target)

    def statuses(self) -> list[str]:
        return [
            "none" if n not in self.open else "open" if self.open[n] else "closed"
            for n in range(self.stream.directory.conversations)
        ]

    def assignees(self) -> list[frozenset[int]]:
        return [frozenset(self.assigned.get(n, ())) for n in range(self.stream.directory.conversations)]


class FastCoreEngine(DeciderEngine):
    """``convostate.FastCore``: the fused write path, the same rules as the pure core run in place, on the
    same account as ``DeciderEngine``."""

    name = "convostate FastCore"
    models = ALL_COMMANDS + ": FastCore's methods with ids and aware instants, states and events kept"

    def reset(self) -> None:
        super().reset()
        self.fast = FastCore(self.inboxes, settings=self.settings)

    def translate(self, steps: Sequence[Step]) -> Sequence[Any]:
        inbox_of = self.stream.directory.inbox_of
        return [
            (
                step.op,
                self.conversation_ids[step.conversation],
                self.inboxes[inbox_of[step.conversation]].id,
                ContactId(f"contact-{step.conversation}"),
                None if step.actor == NOBODY else self.users[step.actor],
                None if step.target == NOBODY else self.users[step.target],
                at,
            )
            for step, at in zip(steps, instants(steps), strict=True)
        ]

    def run(self, steps: Sequence[Any]) -> None:
        fast = self.fast
        receive, reply, close = fast.receive, fast.reply, fast.close
        assign, unassign, star, unstar = fast.assign, fast.unassign, fast.star, fast.unstar
        mark_read, mark_unread = fast.mark_read, fast.mark_unread
        for op, cid, inbox, contact, user, target, at in steps:
            if op == INBOUND:
                receive(cid, inbox, contact, BODY, at=at)
            elif op == REPLY:
                reply(cid, REPLY_BODY, by=user, at=at)
            elif op == ASSIGN:
                assign(cid, target, by=user, at=at)
            elif op == UNASSIGN:
                unassign(cid, target, by=user, at=at)
            elif op == CLOSE:
                close(cid, by=user, at=at)
            elif op == READ:
                mark_read(cid, by=user, at=at)
            elif op == UNREAD:
                mark_unread(cid, by=user, at=at)
            elif op == STAR:
                star(cid, by=user, at=at)
            else:
                unstar(cid, by=user, at=at)

    def _state(self, cid: ConversationId) -> Conversation | None:
        return self.fast.conversation(cid) if cid in self.fast else None


ENGINES: Final[dict[str, type[Engine]]] = {
    "facade": FacadeEngine,
    "batch": BatchEngine,
    "decider": DeciderEngine,
    "fast": FastCoreEngine,
    "transitions": TransitionsEngine,
    "statemachine": StatemachineEngine,
    "dict": DictFloorEngine,
}
"""By the short names ``run.py --engines`` takes, in the order they run; ratios are to ``transitions``."""


def disagreements(stream: Stream, engine: Engine) -> list[str]:
    """How ``engine``'s final statuses and assignees differ from the stream's reference (empty: agree)."""
    found: list[str] = []
    statuses = engine.statuses()
    assignees = engine.assignees() if engine.tracks_assignees else None
    for n in range(stream.directory.conversations):
        if statuses[n] != stream.expected_status[n]:
            found.append(f"conversation {n}: status {statuses[n]}, expected {stream.expected_status[n]}")
        if assignees is not None and assignees[n] != stream.expected_assignees[n]:
            found.append(
                f"conversation {n}: assignees {sorted(assignees[n])}, "
                f"expected {sorted(stream.expected_assignees[n])}"
            )
    return found

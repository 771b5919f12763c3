"""Properties of the rules engine, over rule sets and command streams that Hypothesis draws.

(a) Any valid rule set, over any stream of commands, clock moves and sweeps, through a ``Helpdesk``: a valid
    command is refused only with a ``ConvostateError`` it can meet here (a ``RuleLoop``, a non-member, a
    single-user inbox, a permission), never anything else, and like any refused command it leaves the store
    exactly as it was; a sweep always ends and never raises, reporting what it could not settle; and every
    stored conversation is still what replaying its events gives.
(b) Sweeping at any times while the clock only moves on ends in the same conversations and histories as
    sweeping once at the end: a timer acts as of the instant it was due, whenever it is swept.

Rules are drawn from the vocabulary itself (every field, operator, trigger and action), with values of the
right type, so that every drawn rule is one a host could write. Each example stays well under the time a
``ci`` run (500 examples per property) can afford.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pendulum
from hypothesis import event, given, note
from hypothesis import strategies as st

from convostate import (
    ContactId,
    ConversationId,
    ConvostateError,
    Helpdesk,
    InboxId,
    MemoryStore,
    NotAMember,
    Outcome,
    PermissionDenied,
    Role,
    RuleLoop,
    SingleUserInbox,
    UserId,
)
from convostate._core.rules.model import EVENT_TYPES, REOPEN_WINDOW, Condition, ConditionTree
from convostate._core.rules.vocabulary import FIELDS, NO_VALUE, OPERATORS, TIME_FIELDS, ValueType
from convostate.core import replay
from convostate.rules import (
    DEFAULT_RULES,
    Action,
    ActionKind,
    AfterTime,
    AllOf,
    AnyOf,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    all_of,
    when,
)
from convostate.testing import ManualClock, SequentialIds
from tests.strategies import clock_steps

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")

ADMIN, ANA, BO, CY = (UserId(f"user-{n}") for n in range(1, 5))
"""Ids as SequentialIds hands them out: Alex the admin, Ana and Bo (members of Support), Cy (no inbox)."""
RULE_USERS = ("user-1", "user-2", "user-3", "user-4", "user-9")
"""Users a drawn rule may name: the members, one who is not a member, and one who does not exist."""
SUPPORT, ANAS_LINE = InboxId("inbox-1"), InboxId("inbox-2")
CONTACTS = (ContactId("contact-1"), ContactId("contact-2"))

TEXTS = ("vip", "hi", "refund", "Maria", "user-2", "inbox-1", "MessageReceived", "contact", "")
COMMON_EVENTS = ("ConversationStarted", "MessageReceived", "MessageSent", "Assigned", "Closed", "Reopened")
"""Events that most streams have, drawn more often so that drawn rules often run."""
DURATIONS = ("PT0S", "PT1H", "PT24H", "P1D", "P3D", REOPEN_WINDOW)


# ---------------------------------------------------------------- rules drawn from the vocabulary


def _values(field_name: str, op: str) -> st.SearchStrategy[Any]:
    """Values of the type ``op`` compares ``field_name`` with."""
    described = FIELDS[field_name]
    if op in NO_VALUE:
        return st.none()
    expected = OPERATORS[op].value or described.type
    if expected is ValueType.DURATION:
        return st.sampled_from(DURATIONS)
    if expected is ValueType.BOOL:
        return st.booleans()
    if expected is ValueType.NUMBER:
        return st.integers(min_value=-1, max_value=3)
    words = described.choices or TEXTS + RULE_USERS
    if expected is ValueType.SET:
        return st.lists(st.sampled_from(words), max_size=3)
    return st.sampled_from(words)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    name = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(
        st.sampled_from(sorted(o for o, spec in OPERATORS.items() if FIELDS[name].type in spec.applies_to))
    )
    return when(name, op, draw(_values(name, op)))


condition_trees: st.SearchStrategy[ConditionTree] = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda found: AllOf(tuple(found))),
        st.lists(children, max_size=3).map(lambda found: AnyOf(tuple(found))),
        children.map(Not),
    ),
    max_leaves=4,
)

_users = st.sampled_from(RULE_USERS)
ACTIONS: dict[ActionKind, st.SearchStrategy[Action]] = {
    ActionKind.ASSIGN: _users.map(Action.assign),
    ActionKind.UNASSIGN: st.sampled_from((*RULE_USERS, "all")).map(Action.unassign),
    ActionKind.ASSIGN_ROUND_ROBIN: st.lists(_users, min_size=1, max_size=3).map(Action.assign_round_robin),
    ActionKind.CLOSE: st.just(Action.close()),
    ActionKind.REOPEN: st.just(Action.reopen()),
    ActionKind.STAR: st.sampled_from((*RULE_USERS, "assignees")).map(Action.star),
    ActionKind.UNSTAR: st.sampled_from((*RULE_USERS, "assignees")).map(Action.unstar),
    ActionKind.MARK_READ: st.sampled_from((*RULE_USERS, "everyone")).map(Action.mark_read),
    ActionKind.MARK_UNREAD: st.sampled_from((*RULE_USERS, "everyone")).map(Action.mark_unread),
    ActionKind.SNOOZE: st.sampled_from(DURATIONS).map(Action.snooze),
    ActionKind.UNSNOOZE: st.just(Action.unsnooze()),
    ActionKind.OPEN_LINKED_CONVERSATION: st.just(Action.open_linked_conversation()),
}
actions = st.one_of(*ACTIONS.values())


@st.composite
def rules(draw: st.DrawFn, rule_id: str) -> Rule:
    """A valid rule. A time rule that would never settle is refused when built (by design), so it is drawn
    again as an event rule with the same conditions and actions: every draw is a rule a host could load."""
    event = draw(st.sampled_from(sorted(EVENT_TYPES)) | st.sampled_from(COMMON_EVENTS))
    trigger: OnEvent | AfterTime = OnEvent(event)
    if draw(st.integers(min_value=0, max_value=2)) == 0:  # a third are time rules
        trigger = AfterTime(draw(st.sampled_from(TIME_FIELDS)), draw(st.sampled_from(DURATIONS)))
    chosen = tuple(draw(st.lists(actions, min_size=1, max_size=3)))
    tree = draw(st.just(all_of()) | condition_trees)
    priority = draw(st.integers(min_value=-1, max_value=3))
    enabled = draw(st.booleans() | st.just(True))
    try:
        return Rule(rule_id, trigger, chosen, tree, priority=priority, enabled=enabled)
    except ConvostateError:
        assert isinstance(trigger, AfterTime)  # only the settle check refuses a rule drawn this way
        return Rule(rule_id, OnEvent(event), chosen, tree, priority=priority, enabled=enabled)


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    drawn = [draw(rules(f"rule-{n}")) for n in range(draw(st.integers(min_value=0, max_value=5)))]
    base = DEFAULT_RULES if draw(st.booleans()) else RuleSet(())
    return base.with_rules(*drawn)


# ---------------------------------------------------------------- a helpdesk and commands to run on it


@dataclass
class World:
    helpdesk: Helpdesk
    store: MemoryStore
    clock: ManualClock
    conversations: list[ConversationId] = field(default_factory=list)

    def track(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.conversation.id not in self.conversations:
                self.conversations.append(outcome.conversation.id)
            self.track(outcome.follow_ups)


def build_world(rule_set: RuleSet) -> World:
    clock, store = ManualClock(START), MemoryStore()
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds(), rules=rule_set)
    assert helpdesk.add_user("Alex", "alex@example.com", role=Role.ADMIN).id == ADMIN
    for name in ("Ana", "Bo", "Cy"):
        helpdesk.add_user(name, f"{name.lower()}@example.com", by=ADMIN)
    assert helpdesk.add_inbox("Support", members=[ADMIN, ANA, BO], by=ADMIN).id == SUPPORT
    assert helpdesk.add_single_user_inbox("Ana's line", owner=ANA, by=ADMIN).id == ANAS_LINE
    assert helpdesk.add_contact(name="Maria").id == CONTACTS[0]
    assert helpdesk.add_contact(name="Nico").id == CONTACTS[1]
    return World(helpdesk, store, clock)


_people = st.sampled_from((ADMIN, ANA, BO, CY))
_which = st.integers(min_value=0, max_value=7)
steps = st.one_of(
    st.tuples(
        st.just("receive"),
        st.sampled_from(CONTACTS),
        st.sampled_from((SUPPORT, ANAS_LINE)),
        st.text("hi vip", max_size=6),
    ),
    st.tuples(st.just("reply"), _which, _people),
    st.tuples(st.sampled_from(("assign", "unassign")), _which, _people, _people),
    st.tuples(
        st.sampled_from(("close", "reopen", "star", "unstar", "mark_read", "mark_unread", "unsnooze")),
        _which,
        _people,
    ),
    st.tuples(st.just("snooze"), _which, _people, st.integers(min_value=1, max_value=72)),
    st.tuples(st.just("advance"), clock_steps),
    st.tuples(st.just("run_due")),
)

OPENING: list[tuple[Any, ...]] = [
    ("receive", CONTACTS[0], SUPPORT, "hi"),
    ("receive", CONTACTS[1], SUPPORT, "vip"),
    ("receive", CONTACTS[0], ANAS_LINE, "refund"),
]
"""Every stream starts with three conversations, two in Support and one in Ana's line, for rules to act on."""

EXPECTED_REFUSALS = (RuleLoop, NotAMember, SingleUserInbox, PermissionDenied)
"""What a valid command may be refused with here: a rule loop; assigning Cy, who is no member, or anyone in
Ana's line; Cy acting on a conversation of an inbox he is not in."""


def run_step(world: World, step: tuple[Any, ...]) -> None:
    helpdesk, kind = world.helpdesk, step[0]
    if kind == "advance":
        world.clock.advance(step[1])
        return
    if kind == "run_due":
        sweep = helpdesk.run_due()
        world.track(sweep.acted)
        return
    if kind == "receive":
        world.track([helpdesk.receive(step[1], step[2], f"hi {step[3]}")])
        return
    if not world.conversations:
        return
    conversation, by = world.conversations[step[1] % len(world.conversations)], step[2]
    if kind == "reply":
        outcome = helpdesk.reply(conversation, "On it", by=by)
    elif kind in ("assign", "unassign"):
        outcome = getattr(helpdesk, kind)(conversation, step[3], by=by)
    elif kind == "snooze":
        outcome = helpdesk.snooze(conversation, world.clock.now().add(hours=step[3]), by=by)
    else:
        outcome = getattr(helpdesk, kind)(conversation, by=by)
    world.track([outcome])


def check_consistent(world: World) -> None:
    for conversation in world.conversations:
        assert replay(world.store.events(conversation)) == world.store.conversation(conversation)


@given(rule_sets(), st.lists(steps, max_size=25))
def test_random_rules_over_random_commands_never_crash_and_never_loop(
    rule_set: RuleSet, stream: list[tuple[Any, ...]]
) -> None:
    world = build_world(rule_set)
    for step in [*OPENING, *stream]:
        note(f"step {step}")
        before = world.store.dump()
        refused: ConvostateError | None = None
        try:
            run_step(world, step)
        except EXPECTED_REFUSALS as error:
            refused = error
        if refused is not None:
            event(f"refused: {type(refused).__name__}")
            assert step[0] != "run_due", f"a sweep must report what it cannot settle, not raise {refused!r}"
            assert world.store.dump() == before, f"{refused!r} left the store changed"
        if isinstance(refused, RuleLoop):
            assert refused.chain, "a rule loop names the rules in it"
            assert {str(rule_id) for rule_id in refused.chain} <= {str(rule.id) for rule in rule_set}
        check_consistent(world)
    by_rules = [e for c in world.conversations for e in world.store.events(c) if e.actor.kind.value == "rule"]
    event(f"conversations: {min(len(world.conversations), 5)}")
    event(f"rules acted: {bool(by_rules)}")


# ---------------------------------------------------------------- sweeping at random times


AUTO_CLOSE = Rule(
    "auto-close-after-silence",
    AfterTime("last_outbound_at", "PT24H"),
    (Action.close(),),
    all_of(when("status", "eq", "open"), when("waiting_on", "eq", "contact")),
)
AUTO_UNASSIGN = Rule(
    "auto-unassign-when-idle",
    AfterTime("last_activity_at", "P2D"),
    (Action.unassign("all"),),
    all_of(when("status", "eq", "open"), when("assignee_count", "gt", 0)),
)
UNSTAR_CLOSED = Rule(
    "unstar-a-day-after-closing",
    AfterTime("closed_at", "P1D"),
    (Action.unstar("assignees"), Action.unstar("user-3")),
    all_of(when("status", "eq", "closed"), when("starred_by", "is_not_empty")),
)
SNOOZE_AUTO_CLOSED = Rule(
    "snooze-what-a-rule-closed",
    OnEvent("Closed"),
    (Action.snooze("PT12H"),),
    when("event.actor", "eq", "rule"),
)
TIMED_RULES = DEFAULT_RULES.with_rules(AUTO_CLOSE, AUTO_UNASSIGN, UNSTAR_CLOSED, SNOOZE_AUTO_CLOSED)

setup_steps = st.one_of(
    st.tuples(
        st.just("receive"), st.sampled_from(CONTACTS), st.sampled_from((SUPPORT, ANAS_LINE)), st.just("")
    ),
    st.tuples(st.just("reply"), _which, st.sampled_from((ANA, BO))),
    st.tuples(st.just("assign"), _which, st.sampled_from((ANA, BO)), st.sampled_from((ANA, BO))),
    st.tuples(st.sampled_from(("close", "star", "mark_read")), _which, st.sampled_from((ANA, BO))),
    st.tuples(st.just("snooze"), _which, st.sampled_from((ANA, BO)), st.integers(min_value=1, max_value=96)),
    st.tuples(
        st.just("advance"),
        st.sampled_from((timedelta(minutes=30), timedelta(hours=5), timedelta(hours=23), timedelta(days=1))),
    ),
)


def _set_up(setup: list[tuple[Any, ...]]) -> World:
    """Three conversations (one replied to, one assigned to Bo and starred), then ``setup``, with no sweep:
    every timer is left for the sweeps under test."""
    world = build_world(TIMED_RULES)
    for step in [*OPENING, ("reply", 0, ANA), ("assign", 1, BO, BO), ("star", 1, BO), *setup]:
        with contextlib.suppress(NotAMember, SingleUserInbox, PermissionDenied):
            run_step(world, step)
    return world


def _everything(world: World) -> dict[ConversationId, tuple[object, ...]]:
    return {
        conversation: (world.store.conversation(conversation), tuple(world.store.events(conversation)))
        for conversation in world.conversations
    }


@given(
    st.lists(setup_steps, max_size=12),
    st.lists(st.integers(min_value=0, max_value=8 * 24 * 60), max_size=6),
    st.integers(min_value=0, max_value=8 * 24 * 60) | st.sampled_from((24 * 60, 2 * 24 * 60, 5 * 24 * 60)),
)
def test_sweeping_at_random_times_ends_where_sweeping_once_at_the_end_does(
    setup: list[tuple[Any, ...]], sweeps: list[int], horizon: int
) -> None:
    often, once = _set_up(setup), _set_up(setup)
    assert _everything(often) == _everything(once)
    start = often.clock.now()
    end = start.add(minutes=horizon)

    for minutes in sorted(sweeps):
        if minutes <= horizon:
            often.clock.set(start.add(minutes=minutes))
            sweep = often.helpdesk.run_due()
            note(f"sweep at {often.clock.now()}: {len(sweep.acted)} acted, {len(sweep.stuck)} stuck")
    often.clock.set(end)
    event(f"timers acted in the last sweep: {min(len(often.helpdesk.run_due().acted), 3)}")
    once.clock.set(end)
    once.helpdesk.run_due()

    assert _everything(often) == _everything(once)
    by_rules = sum(e.actor.kind.value == "rule" for c in once.conversations for e in once.store.events(c))
    event(f"events caused by rules: {min(by_rules, 6)}")
    assert often.helpdesk.due(end.add(years=1), limit=500) == once.helpdesk.due(end.add(years=1), limit=500)


@given(st.sampled_from(sorted(ActionKind, key=lambda kind: kind.value)), st.data())
def test_the_drawn_rules_use_the_whole_vocabulary(kind: ActionKind, data: st.DataObject) -> None:
    """The strategies above draw every field, operator, event, time field and action of the vocabulary, so
    one added to it without a strategy fails here rather than going untested."""
    applicable = {
        op for name in FIELDS for op, spec in OPERATORS.items() if FIELDS[name].type in spec.applies_to
    }
    assert applicable == set(OPERATORS)
    assert set(ACTIONS) == set(ActionKind)
    assert data.draw(ACTIONS[kind]).kind is kind

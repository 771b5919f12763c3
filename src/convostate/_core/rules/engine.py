"""Running rules: after a command, each event may trigger rules whose actions are more commands, decided
and folded in turn, until nothing more happens. Pure, like the decider: the same state, command, context
and rules always give the same events.

Opening a linked conversation reaches beyond the conversation, so the engine returns it as a follow-up
for the application service to carry out. A round-robin assignment needs the rotation's position, which
the store keeps: given a ``rotation``, the engine assigns in the same decision (so a loop it sets off
undoes everything); without one it returns a follow-up.
"""

from __future__ import annotations

import functools
import operator
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeAlias

import attrs
import pendulum

from convostate._core.actors import Actor
from convostate._core.business_hours import BusinessDuration
from convostate._core.commands import (
    Assign,
    Close,
    Command,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate._core.decider import DecisionContext, decide, evolve
from convostate._core.errors import ConvostateError
from convostate._core.events import Assigned, Event, MessageReceived, Unassigned
from convostate._core.ids import ConversationId, MessageId, RuleId, UserId
from convostate._core.model import Availability, Contact, Conversation
from convostate._core.rules.model import (
    REOPEN_WINDOW,
    Action,
    AfterTime,
    AllOf,
    Condition,
    ConditionTree,
    Duration,
    Not,
    OnEvent,
    Rule,
    RuleSet,
)
from convostate._core.rules.vocabulary import FIELDS, ActionKind, Subject
from convostate._core.timing import CalendarDuration

DEFAULT_MAX_DEPTH = 8
"""How many rounds of rules may follow one command before the engine calls it a loop."""


class RuleLoop(ConvostateError):
    """Rules kept triggering each other past the depth limit; the command changed nothing."""

    def __init__(self, chain: Sequence[RuleId]) -> None:
        names = " -> ".join(str(rule_id) for rule_id in chain)
        super().__init__(f"rules kept triggering each other: {names}; change one so that the cycle stops")
        self.chain = tuple(chain)


class Rotation(Protocol):
    def next_in_rotation(self, rule_id: RuleId, size: int) -> int:
        """The next position (0 to size - 1) of a round-robin rule's rotation, advancing it."""
        ...


@attrs.frozen
class OpenLinkedConversation:
    """Follow-up: start a new conversation, linked to ``linked_from``, with the message that triggered it."""

    linked_from: ConversationId
    message: ReceiveMessage
    rule_id: RuleId
    chain: tuple[RuleId, ...] = ()
    """The rules that led here, so the loop guard counts across conversations too."""


@attrs.frozen
class AssignNextInRotation:
    """Follow-up: assign the next of ``users`` in ``rule_id``'s rotation."""

    conversation_id: ConversationId
    users: tuple[str, ...]
    rule_id: RuleId
    chain: tuple[RuleId, ...] = ()


FollowUp = OpenLinkedConversation | AssignNextInRotation


@attrs.frozen
class Handled:
    """What a command did once the rules ran: the state, its new events in order, and follow-ups."""

    state: Conversation | None
    events: tuple[Event, ...]
    follow_ups: tuple[FollowUp, ...] = ()


@attrs.frozen
class Timer:
    """A time rule that will fire for a conversation at ``due_at``, if nothing changes before then."""

    rule_id: RuleId
    due_at: pendulum.DateTime


def handle(
    state: Conversation | None,
    command: Command,
    context: DecisionContext,
    rules: RuleSet,
    *,
    contact: Contact | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    rotation: Rotation | None = None,
    chain: tuple[RuleId, ...] = (),
) -> Handled:
    """Decide ``command``, then run the rules its events trigger, and theirs, up to ``max_depth`` rounds.
    ``chain`` names the rules that caused ``command`` (for a follow-up), so their rounds count too."""
    events = decide(state, command, context)
    return cascade(
        state, events, context, rules, contact=contact, max_depth=max_depth, rotation=rotation, chain=chain
    )


def cascade(
    state: Conversation | None,
    events: Sequence[Event],
    context: DecisionContext,
    rules: RuleSet,
    *,
    contact: Contact | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    chain: tuple[RuleId, ...] = (),
    rotation: Rotation | None = None,
) -> Handled:
    """Fold ``events`` into ``state`` and run the rules they trigger."""
    for event in events:
        state = evolve(state, event)
    # The commonest case first: no rule runs on these events (a reply, an assignment, a star), or none of
    # those that could holds (a message to an open conversation). The tests are pure and no rule has acted
    # yet, so they give the answers (and raise the errors) the loop below would give on the same state.
    # The loop starts at the rule that holds: those before it do not hold on the same state.
    cached = _PLANS.get(id(rules))  # _plan's lookup, inline: this runs for every command
    plan = cached[1] if cached is not None and cached[0] is rules else _plan(rules)
    for first, event in enumerate(events):  # noqa: B007 (where the loop below starts)
        triggered = plan.get(type(event))
        if triggered is None:
            triggered = _triggered(plan, rules, type(event))
        if triggered:
            subject = Subject(state, event, contact)  # type: ignore[arg-type]  # events were folded
            for entry in triggered:
                if entry[1](subject, context):
                    break
            else:
                continue
            skip = triggered.index(entry)  # the loop's own object: found by identity
            break  # a rule holds: run them in order, below
    else:
        return Handled(state, tuple(events))
    recorded = list(events)
    follow_ups: list[FollowUp] = []
    pending = deque((event, chain) for event in events[first:])
    while pending:
        event, causes = pending.popleft()
        assert state is not None
        triggered = plan.get(type(event))
        if triggered is None:
            triggered = _triggered(plan, rules, type(event))
        if skip:
            triggered, skip = triggered[skip:], 0
        if not triggered:
            continue
        subject = Subject(state, event, contact)
        for rule, test in triggered:
            if subject.conversation is not state:
                subject = Subject(state, event, contact)
            if not test(subject, context):
                continue
            state, produced, more = _apply(rule, state, event, context, rotation)
            if more and len(causes) >= max_depth:
                raise RuleLoop((*causes, rule.id))
            follow_ups.extend(
                attrs.evolve(each, chain=(*causes, rule.id)) for each in more if _is_new(each, follow_ups)
            )
            if produced:
                if len(causes) >= max_depth:
                    raise RuleLoop((*causes, rule.id))
                recorded.extend(produced)
                pending.extend((new_event, (*causes, rule.id)) for new_event in produced)
    return Handled(state, tuple(recorded), tuple(follow_ups))


_Plan: TypeAlias = dict[type, tuple[tuple[Rule, "_Test"], ...]]
_PLANS: dict[int, tuple[RuleSet, _Plan]] = {}
"""For each rule set in use, by identity: the rules each event type triggers, with their compiled tests.
Looking a compiled test up by its condition tree (``evaluate``) hashes the tree on every event; this looks
the event's type up once per command. The entry holds the rule set, so its id cannot be reused while
cached; the few sets a process uses stay, and a host that builds a set per command only refills it."""
_MOST_PLANS = 64


def _plan(rules: RuleSet) -> _Plan:
    """The cached plan of ``rules`` (filled per event type by ``_triggered``)."""
    entry = _PLANS.get(id(rules))
    if entry is not None and entry[0] is rules:
        return entry[1]
    if len(_PLANS) >= _MOST_PLANS:
        _PLANS.clear()
    plan: _Plan = {}
    _PLANS[id(rules)] = (rules, plan)
    return plan


def _triggered(plan: _Plan, rules: RuleSet, event_type: type) -> tuple[tuple[Rule, _Test], ...]:
    """The rules ``rules.triggered_by`` gives for ``event_type``, in order, each with its compiled test
    (``evaluate``'s, so the same answers), remembered in ``plan``: a rule set is frozen."""
    triggered = tuple((rule, _compile(rule.conditions)) for rule in rules.triggered_by(event_type.__name__))
    plan[event_type] = triggered
    return triggered


def _is_new(follow_up: FollowUp, follow_ups: list[FollowUp]) -> bool:
    """One linked conversation per message, however many rules ask for it."""
    if not isinstance(follow_up, OpenLinkedConversation):
        return True
    opened = {each.message.conversation_id for each in follow_ups if isinstance(each, OpenLinkedConversation)}
    return follow_up.message.conversation_id not in opened


def fire_timer(
    state: Conversation,
    timer: Timer,
    context: DecisionContext,
    rules: RuleSet,
    *,
    contact: Contact | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    rotation: Rotation | None = None,
) -> Handled:
    """Run a due time rule, if it is still due for this state; nothing otherwise (it already ran, or the
    conversation changed so that it no longer applies). ``context.now`` is when it acts."""
    if timer not in timers(state, rules, context, contact=contact):
        return Handled(state, ())
    rule = rules[timer.rule_id]
    _, produced, follow_ups = _apply(rule, state, None, context, rotation)
    handled = cascade(
        state,
        produced,
        context,
        rules,
        contact=contact,
        max_depth=max_depth,
        chain=(rule.id,),
        rotation=rotation,
    )
    return Handled(handled.state, handled.events, (*follow_ups, *handled.follow_ups))


def timers(
    state: Conversation, rules: RuleSet, context: DecisionContext, *, contact: Contact | None = None
) -> tuple[Timer, ...]:
    """The time rules that will fire for ``state``: each at its field plus its delay, kept only when its
    conditions hold at that instant. Nothing but a new state can change them, so a store keeps them with
    the state and a sweep needs only the ones due."""
    found = []
    for rule in rules.timed():
        trigger = rule.trigger
        assert isinstance(trigger, AfterTime)
        start = getattr(state, trigger.field)
        if start is None:
            continue
        due_at = _end(_window(trigger.delay, context), start, context)
        at_due = attrs.evolve(context, now=due_at)
        if evaluate(rule.conditions, Subject(state, None, contact), at_due):
            found.append(Timer(rule.id, due_at))
    return tuple(found)


@attrs.frozen
class Verdict:
    """Whether a rule matched an event, and why or why not, condition by condition."""

    rule_id: RuleId
    matched: bool
    reasons: tuple[str, ...]


def explain(
    state: Conversation,
    event: Event,
    context: DecisionContext,
    rules: RuleSet,
    *,
    contact: Contact | None = None,
) -> tuple[Verdict, ...]:
    """For each rule, whether ``event`` on ``state`` would trigger it, and the reasons."""
    verdicts = []
    subject = Subject(state, event, contact)
    for rule in rules:
        if not rule.enabled:
            verdicts.append(Verdict(rule.id, False, ("the rule is disabled",)))
            continue
        trigger = rule.trigger
        if not isinstance(trigger, OnEvent):
            verdicts.append(
                Verdict(
                    rule.id,
                    False,
                    (f"it runs on time ({trigger.delay} after {trigger.field}), not on events",),
                )
            )
            continue
        if trigger.event != type(event).__name__:
            verdicts.append(
                Verdict(rule.id, False, (f"it runs on {trigger.event}, not {type(event).__name__}",))
            )
            continue
        reasons: list[str] = []
        explained = _evaluate(rule.conditions, subject, context, reasons)
        matched = evaluate(rule.conditions, subject, context)
        assert explained is matched, f"explain and evaluate disagree on {rule.id}"  # one meaning, two paths
        verdicts.append(Verdict(rule.id, matched, tuple(reasons)))
    return tuple(verdicts)


def evaluate(tree: ConditionTree, subject: Subject, context: DecisionContext) -> bool:
    """Whether ``tree`` holds: the compiled test (see ``_compile``), the same answer ``explain`` gives."""
    return _compile(tree)(subject, context)


_Test: TypeAlias = Callable[[Subject, DecisionContext], bool]


@functools.lru_cache(maxsize=4096)
def _compile(tree: ConditionTree) -> _Test:
    """A condition tree as one closure, built once per tree: rules are evaluated for every event, and
    walking the tree, looking up the field and the operator each time cost more than the comparisons."""
    if isinstance(tree, Condition):
        read, expected, op = FIELDS[tree.field].read, tree.value, tree.op
        if op in ("older_than", "within"):
            older = op == "older_than"

            def in_time(subject: Subject, context: DecisionContext) -> bool:
                actual = read(subject)
                if actual is None:
                    return False
                ends_at = _end(_window(expected, context), actual, context)
                return (context.now >= ends_at) is older

            return in_time
        if op == "eq":  # the commonest operator (every default rule's): ``==`` inline, not a call
            return lambda subject, _: read(subject) == expected
        compare = _OPERATIONS[op]
        return lambda subject, _: compare(read(subject), expected)
    if isinstance(tree, Not):
        inner = _compile(tree.condition)
        return lambda subject, context: not inner(subject, context)
    tests = tuple(_compile(child) for child in tree.conditions)
    if isinstance(tree, AllOf):
        if len(tests) == 2:  # the common shape, without a generator per evaluation
            first, second = tests
            return lambda subject, context: first(subject, context) and second(subject, context)
        return lambda subject, context: all(test(subject, context) for test in tests)
    if len(tests) == 2:
        first, second = tests
        return lambda subject, context: first(subject, context) or second(subject, context)
    return lambda subject, context: any(test(subject, context) for test in tests)


def _evaluate(
    tree: ConditionTree, subject: Subject, context: DecisionContext, reasons: list[str] | None
) -> bool:
    if isinstance(tree, Condition):
        return _check(tree, subject, context, reasons)
    if isinstance(tree, Not):
        inner: list[str] | None = [] if reasons is not None else None
        result = not _evaluate(tree.condition, subject, context, inner)
        if reasons is not None and inner is not None:
            reasons.extend(f"not ({reason})" for reason in inner)
        return result
    results: Iterable[bool] = (_evaluate(child, subject, context, reasons) for child in tree.conditions)
    if reasons is not None:
        results = list(results)  # explain every condition, not just up to the first that decides
    return all(results) if isinstance(tree, AllOf) else any(results)


def _check(
    condition: Condition, subject: Subject, context: DecisionContext, reasons: list[str] | None
) -> bool:
    actual = FIELDS[condition.field].read(subject)
    result, shown = _compare(condition, actual, context)
    if reasons is not None:
        verdict = "holds" if result else "does not hold"
        reasons.append(f"{condition.field} {condition.op} {shown} {verdict}: it is {_show(actual, context)}")
    return result


def _compare(condition: Condition, actual: Any, context: DecisionContext) -> tuple[bool, str]:
    op, expected = condition.op, condition.value
    if op in ("older_than", "within"):
        window = _window(expected, context)
        shown = f"{expected} ({window})" if expected == REOPEN_WINDOW else str(window)
        if actual is None:
            return False, shown
        ends_at = _end(window, actual, context)
        if isinstance(window, BusinessDuration):  # the instant: hard to work out by hand
            shown = f"{shown} (business time: ends {_show(ends_at, context)})"
        return (context.now >= ends_at) if op == "older_than" else (context.now < ends_at), shown
    shown = "" if expected is None else _show(expected, context)
    return _OPERATIONS[op](actual, expected), shown


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return expected.casefold() in actual.casefold()
    return expected in actual


_OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
    "contains": _contains,
    "not_contains": lambda actual, expected: not _contains(actual, expected),
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "is_empty": lambda actual, _: not actual,
    "is_not_empty": lambda actual, _: bool(actual),
    "is_set": lambda actual, _: actual is not None,
    "is_not_set": lambda actual, _: actual is None,
}


def _window(duration: Duration, context: DecisionContext) -> CalendarDuration | BusinessDuration:
    # A Duration that is text is REOPEN_WINDOW: model._duration admits no other text.
    return context.settings.reopen_window if isinstance(duration, str) else duration


def _end(
    duration: CalendarDuration | BusinessDuration, start: pendulum.DateTime, context: DecisionContext
) -> pendulum.DateTime:
    """Calendar time on the account's wall clock; business time on the inbox's calendar, else the
    account's (an InvalidInput when there is none: the rule cannot be honoured, and saying so beats
    firing at a guess)."""
    return context.settings.end_of(duration, start, inbox=context.inbox)


def _show(value: Any, context: DecisionContext) -> str:
    if isinstance(value, pendulum.DateTime):
        return value.in_timezone(context.settings.timezone).format("YYYY-MM-DD HH:mm zz")
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    return "unset" if value is None else repr(value) if isinstance(value, str) else str(value)


def _apply(
    rule: Rule, state: Conversation, event: Event | None, context: DecisionContext, rotation: Rotation | None
) -> tuple[Conversation, list[Event], list[FollowUp]]:
    """Carry out a rule's actions in order, each decided on the state the one before left."""
    actor = Actor.rule(rule.id)
    produced: list[Event] = []
    follow_ups: list[FollowUp] = []
    for action in rule.actions:
        if action.kind is ActionKind.OPEN_LINKED_CONVERSATION:
            if isinstance(event, MessageReceived):
                follow_ups.append(_linked(state, event, rule.id))
            continue
        if action.kind is ActionKind.ASSIGN_ROUND_ROBIN and rotation is None:
            follow_ups.append(AssignNextInRotation(state.id, action.users, rule.id))
            continue
        skipped: tuple[tuple[UserId, Availability], ...] = ()
        if rotation is not None and action.kind is ActionKind.ASSIGN_ROUND_ROBIN:
            commands, skipped = _next_in_rotation(
                action, state, actor, context, rule_id=rule.id, rotation=rotation
            )
        else:
            commands = _commands(action, state, actor, context)
        for command in commands:
            try:
                events = decide(state, command, context)
            except ConvostateError:
                continue  # an action that does not apply here (a non-member, a single-user inbox) is skipped
            events = _annotated(events, action, context, skipped)
            for new_event in events:
                state = evolve(state, new_event)
            produced.extend(events)
    return state, produced, follow_ups


def _next_in_rotation(
    action: Action,
    state: Conversation,
    actor: Actor,
    context: DecisionContext,
    *,
    rule_id: RuleId,
    rotation: Rotation,
) -> tuple[list[Command], tuple[tuple[UserId, Availability], ...]]:
    """The next user of the rotation who can be assigned here, and those passed over for being away or
    offline. Each user looked at takes one turn, whether assigned or passed over (not a member, not
    available), so the count stays a plain counter: after a skip, the rotation goes on from the user after
    the one assigned. When nobody can be assigned, one full round is taken and nobody is assigned: the
    rotation is back where it was, and the next decision starts from the same place."""
    if context.inbox.is_single_user:
        return [], ()
    skipped: list[tuple[UserId, Availability]] = []
    for _ in action.users:
        user = UserId(action.users[rotation.next_in_rotation(rule_id, len(action.users))])
        if user not in context.inbox.members:
            continue
        if user in context.unavailable:
            skipped.append((user, _availability(user, context)))
            continue
        return [Assign(state.id, user, actor)], tuple(skipped)
    return [], tuple(skipped)


def _availability(user: UserId, context: DecisionContext) -> Availability:
    return Availability.OFFLINE if user in context.offline else Availability.AWAY


def _annotated(
    events: tuple[Event, ...],
    action: Action,
    context: DecisionContext,
    skipped: tuple[tuple[UserId, Availability], ...],
) -> tuple[Event, ...]:
    """The events with what an unavailable user caused, for the history: whom a round-robin turn passed
    over, or why the default reopen rule unassigned someone."""
    if skipped:
        return tuple(attrs.evolve(e, skipped=skipped) if isinstance(e, Assigned) else e for e in events)
    if action.kind is ActionKind.UNASSIGN and action.user == "unavailable":
        return tuple(
            attrs.evolve(e, because=_availability(e.user_id, context)) if isinstance(e, Unassigned) else e
            for e in events
        )
    return events


def _linked(state: Conversation, event: MessageReceived, rule_id: RuleId) -> OpenLinkedConversation:
    follow_up_id = ConversationId(f"{state.id.value}-followup-{state.version}")
    message = event.message
    command = ReceiveMessage(
        follow_up_id,
        state.inbox_id,
        state.contact_id,
        MessageId(f"{message.id.value}-in-{follow_up_id.value}"),
        message.body,
        None,
        message.sent_at,
        state.id,
    )
    return OpenLinkedConversation(state.id, command, rule_id)


def _commands(action: Action, state: Conversation, actor: Actor, context: DecisionContext) -> list[Command]:
    """The commands an action stands for on this state ("all" and "assignees" expand to user ids)."""
    cid, kind, user = state.id, action.kind, action.user or ""
    if kind is ActionKind.REOPEN:  # the default rules' action on every message to a closed conversation
        return [Reopen(cid, actor)]
    assignees = sorted(state.assignees, key=lambda each: each.value)
    if kind is ActionKind.ASSIGN:
        return [Assign(cid, UserId(user), actor)]
    if kind is ActionKind.UNASSIGN:
        if user == "unavailable":  # nobody, when the account keeps the seed's behaviour
            away = context.unavailable if context.settings.reopen_skips_unavailable else frozenset()
            return [Unassign(cid, each, actor) for each in assignees if each in away]
        return [Unassign(cid, each, actor) for each in (assignees if user == "all" else [UserId(user)])]
    if kind is ActionKind.CLOSE:
        return [Close(cid, actor)]
    if kind is ActionKind.STAR:
        return [Star(cid, each, actor) for each in (assignees if user == "assignees" else [UserId(user)])]
    if kind is ActionKind.UNSTAR:
        return [Unstar(cid, each, actor) for each in (assignees if user == "assignees" else [UserId(user)])]
    if kind in (ActionKind.MARK_READ, ActionKind.MARK_UNREAD):
        reader = None if user == "everyone" else UserId(user)
        mark = (
            MarkRead(cid, reader, actor) if kind is ActionKind.MARK_READ else MarkUnread(cid, reader, actor)
        )
        return [mark]
    if kind is ActionKind.SNOOZE:
        assert action.duration is not None
        until = _end(_window(action.duration, context), context.now, context)
        return [Snooze(cid, until, actor)]
    if kind is ActionKind.UNSNOOZE:
        return [Unsnooze(cid, actor)]
    raise AssertionError(f"no commands for {kind}")  # pragma: no cover

"""Rules as values: a trigger, conditions and actions, each checked against the vocabulary when built.

Build them in code (``Rule(...)``, ``when(...)``, ``Action.close()``) or load them from JSON or TOML
(:mod:`convostate._core.rules.data`); either way a mistake is refused with a message that names the rule,
the field and what is allowed. Nothing in a rule is ever executed as code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import attrs

from convostate._core import events as event_types
from convostate._core.errors import InvalidInput
from convostate._core.ids import RuleId
from convostate._core.rules.vocabulary import (
    ACTIONS,
    FIELDS,
    NO_VALUE,
    OPERATORS,
    TIME_FIELDS,
    ActionKind,
    ValueType,
)
from convostate._core.timing import CalendarDuration

REOPEN_WINDOW = "reopen_window"
"""A duration that reads the account's reopen window setting, so rules follow it when an admin changes it."""

EVENT_TYPES: dict[str, type[Any]] = {
    name: getattr(event_types, name)
    for name in (
        "ConversationStarted",
        "MessageReceived",
        "MessageSent",
        "Assigned",
        "Unassigned",
        "Closed",
        "Reopened",
        "Snoozed",
        "Unsnoozed",
        "Starred",
        "Unstarred",
        "MarkedRead",
        "MarkedUnread",
    )
}

Duration: TypeAlias = CalendarDuration | str
"""A CalendarDuration, or the string ``"reopen_window"`` for the account's setting."""


def _duration(where: str, value: object) -> Duration:
    if isinstance(value, CalendarDuration):
        return value
    if value == REOPEN_WINDOW:
        return REOPEN_WINDOW
    if isinstance(value, str):
        try:
            return CalendarDuration.parse(value)
        except InvalidInput as error:
            raise InvalidInput(f"{where}: {error}") from error
    raise InvalidInput(
        f"{where}: expected a duration such as 'P1D', 'PT24H' or '{REOPEN_WINDOW}', got {value!r}"
    )


def _delay(value: object) -> Duration:
    return _duration("trigger.after", value)


@attrs.frozen
class OnEvent:
    """Fire when an event of this type happens to a conversation."""

    event: str

    def __attrs_post_init__(self) -> None:
        if self.event not in EVENT_TYPES:
            raise InvalidInput(
                f"trigger.event: {self.event!r} is not an event; use one of {sorted(EVENT_TYPES)}"
            )


@attrs.frozen
class AfterTime:
    """Fire ``delay`` after the time in ``field`` (``P1D`` after ``last_outbound_at``), once per value."""

    field: str
    delay: Duration = attrs.field(converter=_delay)

    def __attrs_post_init__(self) -> None:
        if self.field not in TIME_FIELDS:
            raise InvalidInput(
                f"trigger.field: {self.field!r} is not a time field; use one of {list(TIME_FIELDS)}"
            )


Trigger: TypeAlias = OnEvent | AfterTime


@attrs.frozen(cache_hash=True)  # the engine looks compiled tests up by tree
class Condition:
    """``field op value``, such as ``status eq closed`` or ``closed_at older_than P1W``."""

    field: str
    op: str
    value: Any = None

    def __attrs_post_init__(self) -> None:
        field = FIELDS.get(self.field)
        if field is None:
            raise InvalidInput(f"condition.field: {self.field!r} is not a field; use one of {sorted(FIELDS)}")
        operator = OPERATORS.get(self.op)
        allowed = sorted(name for name, op in OPERATORS.items() if field.type in op.applies_to)
        if operator is None or field.type not in operator.applies_to:
            raise InvalidInput(
                f"condition.op: {self.op!r} does not apply to {self.field} ({field.type.value}); "
                f"use one of {allowed}"
            )
        object.__setattr__(self, "value", self._checked_value(field.type, field.choices))

    def _checked_value(self, field_type: ValueType, choices: tuple[str, ...]) -> Any:
        where, op, value = f"condition {self.field} {self.op}: value", OPERATORS[self.op], self.value
        if self.op in NO_VALUE:
            if value is not None:
                raise InvalidInput(f"{where}: {self.op} takes no value, got {value!r}")
            return None
        expected = op.value or field_type
        if expected is ValueType.DURATION:
            return _duration(where, value)
        if expected is ValueType.SET:
            if not isinstance(value, list | tuple | frozenset | set) or not all(
                isinstance(v, str) for v in value
            ):
                raise InvalidInput(f"{where}: expected a list of text, got {value!r}")
            members = frozenset(value)
            if choices and not members <= set(choices):
                raise InvalidInput(f"{where}: {sorted(members - set(choices))} not among {list(choices)}")
            return members
        python_type = {ValueType.BOOL: bool, ValueType.NUMBER: int}.get(expected, str)
        if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
            raise InvalidInput(f"{where}: expected {expected.value}, got {value!r}")
        if choices and value not in choices:
            raise InvalidInput(f"{where}: {value!r} is not one of {list(choices)}")
        return value


@attrs.frozen(cache_hash=True)  # the engine looks compiled tests up by tree
class AllOf:
    conditions: tuple[ConditionTree, ...] = ()


@attrs.frozen(cache_hash=True)  # the engine looks compiled tests up by tree
class AnyOf:
    conditions: tuple[ConditionTree, ...] = ()


@attrs.frozen(cache_hash=True)  # the engine looks compiled tests up by tree
class Not:
    condition: ConditionTree


ConditionTree: TypeAlias = Condition | AllOf | AnyOf | Not


def when(field: str, op: str, value: Any = None) -> Condition:
    return Condition(field, op, value)


def all_of(*conditions: ConditionTree) -> AllOf:
    return AllOf(tuple(conditions))


def any_of(*conditions: ConditionTree) -> AnyOf:
    return AnyOf(tuple(conditions))


def fields_read(tree: ConditionTree) -> frozenset[str]:
    if isinstance(tree, Condition):
        return frozenset({tree.field})
    if isinstance(tree, Not):
        return fields_read(tree.condition)
    return frozenset().union(*(fields_read(child) for child in tree.conditions))


@attrs.frozen
class Action:
    """One thing a rule does. Build it with the class methods: ``Action.assign("user-1")``,
    ``Action.close()``."""

    kind: ActionKind
    user: str | None = None
    users: tuple[str, ...] = ()
    duration: Duration | None = None

    def __attrs_post_init__(self) -> None:
        spec = ACTIONS[self.kind]
        names = {name for name, _, _ in spec.params}
        given = {
            name
            for name, value in (("user", self.user), ("users", self.users), ("for", self.duration))
            if value
        }
        if given != names:
            wanted = ", ".join(f"{name} ({help_})" for name, _, help_ in spec.params) or "nothing"
            raise InvalidInput(f"action {self.kind.value} takes {wanted}; got {sorted(given) or 'nothing'}")
        if self.duration is not None:
            object.__setattr__(self, "duration", _duration(f"action {self.kind.value}: for", self.duration))

    @classmethod
    def assign(cls, user: str) -> Action:
        return cls(ActionKind.ASSIGN, user=user)

    @classmethod
    def unassign(cls, user: str = "all") -> Action:
        return cls(ActionKind.UNASSIGN, user=user)

    @classmethod
    def assign_round_robin(cls, users: Iterable[str]) -> Action:
        return cls(ActionKind.ASSIGN_ROUND_ROBIN, users=tuple(users))

    @classmethod
    def close(cls) -> Action:
        return cls(ActionKind.CLOSE)

    @classmethod
    def reopen(cls) -> Action:
        return cls(ActionKind.REOPEN)

    @classmethod
    def star(cls, user: str = "assignees") -> Action:
        return cls(ActionKind.STAR, user=user)

    @classmethod
    def unstar(cls, user: str = "assignees") -> Action:
        return cls(ActionKind.UNSTAR, user=user)

    @classmethod
    def mark_read(cls, user: str = "everyone") -> Action:
        return cls(ActionKind.MARK_READ, user=user)

    @classmethod
    def mark_unread(cls, user: str = "everyone") -> Action:
        return cls(ActionKind.MARK_UNREAD, user=user)

    @classmethod
    def snooze(cls, duration: Duration) -> Action:
        return cls(ActionKind.SNOOZE, duration=duration)

    @classmethod
    def unsnooze(cls) -> Action:
        return cls(ActionKind.UNSNOOZE)

    @classmethod
    def open_linked_conversation(cls) -> Action:
        return cls(ActionKind.OPEN_LINKED_CONVERSATION)


def _actions(actions: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(actions)


def _rule_id(value: object) -> RuleId:
    return value if isinstance(value, RuleId) else RuleId(value)  # type: ignore[arg-type]


@attrs.frozen
class Rule:
    """When ``trigger`` fires and ``conditions`` hold, do ``actions``. Higher ``priority`` runs first."""

    id: RuleId = attrs.field(converter=_rule_id)
    trigger: Trigger
    actions: tuple[Action, ...] = attrs.field(converter=_actions)
    conditions: ConditionTree = AllOf()
    priority: int = 0
    enabled: bool = True
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.trigger, OnEvent | AfterTime):
            raise InvalidInput(
                f"rule {self.id}: trigger must be OnEvent(...) or AfterTime(...), got {self.trigger!r}"
            )
        if not self.actions or not all(isinstance(action, Action) for action in self.actions):
            raise InvalidInput(f"rule {self.id}: actions must be one or more Action(...)")
        if not isinstance(self.conditions, Condition | AllOf | AnyOf | Not):
            raise InvalidInput(
                f"rule {self.id}: conditions must be a condition tree, got {self.conditions!r}"
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidInput(f"rule {self.id}: priority must be a whole number, got {self.priority!r}")
        if isinstance(self.trigger, AfterTime):
            self._must_settle(self.trigger)

    def _must_settle(self, trigger: AfterTime) -> None:
        """A time rule must change something it depends on, or it would match again at once, forever."""
        depends_on = fields_read(self.conditions) | {trigger.field}
        changes = frozenset().union(*(ACTIONS[action.kind].changes for action in self.actions))
        if not depends_on & changes:
            raise InvalidInput(
                f"rule {self.id}: a time rule must change something it depends on ({sorted(depends_on)}) so "
                f"that it stops matching, but its actions change only {sorted(changes) or 'nothing'}; "
                "add a condition on a field an action changes, e.g. status eq open with a close action"
            )


def _ordered(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    listed = tuple(rules)
    ids = [rule.id for rule in listed]
    duplicates = sorted({str(rule_id) for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise InvalidInput(f"rule ids must be unique; repeated: {duplicates}")
    return tuple(sorted(listed, key=lambda rule: (-rule.priority, rule.id.value)))


@attrs.frozen
class RuleSet:
    """An ordered set of rules: by priority, highest first, then by id. Rules are replaced by id."""

    rules: tuple[Rule, ...] = attrs.field(converter=_ordered)
    _on_event: dict[str, tuple[Rule, ...]] = attrs.field(init=False, repr=False, eq=False)
    _on_time: tuple[Rule, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Looked up for every event of every command: indexed once here rather than scanned each time.
        on_event: dict[str, list[Rule]] = {}
        for rule in self.active():
            if isinstance(rule.trigger, OnEvent):
                on_event.setdefault(rule.trigger.event, []).append(rule)
        object.__setattr__(self, "_on_event", {event: tuple(rules) for event, rules in on_event.items()})
        object.__setattr__(
            self, "_on_time", tuple(r for r in self.active() if isinstance(r.trigger, AfterTime))
        )

    def triggered_by(self, event_type: str) -> tuple[Rule, ...]:
        """The enabled rules that run on events of ``event_type``, in order."""
        return self._on_event.get(event_type, ())

    def timed(self) -> tuple[Rule, ...]:
        """The enabled time rules, in order."""
        return self._on_time

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: RuleId | str) -> Rule:
        wanted = _rule_id(rule_id)
        for rule in self.rules:
            if rule.id == wanted:
                return rule
        raise KeyError(f"no rule {wanted}; the rules are {[str(rule.id) for rule in self.rules]}")

    def with_rules(self, *rules: Rule) -> RuleSet:
        """This set with ``rules`` added, replacing any with the same id."""
        replaced = {rule.id for rule in rules}
        return RuleSet((*(rule for rule in self.rules if rule.id not in replaced), *rules))

    def without(self, *rule_ids: RuleId | str) -> RuleSet:
        dropped = {_rule_id(rule_id) for rule_id in rule_ids}
        return RuleSet(rule for rule in self.rules if rule.id not in dropped)

    def enabled(self, rule_id: RuleId | str, enabled: bool = True) -> RuleSet:
        return self.with_rules(attrs.evolve(self[rule_id], enabled=enabled))

    def active(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)

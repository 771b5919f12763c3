"""Rules as values: a trigger, conditions and actions, each checked against the vocabulary when built.

Build them in code (``Rule(...)``, ``when(...)``, ``Action.close()``) or load them from JSON or TOML
(:mod:`convostate._core.rules.data`); either way a mistake is refused with a message that names the rule,
the field and what is allowed. Nothing in a rule is ever executed as code.
"""

from __future__ import annotations

import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeAlias

import attrs

from convostate._core import events as event_types
from convostate._core.business_hours import BUSINESS_PREFIX, BusinessDuration
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

MAX_DOCUMENT_LENGTH: Final = 1_000_000
"""The longest JSON or TOML document the loaders read, in characters (bytes are decoded as UTF-8 first):
a hundred times the default rules written out, and small enough to parse in well under a second."""
MAX_RULES: Final = 1_000
"""How many rules one document may hold. Every rule triggered by an event is checked on that event."""
MAX_CONDITION_DEPTH: Final = 32
"""How deeply ``all``, ``any`` and ``not`` may nest. Real rules nest two or three levels; the bound keeps
every walk over a tree (checking, evaluating, hashing, writing it back) far from Python's recursion limit."""
MAX_CONDITIONS: Final = 1_000
"""How many nodes (conditions, ``all``, ``any``, ``not``) one rule's tree may have: evaluated on every
event, and a bound on the work a tree that shares its branches could otherwise ask for."""
MAX_ITEMS: Final = 1_000
"""How many actions a rule, users a rotation, or texts a condition's list may have."""
MAX_TEXT_LENGTH: Final = 10_000
"""The longest text a rule may hold (an id, a description, a condition's value), in characters."""
LARGEST_NUMBER: Final = 2**53 - 1
"""The largest whole number (either sign) a rule may hold: a priority or a count to compare with. Every
JSON reader, JavaScript's included, reads it exactly."""
_LONGEST_DURATION_TEXT: Final = 64
"""No duration of at most 100 years takes more characters to write, so a longer one is refused before any
digit is read (a 5,000-digit number would otherwise fail inside ``int``)."""


class InvalidRules(InvalidInput):
    """A rule that does not fit the rules' vocabulary or the limits above, built in code or read from a
    document. ``path`` says where (``rules[2].conditions.all[0].value`` in a document, ``condition.op`` in
    code), ``rule`` names the rule when its id could be read, ``problem`` says what is wrong and what to
    write instead. A host's rule editor can point at the field from ``path``."""

    def __init__(self, problem: str, path: str = "", *, rule: str | None = None, field: str = "") -> None:
        where = path + (f" (rule {rule})" if rule is not None else "")
        super().__init__(f"{where}: {problem}" if where else problem)
        self.problem = problem
        self.path = path
        self.rule = rule
        self.field = field
        """The field of the object that was refused (``op`` of a condition), so that a reader of a
        document can extend its own path with it; empty when the whole object is refused."""


def refused(owner: str, field: str, problem: str) -> InvalidRules:
    """The error for ``owner``'s ``field`` (``condition``, ``op``), built in code."""
    return InvalidRules(problem, f"{owner}.{field}" if field else owner, field=field)


def _refused_at(path: str, problem: str) -> InvalidRules:
    owner, _, field = path.rpartition(".")
    return refused(owner, field, problem) if owner else InvalidRules(problem, path)


class _Shown(reprlib.Repr):
    """``repr`` cut short, for messages about values that can be as large as their sender likes: the
    standard ``reprlib`` would still call ``repr`` on a whole number, which fails past 4,300 digits."""

    def repr_int(self, x: int, level: int) -> str:
        if abs(x) > 10**30:
            return f"<a whole number of about {x.bit_length() * 30103 // 100000 + 1:,} digits>"
        return super().repr_int(x, level)


_SHOWN = _Shown()
_SHOWN.maxstring = _SHOWN.maxother = 80
_SHOWN.maxlong = 40


def shown(value: object) -> str:
    """``value`` for an error message: short, and safe for any value."""
    return _SHOWN.repr(value)


def checked_text(path: str, value: object, *, empty: bool = False) -> str:
    """``value`` if it is text within the limits that can be stored and written back anywhere: no NUL, no
    lone surrogate (which JSON can carry as ``\\ud800`` but UTF-8 cannot), at most MAX_TEXT_LENGTH."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _refused_at(path, f"must be {'text' if empty else 'non-empty text'}, got {shown(value)}")
    if len(value) > MAX_TEXT_LENGTH:
        raise _refused_at(
            path, f"text may be at most {MAX_TEXT_LENGTH:,} characters, got {len(value):,}; shorten it"
        )
    if "\0" in value:
        raise _refused_at(path, f"text may not contain a NUL character, got {shown(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise _refused_at(
                path,
                f"text may not contain a lone surrogate (U+{ord(value[error.start]):04X} at {error.start}), "
                "which no UTF-8 file can hold; send the character as a whole or drop it",
            ) from None
    return value


def checked_number(path: str, value: object, hint: str) -> int:
    """``value`` if it is a whole number (not a bool) within LARGEST_NUMBER either way."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refused_at(path, f"must be a whole number ({hint}), got {shown(value)}")
    if abs(value) > LARGEST_NUMBER:
        raise _refused_at(
            path, f"must be between -{LARGEST_NUMBER:,} and {LARGEST_NUMBER:,} ({hint}), got {shown(value)}"
        )
    return value


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

Duration: TypeAlias = CalendarDuration | BusinessDuration | str
"""A CalendarDuration, a BusinessDuration (``business:PT24H``: working time on the inbox's or the
account's business hours), or the string ``"reopen_window"`` for the account's setting."""


def _duration(owner: str, field: str, value: object) -> Duration:
    if isinstance(value, CalendarDuration | BusinessDuration):
        return value
    if isinstance(value, str):
        if value == REOPEN_WINDOW:
            return REOPEN_WINDOW
        if len(value) <= _LONGEST_DURATION_TEXT:
            try:
                if value.startswith(BUSINESS_PREFIX):
                    return BusinessDuration.parse(value)
                return CalendarDuration.parse(value)
            except InvalidInput as error:
                raise refused(owner, field, str(error)) from None
    raise refused(
        owner,
        field,
        f"expected a duration such as 'P1D', 'PT24H', '{BUSINESS_PREFIX}PT24H' (business time) or "
        f"'{REOPEN_WINDOW}', got {shown(value)}",
    )


def _delay(value: object) -> Duration:
    return _duration("trigger", "after", value)


@attrs.frozen
class OnEvent:
    """Fire when an event of this type happens to a conversation."""

    event: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.event, str) or self.event not in EVENT_TYPES:
            raise refused(
                "trigger", "event", f"{shown(self.event)} is not an event; use one of {sorted(EVENT_TYPES)}"
            )


@attrs.frozen
class AfterTime:
    """Fire ``delay`` after the time in ``field`` (``P1D`` after ``last_outbound_at``), once per value."""

    field: str
    delay: Duration = attrs.field(converter=_delay)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.field, str) or self.field not in TIME_FIELDS:
            raise refused(
                "trigger", "field", f"{shown(self.field)} is not a time field; use one of {list(TIME_FIELDS)}"
            )


Trigger: TypeAlias = OnEvent | AfterTime


@attrs.frozen(cache_hash=True)  # the engine looks compiled tests up by tree
class Condition:
    """``field op value``, such as ``status eq closed`` or ``closed_at older_than P1W``."""

    field: str
    op: str
    value: Any = None

    def __attrs_post_init__(self) -> None:
        field = FIELDS.get(self.field) if isinstance(self.field, str) else None
        if field is None:
            raise refused(
                "condition", "field", f"{shown(self.field)} is not a field; use one of {sorted(FIELDS)}"
            )
        operator = OPERATORS.get(self.op) if isinstance(self.op, str) else None
        allowed = sorted(name for name, op in OPERATORS.items() if field.type in op.applies_to)
        if operator is None or field.type not in operator.applies_to:
            raise refused(
                "condition",
                "op",
                f"{shown(self.op)} does not apply to {self.field} ({field.type.value}); use one of {allowed}",
            )
        object.__setattr__(self, "value", self._checked_value(field.type, field.choices))

    def _checked_value(self, field_type: ValueType, choices: tuple[str, ...]) -> Any:
        op, value, what = OPERATORS[self.op], self.value, f"{self.field} {self.op}"
        if self.op in NO_VALUE:
            if value is not None:
                raise refused("condition", "value", f"{what}: {self.op} takes no value, got {shown(value)}")
            return None
        expected = op.value or field_type
        if expected is ValueType.DURATION:
            try:
                return _duration("condition", "value", value)
            except InvalidRules as error:
                raise refused("condition", "value", f"{what}: {error.problem}") from None
        if expected is ValueType.SET:
            if (
                not isinstance(value, list | tuple | frozenset | set)
                or len(value) > MAX_ITEMS
                or not all(isinstance(v, str) for v in value)
            ):
                raise refused(
                    "condition",
                    "value",
                    f"{what}: expected a list of at most {MAX_ITEMS:,} texts, got {shown(value)}",
                )
            for member in value:
                checked_text("condition.value", member, empty=True)
            members = frozenset(value)
            if choices and not members <= set(choices):
                raise refused(
                    "condition",
                    "value",
                    f"{what}: {shown(sorted(members - set(choices)))} not among {list(choices)}",
                )
            return members
        python_type = {ValueType.BOOL: bool, ValueType.NUMBER: int}.get(expected, str)
        if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
            raise refused("condition", "value", f"{what}: expected {expected.value}, got {shown(value)}")
        if python_type is int:
            checked_number("condition.value", value, f"to compare {self.field} with")
        if python_type is str:
            checked_text("condition.value", value, empty=True)
        if choices and value not in choices:
            raise refused("condition", "value", f"{what}: {shown(value)} is not one of {list(choices)}")
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
        if not isinstance(self.kind, ActionKind):
            raise refused("action", "do", f"must be an ActionKind, got {shown(self.kind)}")
        spec = ACTIONS[self.kind]
        if self.user is not None:
            checked_text("action.user", self.user)
        if not isinstance(self.users, tuple) or len(self.users) > MAX_ITEMS:
            raise refused("action", "users", f"must be a tuple of at most {MAX_ITEMS:,} user ids")
        for user in self.users:
            checked_text("action.users", user)
        names = {name for name, _, _ in spec.params}
        given = {
            name
            for name, value in (("user", self.user), ("users", self.users), ("for", self.duration))
            if value
        }
        if given != names:
            wanted = ", ".join(f"{name} ({help_})" for name, _, help_ in spec.params) or "nothing"
            raise InvalidRules(f"action {self.kind.value} takes {wanted}; got {sorted(given) or 'nothing'}")
        if self.duration is not None:
            object.__setattr__(self, "duration", _duration("action", "for", self.duration))

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
    if isinstance(actions, tuple):
        return actions
    if isinstance(actions, str | bytes | Mapping) or not isinstance(actions, Iterable):
        raise refused("rule", "actions", f"must be a tuple of Action(...)s, got {shown(actions)}")
    return tuple(actions)


def _rule_id(value: object) -> RuleId:
    return value if isinstance(value, RuleId) else RuleId(checked_text("rule.id", value))


def _walk(tree: object) -> None:
    """Check a condition tree node by node, without recursion: a tree built in code can be nested as deep
    as its author likes, and every later walk over it (the engine's, ``fields_read``, hashing) recurses."""
    pending: list[tuple[object, int]] = [(tree, 1)]
    count = 0
    while pending:
        node, depth = pending.pop()
        count += 1
        if depth > MAX_CONDITION_DEPTH or count > MAX_CONDITIONS:
            raise refused(
                "rule",
                "conditions",
                f"a tree may nest at most {MAX_CONDITION_DEPTH} levels and hold at most {MAX_CONDITIONS:,} "
                "conditions; split the rule in two",
            )
        if isinstance(node, Not):
            pending.append((node.condition, depth + 1))
        elif isinstance(node, AllOf | AnyOf):
            if not isinstance(node.conditions, tuple):
                raise refused(
                    "rule", "conditions", f"all_of/any_of hold a tuple, got {shown(node.conditions)}"
                )
            pending.extend((child, depth + 1) for child in node.conditions)
        elif not isinstance(node, Condition):
            raise refused("rule", "conditions", f"must be a condition tree, got {shown(node)}")


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
        owner = f"rule {self.id}"
        if not isinstance(self.trigger, OnEvent | AfterTime):
            raise refused(
                owner, "trigger", f"must be OnEvent(...) or AfterTime(...), got {shown(self.trigger)}"
            )
        if not 0 < len(self.actions) <= MAX_ITEMS or not all(isinstance(a, Action) for a in self.actions):
            raise refused(owner, "actions", f"must be one to {MAX_ITEMS:,} Action(...)s")
        try:
            _walk(self.conditions)
        except InvalidRules as error:
            raise refused(owner, "conditions", error.problem) from None
        checked_number(f"{owner}.priority", self.priority, "higher runs first")
        if not isinstance(self.enabled, bool):
            raise refused(owner, "enabled", f"must be True or False, got {shown(self.enabled)}")
        checked_text(f"{owner}.description", self.description, empty=True)
        if isinstance(self.trigger, AfterTime):
            self._must_settle(self.trigger)

    def _must_settle(self, trigger: AfterTime) -> None:
        """A time rule must change something it depends on, or it would match again at once, forever."""
        depends_on = fields_read(self.conditions) | {trigger.field}
        changes = frozenset().union(*(ACTIONS[action.kind].changes for action in self.actions))
        if not depends_on & changes:
            raise refused(
                f"rule {self.id}",
                "",
                f"a time rule must change something it depends on ({sorted(depends_on)}) so "
                f"that it stops matching, but its actions change only {sorted(changes) or 'nothing'}; "
                "add a condition on a field an action changes, e.g. status eq open with a close action",
            )


def _ordered(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    try:
        listed = tuple(rules)
    except TypeError:
        raise InvalidRules(f"a RuleSet holds an iterable of Rule(...)s, got {shown(rules)}") from None
    strays = [rule for rule in listed if not isinstance(rule, Rule)]
    if strays:
        raise InvalidRules(f"a RuleSet holds Rule(...)s only, got {shown(strays[0])}")
    duplicates = sorted(str(rule_id) for rule_id, n in Counter(rule.id for rule in listed).items() if n > 1)
    if duplicates:
        raise InvalidRules(f"rule ids must be unique; repeated: {duplicates}")
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

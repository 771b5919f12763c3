"""What rules can talk about: the fields of a condition, the operators on each type, the triggers and the
actions. This table is the single source: conditions are checked against it when built, the engine reads
values through it, and ``vocabulary()`` describes it for a settings page.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from convostate._core.events import Event, MessageReceived, MessageSent
from convostate._core.model import Contact, Conversation


class ValueType(enum.Enum):
    TEXT = "text"
    CHOICE = "choice"
    BOOL = "bool"
    NUMBER = "number"
    TIME = "time"
    SET = "set"
    DURATION = "duration"
    USER = "user"
    USERS = "users"


@attrs.frozen
class Subject:
    """What a condition reads when a rule is evaluated."""

    conversation: Conversation
    event: Event | None
    contact: Contact | None


@attrs.frozen
class Field:
    name: str
    type: ValueType
    description: str
    read: Callable[[Subject], Any] = attrs.field(eq=False, repr=False)
    choices: tuple[str, ...] = ()


def _waiting_on(conversation: Conversation) -> str:
    inbound, outbound = conversation.last_inbound_at, conversation.last_outbound_at
    if inbound is None and outbound is None:
        return "nobody"
    if outbound is None or (inbound is not None and inbound > outbound):
        return "team"
    return "contact"


def _body(subject: Subject) -> str:
    return subject.event.message.body if isinstance(subject.event, MessageReceived | MessageSent) else ""


def _ids(values: frozenset[Any]) -> frozenset[str]:
    return frozenset(value.value for value in values)


def _time_of(name: str) -> Callable[[Subject], Any]:
    def read(subject: Subject) -> Any:
        return getattr(subject.conversation, name)

    return read


_TIME_FIELDS = {
    "started_at": "when the contact's first message arrived",
    "closed_at": "when it was closed (unset while open)",
    "last_inbound_at": "when the contact last wrote",
    "last_outbound_at": "when the team last replied",
    "last_activity_at": "when the last message arrived or was sent",
    "snoozed_until": "when a snooze ends (unset when not snoozed)",
    "updated_at": "when anything last happened to it: a message, an assignment, a status change",
}

FIELDS: dict[str, Field] = {
    field.name: field
    for field in (
        Field(
            "status",
            ValueType.CHOICE,
            "open or closed",
            lambda s: s.conversation.status._value_,  # .value is a descriptor call; this runs per event
            ("open", "closed"),
        ),
        Field(
            "assignees",
            ValueType.SET,
            "the ids of the assigned users",
            lambda s: _ids(s.conversation.assignees),
        ),
        Field(
            "assignee_count",
            ValueType.NUMBER,
            "how many users are assigned",
            lambda s: len(s.conversation.assignees),
        ),
        Field(
            "starred_by",
            ValueType.SET,
            "the ids of the users who starred it",
            lambda s: _ids(s.conversation.starred_by),
        ),
        Field(
            "unread",
            ValueType.BOOL,
            "unread since the contact last wrote (for anyone)",
            lambda s: s.conversation.unread,
        ),
        Field(
            "snoozed",
            ValueType.BOOL,
            "snoozed until a later time",
            lambda s: s.conversation.snoozed_until is not None,
        ),
        Field(
            "waiting_on",
            ValueType.CHOICE,
            "who owes the next message: team (the contact wrote last), contact (the team replied last), "
            "or nobody",
            lambda s: _waiting_on(s.conversation),
            ("team", "contact", "nobody"),
        ),
        Field("inbox_id", ValueType.TEXT, "the inbox's id", lambda s: s.conversation.inbox_id.value),
        Field("contact_id", ValueType.TEXT, "the contact's id", lambda s: s.conversation.contact_id.value),
        *(
            Field(name, ValueType.TIME, description, _time_of(name))
            for name, description in _TIME_FIELDS.items()
        ),
        Field(
            "event.type",
            ValueType.TEXT,
            "the kind of event, e.g. MessageReceived",
            lambda s: type(s.event).__name__ if s.event else "",
        ),
        Field(
            "event.actor",
            ValueType.CHOICE,
            "who caused the event",
            lambda s: s.event.actor.kind.value if s.event else "",
            ("user", "contact", "rule"),
        ),
        Field("event.body", ValueType.TEXT, "the message's text, for message events", _body),
        Field(
            "contact.name",
            ValueType.TEXT,
            "the contact's name",
            lambda s: s.contact.name if s.contact else "",
        ),
        Field(
            "contact.phone",
            ValueType.TEXT,
            "the contact's phone",
            lambda s: (s.contact.phone or "") if s.contact else "",
        ),
        Field(
            "contact.email",
            ValueType.TEXT,
            "the contact's email",
            lambda s: (s.contact.email or "") if s.contact else "",
        ),
        Field(
            "contact.tags",
            ValueType.SET,
            "the contact's tags, such as vip",
            lambda s: s.contact.tags if s.contact else frozenset(),
        ),
    )
}

TIME_FIELDS = tuple(_TIME_FIELDS)
"""The fields a time trigger can count from."""


@attrs.frozen
class Operator:
    name: str
    applies_to: frozenset[ValueType]
    value: ValueType | None
    """The type of the value it compares with, or None when it takes none."""
    description: str


def _op(name: str, types: set[ValueType], value: ValueType | None, description: str) -> Operator:
    return Operator(name, frozenset(types), value, description)


_SCALARS = {ValueType.TEXT, ValueType.CHOICE, ValueType.BOOL, ValueType.NUMBER}
OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        _op("eq", _SCALARS, None, "equals the value (of the field's own type)"),
        _op("ne", _SCALARS, None, "differs from the value"),
        _op("in", {ValueType.TEXT, ValueType.CHOICE}, ValueType.SET, "is one of the values"),
        _op("not_in", {ValueType.TEXT, ValueType.CHOICE}, ValueType.SET, "is none of the values"),
        _op(
            "contains",
            {ValueType.TEXT, ValueType.SET},
            ValueType.TEXT,
            "text: contains it, ignoring case; set: has it",
        ),
        _op("not_contains", {ValueType.TEXT, ValueType.SET}, ValueType.TEXT, "the opposite of contains"),
        _op("gt", {ValueType.NUMBER}, ValueType.NUMBER, "greater than"),
        _op("gte", {ValueType.NUMBER}, ValueType.NUMBER, "greater than or equal to"),
        _op("lt", {ValueType.NUMBER}, ValueType.NUMBER, "less than"),
        _op("lte", {ValueType.NUMBER}, ValueType.NUMBER, "less than or equal to"),
        _op("is_empty", {ValueType.SET, ValueType.TEXT}, None, "has nothing in it"),
        _op("is_not_empty", {ValueType.SET, ValueType.TEXT}, None, "has something in it"),
        _op("is_set", {ValueType.TIME}, None, "has a time"),
        _op("is_not_set", {ValueType.TIME}, None, "has no time"),
        _op(
            "older_than",
            {ValueType.TIME},
            ValueType.DURATION,
            "has a time, and at least the duration has passed since (the exact end counts as older)",
        ),
        _op(
            "within",
            {ValueType.TIME},
            ValueType.DURATION,
            "has a time, and less than the duration has passed",
        ),
    )
}
NO_VALUE = frozenset({"is_empty", "is_not_empty", "is_set", "is_not_set"})


class ActionKind(enum.Enum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ASSIGN_ROUND_ROBIN = "assign_round_robin"
    CLOSE = "close"
    REOPEN = "reopen"
    STAR = "star"
    UNSTAR = "unstar"
    MARK_READ = "mark_read"
    MARK_UNREAD = "mark_unread"
    SNOOZE = "snooze"
    UNSNOOZE = "unsnooze"
    OPEN_LINKED_CONVERSATION = "open_linked_conversation"


@attrs.frozen
class ActionSpec:
    kind: ActionKind
    params: tuple[tuple[str, ValueType, str], ...]
    changes: frozenset[str]
    """The fields the action can change: a time rule must change one it depends on, or it would fire
    forever."""
    description: str


_USER_OR = "a user id, or {}"
ACTIONS: dict[ActionKind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(
            ActionKind.ASSIGN,
            (("user", ValueType.USER, "a user id"),),
            frozenset({"assignees", "assignee_count"}),
            "assign a member",
        ),
        ActionSpec(
            ActionKind.UNASSIGN,
            (("user", ValueType.USER, _USER_OR.format("'all', or 'unavailable'")),),
            frozenset({"assignees", "assignee_count"}),
            "unassign one user, all, or those away or offline",
        ),
        ActionSpec(
            ActionKind.ASSIGN_ROUND_ROBIN,
            (("users", ValueType.USERS, "the user ids to take turns"),),
            frozenset({"assignees", "assignee_count"}),
            "assign the next available user of a rotation",
        ),
        ActionSpec(ActionKind.CLOSE, (), frozenset({"status", "closed_at"}), "close it"),
        ActionSpec(
            ActionKind.REOPEN, (), frozenset({"status", "closed_at"}), "reopen it, keeping its assignees"
        ),
        ActionSpec(
            ActionKind.STAR,
            (("user", ValueType.USER, _USER_OR.format("'assignees'")),),
            frozenset({"starred_by"}),
            "star it for a user or for its assignees",
        ),
        ActionSpec(
            ActionKind.UNSTAR,
            (("user", ValueType.USER, _USER_OR.format("'assignees'")),),
            frozenset({"starred_by"}),
            "unstar it",
        ),
        ActionSpec(
            ActionKind.MARK_READ,
            (("user", ValueType.USER, _USER_OR.format("'everyone'")),),
            frozenset({"unread"}),
            "mark it read",
        ),
        ActionSpec(
            ActionKind.MARK_UNREAD,
            (("user", ValueType.USER, _USER_OR.format("'everyone'")),),
            frozenset({"unread"}),
            "mark it unread",
        ),
        ActionSpec(
            ActionKind.SNOOZE,
            (("for", ValueType.DURATION, "how long, e.g. P1D"),),
            frozenset({"snoozed", "snoozed_until"}),
            "snooze it until a later time (the default rules wake it then, or when the contact writes)",
        ),
        ActionSpec(ActionKind.UNSNOOZE, (), frozenset({"snoozed", "snoozed_until"}), "end a snooze"),
        ActionSpec(
            ActionKind.OPEN_LINKED_CONVERSATION,
            (),
            frozenset(),
            "open a new conversation linked to this one, with the message that triggered the rule",
        ),
    )
}

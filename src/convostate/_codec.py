"""The JSON codec behind :mod:`convostate.codec` (whose docstring describes the format): one cattrs
converter, configured once at import."""

from __future__ import annotations

import base64
import enum
import json
import math
import reprlib
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final, TypeVar, overload

import attrs
import cattrs
import pendulum
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception, transform_error

from convostate._core.actors import Actor, ActorKind
from convostate._core.analytics.durations import DurationStats
from convostate._core.business_hours import BUSINESS_PREFIX, BusinessDuration, BusinessHours
from convostate._core.commands import Command
from convostate._core.errors import ConvostateError, InvalidInput
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, RuleId, UserId
from convostate._core.model import (
    AccountSettings,
    Availability,
    Contact,
    Conversation,
    Inbox,
    Message,
    User,
)
from convostate._core.retention import RetentionPolicy
from convostate._core.timing import CalendarDuration
from convostate._core.validate import aware_datetime
from convostate._ports.records import DueTimer, OutgoingEmail, TabCount
from convostate._service.analytics_results import (
    ContactConversation,
    ContactInfo,
    Figures,
    Reopens,
    Report,
    ReportRow,
)
from convostate._service.erasure import ContactErasure, RetentionSweep
from convostate._service.results import (
    Badges,
    Delivery,
    ExportResult,
    HistoryEntry,
    Outcome,
    Page,
    StuckTimer,
    Sweep,
)

SCHEMA: Final = 1
"""The version of the wire format, written as ``"schema"`` in every top-level document."""

TYPES: Final[Mapping[str, type[Any]]] = types.MappingProxyType(
    {
        cls.__name__: cls
        for cls in (
            *typing.get_args(Event),
            *typing.get_args(Command),
            *(Conversation, Message, User, Inbox, Contact, AccountSettings),
            *(Outcome, Page, Badges, HistoryEntry, Sweep, StuckTimer, DueTimer, TabCount),
            *(ExportResult, Delivery, OutgoingEmail),
            *(ContactInfo, ContactConversation, Figures, Reopens, DurationStats, Report, ReportRow),
            *(ContactErasure, RetentionSweep, RetentionPolicy),
        )
    }
)
"""The classes the codec reads and writes, by their ``"type"`` tag: the values that are JSON objects."""

_TAGGED = frozenset(TYPES.values())
_SCALARS: dict[type[Any], str] = {str: "a string", int: "a whole number", bool: "true or false"}
_ACTOR_IDS: dict[ActorKind, Callable[[str], UserId | ContactId | RuleId]] = {
    ActorKind.USER: UserId,
    ActorKind.CONTACT: ContactId,
    ActorKind.RULE: RuleId,
}
_INSTANT = "an ISO 8601 date and time with its UTC offset, such as '2026-03-02T09:00:00+00:00'"

T = TypeVar("T")


def _expect(value: object, expected: type[T], what: str) -> T:
    if isinstance(value, expected) and not (isinstance(value, bool) and expected is int):
        return value
    raise InvalidInput(f"expected {what}, got {type(value).__name__} {reprlib.repr(value)}")


def _structure_instant(value: object, _: object) -> pendulum.DateTime:
    text = _expect(value, str, _INSTANT)
    try:
        instant = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        utc = aware_datetime(instant) if instant.tzinfo is not None else None
    except (ValueError, OverflowError):
        raise InvalidInput(f"{text!r} is not {_INSTANT}") from None
    if utc is None:
        raise InvalidInput(f"{text!r} has no UTC offset, so its instant is unknown; expected {_INSTANT}")
    return utc


def _structure_window(value: object, _: object) -> CalendarDuration | BusinessDuration:
    text = _expect(
        value, str, "an ISO 8601 duration such as 'P1W', or business time such as 'business:PT24H'"
    )
    return BusinessDuration.parse(text) if text.startswith(BUSINESS_PREFIX) else CalendarDuration.parse(text)


def _structure_actor(value: object, _: object) -> Actor:
    text = _expect(value, str, "an actor such as 'user:ana', 'contact:maria' or 'rule:reopen-on-inbound'")
    kind_text, _colon, id_text = text.partition(":")
    kind = next((kind for kind in ActorKind if kind.value == kind_text), None)
    if kind is None:
        raise InvalidInput(f"{text!r} is not an actor; expected 'user:<id>', 'contact:<id>' or 'rule:<id>'")
    actor_id = _ACTOR_IDS[kind](id_text)
    return Actor.user(actor_id) if isinstance(actor_id, UserId) else Actor(kind, actor_id)


def _structure_bytes(value: object, _: object) -> bytes:
    text = _expect(value, str, "base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise InvalidInput(f"expected base64 text, got {reprlib.repr(text)}") from None


def _structure_enum(value: object, enum_type: type[enum.Enum]) -> enum.Enum:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum_type)
        raise InvalidInput(f"expected one of {allowed}, got {reprlib.repr(value)}") from None


def _is_collection(type_: Any) -> bool:
    return typing.get_origin(type_) in (tuple, frozenset)


def _unstructure_collection(type_: Any) -> Callable[[Any], list[Any]]:
    """Tuples as arrays; frozensets as sorted arrays (their members are text), so equal values encode the
    same."""
    item_type, is_set = typing.get_args(type_)[0], typing.get_origin(type_) is frozenset

    def unstructure(items: Any) -> list[Any]:
        encoded = [_converter.unstructure(item, item_type) for item in items]
        return sorted(encoded) if is_set else encoded

    return unstructure


def _structure_collection(type_: Any) -> Callable[[object, object], Any]:
    """From a JSON array only (cattrs alone would take a string as a sequence of letters)."""
    container = typing.get_origin(type_)
    as_list: Any = types.GenericAlias(list, typing.get_args(type_)[:1])
    return lambda value, _: container(_converter.structure(_expect(value, list, "an array"), as_list))


def _is_tagged_union(type_: Any) -> bool:
    members = typing.get_args(type_)
    return typing.get_origin(type_) in (typing.Union, types.UnionType) and all(m in _TAGGED for m in members)


def _structure_tagged_union(type_: Any) -> Callable[[object, object], Any]:
    """An event or a command: the class its ``"type"`` names, among the union's."""
    members = {member.__name__: member for member in typing.get_args(type_)}

    def structure(value: object, _: object) -> Any:
        tag = _expect(value, dict, 'an object with a "type"').get("type")
        if not isinstance(tag, str) or tag not in members:
            raise InvalidInput(f'expected "type" to be one of {", ".join(members)}; got {tag!r}')
        return _converter.structure(value, members[tag])

    return structure


_RARELY_SET = (
    "clock_read",
    "business_hours",
    "availability",
    "reopen_skips_unavailable",
    "skipped",
    "because",
    "retention",
    "erased_at",
    "erased_by",
)


def _rarely_set(cls: type[Any]) -> dict[str, Any]:
    """An event's clock_read is set only when the host's clock was behind, business hours only by the
    accounts and inboxes that use them, a user's availability and the account's reopen routing only when
    they differ from their defaults, an assignment's skipped users and an unassignment's reason only when
    a user's availability caused them, an account's retention policy and a contact's erasure only when set:
    left out of documents otherwise (so documents written before they
    existed read the same)."""
    if not attrs.has(cls):
        return {}
    fields = attrs.fields_dict(cls)
    return {name: override(omit_if_default=True) for name in _RARELY_SET if name in fields}


def _unstructure_tagged(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    tag, fields = cls.__name__, make_dict_unstructure_fn(cls, _converter, **_rarely_set(cls))
    return lambda value: {"type": tag, **fields(value)}


def _structure_tagged(cls: type[Any]) -> Callable[[object, object], Any]:
    tag, fields = cls.__name__, make_dict_structure_fn(cls, _converter)

    def structure(value: object, _: object) -> Any:
        document = dict(_expect(value, dict, f"a {tag} object"))
        found = document.pop("type", None)
        if found != tag:
            raise InvalidInput(f'expected a {tag} object, with "type": "{tag}"; got "type": {found!r}')
        return fields(document, cls)  # the class's own constructor: its checks run

    return structure


_SKIPPED: Final = tuple[tuple[UserId, Availability], ...]


def _structure_skipped(value: object, _: object) -> tuple[tuple[UserId, Availability], ...]:
    pairs = []
    for pair in _expect(value, list, 'an array of [user id, availability] pairs such as [["bo", "away"]]'):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidInput(
                f'expected a [user id, availability] pair such as ["bo", "away"], got {pair!r}'
            )
        pairs.append((_structure_id(pair[0], UserId), _converter.structure(pair[1], Availability)))
    return tuple(pairs)


def _structure_seconds(value: object, _: object) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"expected a duration in seconds (a number), got {value!r}")
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise InvalidInput(f"a duration of {value} seconds is out of range") from None


def _structure_date(value: object, _: object) -> date:
    try:
        return date.fromisoformat(_expect(value, str, "an ISO 8601 date such as '2026-11-30'"))
    except ValueError:
        raise InvalidInput(f"expected an ISO 8601 date such as '2026-11-30', got {value!r}") from None


def _structure_scalar(value: object, scalar: type[Any]) -> Any:
    return _expect(value, scalar, _SCALARS[scalar])


def _structure_id(value: object, id_type: Callable[[str], Any]) -> Any:
    return id_type(_expect(value, str, "an id (a string)"))


_converter = cattrs.Converter(forbid_extra_keys=True)
for _scalar in _SCALARS:
    _converter.register_structure_hook(_scalar, _structure_scalar)
for _id_type in (UserId, InboxId, ContactId, ConversationId, MessageId, RuleId):
    _converter.register_unstructure_hook(_id_type, str)
    _converter.register_structure_hook(_id_type, _structure_id)
_converter.register_unstructure_hook(datetime, lambda instant: aware_datetime(instant).isoformat())
_converter.register_structure_hook(pendulum.DateTime, _structure_instant)
# A measured duration (analytics) is a number of seconds, what a chart or a spreadsheet takes as it is; a
# report's day is an ISO 8601 date.
_converter.register_unstructure_hook(timedelta, lambda elapsed: elapsed / timedelta(seconds=1))
_converter.register_structure_hook(timedelta, _structure_seconds)
_converter.register_unstructure_hook(date, lambda day: day.isoformat())
_converter.register_structure_hook(date, _structure_date)
_converter.register_unstructure_hook(CalendarDuration, str)
_converter.register_structure_hook(
    CalendarDuration, lambda value, _: CalendarDuration.parse(_expect(value, str, "an ISO 8601 duration"))
)
_converter.register_unstructure_hook(BusinessDuration, str)
_converter.register_structure_hook(
    BusinessDuration,
    lambda value, _: BusinessDuration.parse(
        _expect(value, str, "a business duration such as 'business:PT24H'")
    ),
)
_converter.register_structure_hook_factory(
    lambda type_: type_ == (CalendarDuration | BusinessDuration),
    lambda _: _structure_window,
)
_converter.register_unstructure_hook(BusinessHours, BusinessHours.to_data)
_converter.register_structure_hook(BusinessHours, lambda value, _: BusinessHours.from_data(value))
_converter.register_unstructure_hook(Actor, str)
_converter.register_structure_hook(Actor, _structure_actor)
_converter.register_unstructure_hook(bytes, lambda data: base64.b64encode(data).decode("ascii"))
_converter.register_structure_hook(bytes, _structure_bytes)
_converter.register_structure_hook(enum.Enum, _structure_enum)  # every enum: a singledispatch hook
_converter.register_unstructure_hook_factory(_is_collection, _unstructure_collection)
_converter.register_structure_hook_factory(_is_collection, _structure_collection)
_converter.register_structure_hook_factory(_is_tagged_union, _structure_tagged_union)
_converter.register_unstructure_hook_factory(_TAGGED.__contains__, _unstructure_tagged)
_converter.register_structure_hook_factory(_TAGGED.__contains__, _structure_tagged)
# Who a round-robin turn passed over, in rotation order: pairs such as ["bo", "away"] (after the
# collections' factories, which would otherwise take them).
_converter.register_unstructure_hook_factory(
    lambda type_: type_ == _SKIPPED, lambda _: lambda pairs: [[str(u), a.value] for u, a in pairs]
)
_converter.register_structure_hook_factory(lambda type_: type_ == _SKIPPED, lambda _: _structure_skipped)


def to_data(value: object) -> dict[str, Any]:
    """``value`` as plain JSON data (dicts, lists, text, numbers, booleans, None), tagged with its type and
    the schema version."""
    if type(value) not in _TAGGED:
        raise InvalidInput(
            f"to_data encodes convostate values such as Closed, Conversation or Outcome "
            f"(see convostate.codec.TYPES), got {type(value).__name__}"
        )
    encoded: dict[str, Any] = _converter.unstructure(value)
    return {"type": encoded.pop("type"), "schema": SCHEMA, **encoded}


def to_json(value: object) -> str:
    """``value`` as a compact JSON document (UTF-8 text, not escaped to ASCII)."""
    return json.dumps(to_data(value), ensure_ascii=False, separators=(",", ":"))


@overload
def from_data(data: object, type_: type[T]) -> T: ...
@overload
def from_data(data: object, type_: None = None) -> object: ...
def from_data(data: object, type_: type[Any] | None = None) -> object:
    """The value a document encodes: of the class its ``"type"`` names, which must be ``type_`` if given."""
    if type_ is not None and type_ not in _TAGGED:
        raise InvalidInput(f"from_data decodes the classes of convostate.codec.TYPES, not {type_!r}")
    document = dict(_expect(data, dict, 'a JSON object with a "type" and a "schema"'))
    schema = document.pop("schema", None)
    if type(schema) is not int or schema != SCHEMA:
        raise InvalidInput(
            f'expected "schema": {SCHEMA}, the version of the format this release reads; got '
            + ("no schema" if schema is None else f"{schema!r}")
        )
    tag = document.get("type")
    if not isinstance(tag, str) or tag not in TYPES:
        raise InvalidInput(f'unknown "type" {tag!r}; expected one of {", ".join(TYPES)}')
    if type_ is not None and TYPES[tag] is not type_:
        raise InvalidInput(f'expected a {type_.__name__} document, got "type": {tag!r}')
    try:
        return _converter.structure(document, TYPES[tag])
    except ConvostateError:
        raise
    except Exception as error:  # cattrs' grouped errors: say each problem, with where it is
        problems = transform_error(error, format_exception=_problem)
        raise InvalidInput(f"not a valid {tag} document: {'; '.join(problems)}") from error


@overload
def from_json(text: str | bytes, type_: type[T]) -> T: ...
@overload
def from_json(text: str | bytes, type_: None = None) -> object: ...
def from_json(text: str | bytes, type_: type[Any] | None = None) -> object:
    """The value a JSON document encodes (see :func:`from_data`)."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise InvalidInput(f"from_json reads JSON text, got {type(text).__name__}; use from_data for data")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"not a JSON document: {error}") from None
    return from_data(data, type_)


def _problem(error: BaseException, type_: Any) -> str:
    return str(error) if isinstance(error, ConvostateError) else format_exception(error, type_)

"""The memory store's event log, kept packed: each conversation's events as one run of bytes.

Why: the log is most of what a conversation costs in memory (about 1.3 KiB of a 3.4 KiB conversation as
Python objects: the events, their messages, their instants), yet it is read only to show a history, to
export or to erase. Packed, an event takes some 40 bytes. Each event becomes a tuple of plain values (ids as
their text, instants as microseconds since the epoch, enums as their values, the conversation's own id left
out) and each commit's events one ``marshal`` record appended to the conversation's bytes. Reading decodes
them with the classes' constructors, so a read gives values equal to what was appended, in UTC as every
instant convostate keeps is. ``marshal`` is the standard library's fastest serializer of plain values;
its format may change between Python versions, which does not matter for bytes that never leave the process.

A conversation's bytes are a ``bytes`` object while they are short and a ``bytearray`` once they pass
``_GROWABLE_AFTER``, so that a long conversation appends in amortized constant time instead of copying its
whole log on every commit.
"""

from __future__ import annotations

import io
import marshal
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import pendulum

from convostate._core.actors import Actor, ActorKind
from convostate._core.errors import InvalidInput
from convostate._core.events import (
    Assigned,
    Closed,
    ConversationStarted,
    Event,
    MarkedRead,
    MarkedUnread,
    MessageReceived,
    MessageSent,
    Reopened,
    ReopenReason,
    Snoozed,
    Starred,
    Unassigned,
    Unsnoozed,
    Unstarred,
)
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, RuleId, UserId
from convostate._core.instants import utc_instant
from convostate._core.model import Availability, Direction, Message
from convostate._core.timing import epoch_microseconds
from convostate._core.validate import aware_datetime
from convostate._ports.changes import RewrittenEvent

_GROWABLE_AFTER: Final = 2_048
"""Bytes after which a conversation's log becomes a ``bytearray``: below, ``bytes`` is 24 bytes smaller and
copying it on append costs less than the dictionary lookup around it."""

_Record = tuple[Any, ...]
_Packed = bytes | bytearray

_ACTOR_KINDS: Final = (ActorKind.USER, ActorKind.CONTACT, ActorKind.RULE)
_ACTOR_CODES: Final = {kind._value_: code for code, kind in enumerate(_ACTOR_KINDS)}
"""By the kinds' values: an enum member's hash is a Python call, and every event has an actor."""
_ACTORS: Final[tuple[Callable[[str], Actor], ...]] = (
    lambda text: Actor.user(UserId(text)),
    lambda text: Actor.contact(ContactId(text)),
    lambda text: Actor.rule(RuleId(text)),
)


def _micros(instant: pendulum.DateTime) -> int:
    """An instant as epoch microseconds, or InvalidInput for one every store refuses (naive, or outside
    the years 1970 to 8999): a hand-made event's instant of another era would be kept, and then no read
    could decode it."""
    return epoch_microseconds(aware_datetime(instant))


def _instant(microseconds: int | None) -> pendulum.DateTime | None:
    return None if microseconds is None else utc_instant(microseconds)


def _maybe_user(text: str | None) -> UserId | None:
    return None if text is None else UserId(text)


def _message(message: Message, conversation_id: ConversationId, at: pendulum.DateTime) -> _Record:
    """A message's fields; its conversation and its sent_at are left out (None) when they are the event's,
    as they are in every message the decider records."""
    author = message.author
    return (
        message.id.value,
        (
            None
            if message.conversation_id is conversation_id or message.conversation_id == conversation_id
            else message.conversation_id.value
        ),
        message.direction is Direction.INBOUND,
        _ACTOR_CODES[author.kind._value_],
        author.id.value,
        message.body,
        None if message.sent_at is at or message.sent_at == at else _micros(message.sent_at),
        message.external_id,
    )


def _unpack_message(fields: _Record, conversation_id: ConversationId, at: pendulum.DateTime) -> Message:
    message_id, other_conversation, inbound, author_kind, author_id, body, sent_at, external_id = fields
    return Message(
        MessageId(message_id),
        conversation_id if other_conversation is None else ConversationId(other_conversation),
        Direction.INBOUND if inbound else Direction.OUTBOUND,
        _ACTORS[author_kind](author_id),
        body,
        at if sent_at is None else utc_instant(sent_at),
        external_id,
    )


# Each kind of event: what it adds to the fields every event has, and how to read that back. The position
# of a kind in this table is its code in the log, which is never kept beyond the process.
_Pack = Callable[[Any, ConversationId], _Record]
_Unpack = Callable[[_Record, ConversationId, pendulum.DateTime], dict[str, Any]]
_KINDS: Final[tuple[tuple[type[Any], _Pack, _Unpack], ...]] = (
    (
        ConversationStarted,
        lambda event, _: (
            event.inbox_id.value,
            event.contact_id.value,
            None if event.linked_from is None else event.linked_from.value,
        ),
        lambda fields, _, __: {
            "inbox_id": InboxId(fields[0]),
            "contact_id": ContactId(fields[1]),
            "linked_from": None if fields[2] is None else ConversationId(fields[2]),
        },
    ),
    (
        MessageReceived,
        lambda event, conversation_id: _message(event.message, conversation_id, event.at),
        lambda fields, conversation_id, at: {"message": _unpack_message(fields, conversation_id, at)},
    ),
    (
        MessageSent,
        lambda event, conversation_id: _message(event.message, conversation_id, event.at),
        lambda fields, conversation_id, at: {"message": _unpack_message(fields, conversation_id, at)},
    ),
    (
        Assigned,
        lambda event, _: (
            event.user_id.value,
            *(value for user, availability in event.skipped for value in (user.value, availability.value)),
        ),
        lambda fields, _, __: {
            "user_id": UserId(fields[0]),
            "skipped": tuple(
                (UserId(user), Availability(availability))
                for user, availability in zip(fields[1::2], fields[2::2], strict=True)
            ),
        },
    ),
    (
        Unassigned,
        lambda event, _: (event.user_id.value, None if event.because is None else event.because.value),
        lambda fields, _, __: {
            "user_id": UserId(fields[0]),
            "because": None if fields[1] is None else Availability(fields[1]),
        },
    ),
    (
        Closed,
        lambda event, _: tuple(user.value for user in event.assignees),
        lambda fields, _, __: {"assignees": frozenset(UserId(user) for user in fields)},
    ),
    (
        Reopened,
        lambda event, _: (event.reason is ReopenReason.BY_USER, _micros(event.closed_at)),
        lambda fields, _, __: {
            "reason": ReopenReason.BY_USER if fields[0] else ReopenReason.BY_RULE,
            "closed_at": utc_instant(fields[1]),
        },
    ),
    (
        Snoozed,
        lambda event, _: (_micros(event.until),),
        lambda fields, _, __: {"until": utc_instant(fields[0])},
    ),
    (Unsnoozed, lambda event, _: (), lambda fields, _, __: {}),
    (Starred, lambda event, _: (event.user_id.value,), lambda fields, _, __: {"user_id": UserId(fields[0])}),
    (
        Unstarred,
        lambda event, _: (event.user_id.value,),
        lambda fields, _, __: {"user_id": UserId(fields[0])},
    ),
    (
        MarkedRead,
        lambda event, _: (None if event.for_user is None else event.for_user.value,),
        lambda fields, _, __: {"for_user": _maybe_user(fields[0])},
    ),
    (
        MarkedUnread,
        lambda event, _: (None if event.for_user is None else event.for_user.value,),
        lambda fields, _, __: {"for_user": _maybe_user(fields[0])},
    ),
)
_PACKERS: Final[dict[type[Any], tuple[int, _Pack]]] = {
    kind: (code, pack) for code, (kind, pack, _) in enumerate(_KINDS)
}


def _pack(event: Event, conversation_id: ConversationId, at: int) -> _Record:
    code, pack = _PACKERS[type(event)]
    actor = event.actor
    clock_read = event.clock_read
    return (
        code,
        (
            None
            if event.conversation_id is conversation_id or event.conversation_id == conversation_id
            else event.conversation_id.value
        ),
        _ACTOR_CODES[actor.kind._value_],
        actor.id.value,
        at,
        None if clock_read is None else _micros(clock_read),
        pack(event, conversation_id),
    )


def pack(conversation_id: ConversationId, events: Sequence[Event]) -> bytes:
    """One commit's events of a conversation, packed, for :meth:`EventLog.append` (which cannot fail); or
    InvalidInput for an event the log cannot keep (a hand-made change set's). The store packs before it
    writes anything, so a refused event leaves it as it was."""
    records = []
    last_at, at = None, 0
    for event in events:
        try:
            if event.at is not last_at:  # a command's events share their instant: converted once
                last_at, at = event.at, _micros(event.at)
            records.append(_pack(event, conversation_id, at))
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as error:
            raise _unstorable(event, conversation_id, error) from error
    try:
        return _dumps(tuple(records))
    except ValueError:  # a value marshal cannot keep, in a field a hand-made event filled: say which
        for event, record in zip(events, records, strict=True):
            try:
                _dumps(record)
            except ValueError as error:
                raise _unstorable(event, conversation_id, error) from error
        raise


def _unstorable(event: object, conversation_id: ConversationId, error: Exception) -> InvalidInput:
    if type(event) not in _PACKERS:
        reason = f"a {type(event).__name__} is not one of convostate's events"
    elif isinstance(error, TypeError) and "naive" in str(error):
        reason = "an instant in it is naive; every instant must carry its timezone"
    else:
        reason = f"{type(error).__name__}: {error}"
    return InvalidInput(f"an event of conversation {conversation_id} cannot be stored ({reason}): {event!r}")


def pack_rewrites(rewritten: Iterable[RewrittenEvent]) -> dict[ConversationId, dict[int, _Record]]:
    """An erasure's events, each as the record (of plain values) that replaces the one at its version, by
    conversation: packed before anything is written, as :func:`pack` is."""
    rewrites: dict[ConversationId, dict[int, _Record]] = {}
    for each in rewritten:
        (record,) = marshal.loads(pack(each.conversation_id, [each.event]))
        rewrites.setdefault(each.conversation_id, {})[each.version] = record
    return rewrites


def unpack(conversation_id: ConversationId, packed: bytes) -> tuple[Event, ...]:
    """The events of a conversation's packed log, decoded without the store's lock (``packed`` is a copy)."""
    return tuple([_unpack(record, conversation_id) for record in _records(packed)])


def _unpack(record: _Record, conversation_id: ConversationId) -> Event:
    code, other_conversation, actor_kind, actor_id, at, clock_read, fields = record
    kind, _, unpack_fields = _KINDS[code]
    instant = utc_instant(at)
    event: Event = kind(
        conversation_id if other_conversation is None else ConversationId(other_conversation),
        _ACTORS[actor_kind](actor_id),
        instant,
        clock_read=_instant(clock_read),
        **unpack_fields(fields, conversation_id, instant),
    )
    return event


def _dumps(records: _Record) -> bytes:
    try:
        return marshal.dumps(records)
    except ValueError:  # marshal takes exact types only: text of a str subclass (a template's safe string)
        return marshal.dumps(_plain(records))


def _plain(value: Any) -> Any:
    """``value`` with each text in it as an exact ``str`` (``str.__str__`` copies a subclass's text,
    whatever the subclass overrides); reading it back gives plain text, as the SQL store does."""
    if isinstance(value, tuple):
        return tuple([_plain(item) for item in value])
    if isinstance(value, str):
        return str.__str__(value)
    return value


def _records(packed: _Packed) -> Iterable[_Record]:
    stream = io.BytesIO(packed)
    end = len(packed)
    while stream.tell() < end:
        yield from marshal.load(stream)


class EventLog:
    """Every conversation's events, packed; the caller (the memory store) holds the lock. Nothing here
    can fail on what :func:`pack` and :func:`pack_rewrites` made, so a commit writes all of it or, refused
    before, none."""

    def __init__(self) -> None:
        self._packed: dict[ConversationId, _Packed] = {}

    def append(self, conversation_id: ConversationId, chunk: bytes) -> None:
        packed = self._packed.get(conversation_id)
        if packed is None:
            self._packed[conversation_id] = chunk
        elif type(packed) is bytearray:
            packed += chunk
        elif len(packed) + len(chunk) <= _GROWABLE_AFTER:
            self._packed[conversation_id] = packed + chunk
        else:
            self._packed[conversation_id] = bytearray(packed) + chunk

    def packed(self, conversation_id: ConversationId) -> bytes:
        """A conversation's log as it is now, to decode outside the lock: a long log is a ``bytearray``
        that later commits extend in place, so it is copied (a memory copy, far cheaper than decoding)."""
        packed = self._packed.get(conversation_id, b"")
        return packed if type(packed) is bytes else bytes(packed)

    def rewrite(self, conversation_id: ConversationId, records: Mapping[int, _Record]) -> None:
        """Put each record of ``records`` in place of the one at its version (an erasure), repacking the
        conversation's log once however many it rewrites. Only plain records are moved, none decoded."""
        stored = list(_records(self._packed[conversation_id]))
        for version, record in records.items():
            stored[version - 1] = record
        packed = marshal.dumps(tuple(stored))
        self._packed[conversation_id] = packed if len(packed) <= _GROWABLE_AFTER else bytearray(packed)

    def dump(self) -> dict[ConversationId, tuple[Event, ...]]:
        return {each: unpack(each, self.packed(each)) for each in self._packed}


__all__ = ["EventLog", "pack", "pack_rewrites", "unpack"]

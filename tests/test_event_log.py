"""The memory store keeps its event log packed (``_adapters/event_log.py``): whatever is appended reads back
as the same events, of the same classes, with the same fields, in the same order, however the appends are
split, however long the log grows, and after an erasure rewrites some of them. Its contacts' analytics are
packed too (``_adapters/analytics_index.py``), and read back as the facts added up."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import Actor, ContactId, ConversationId, Helpdesk, MessageId, Role, UserId
from convostate._adapters.analytics_index import AnalyticsIndex
from convostate._adapters.event_log import _GROWABLE_AFTER, EventLog, pack, pack_rewrites, unpack
from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.events import (
    Assigned,
    Event,
    MessageReceived,
    MessageSent,
    Unassigned,
    Unsnoozed,
)
from convostate._core.model import Availability, Direction, Message
from convostate._ports.changes import RewrittenEvent
from convostate._ports.records import ContactTotal, DurationSample
from convostate.testing import ManualClock
from tests.test_codec import events as any_events
from tests.test_codec import ids, instants

CONVERSATION = ConversationId("conversation-1")
AT = pendulum.datetime(2026, 3, 2, 9, 0, 0, 123, tz="UTC")

skipped = st.lists(st.tuples(ids(UserId), st.sampled_from(Availability)), max_size=3).map(tuple)


@st.composite
def events(draw: st.DrawFn) -> Event:
    """Any event (of this conversation, as the decider records them, or of any other), now and then with
    the fields the codec's strategy leaves at their defaults: a clock read, skipped users, a reason."""
    event: Event = draw(any_events)
    if draw(st.booleans()):
        event = attrs.evolve(event, conversation_id=CONVERSATION)
        if isinstance(event, (MessageReceived, MessageSent)) and draw(st.booleans()):
            message = attrs.evolve(event.message, conversation_id=CONVERSATION, sent_at=event.at)
            event = attrs.evolve(event, message=message)
    if draw(st.booleans()):
        event = attrs.evolve(event, clock_read=draw(instants))
    if isinstance(event, Assigned):
        event = attrs.evolve(event, skipped=draw(skipped))
    if isinstance(event, Unassigned):
        event = attrs.evolve(event, because=draw(st.none() | st.sampled_from(Availability)))
    return event


def append(log: EventLog, events: Sequence[Event]) -> None:
    log.append(CONVERSATION, pack(CONVERSATION, events))


def read(log: EventLog, conversation_id: ConversationId = CONVERSATION) -> tuple[Event, ...]:
    return unpack(conversation_id, log.packed(conversation_id))


def rewritten(events: dict[int, Event]) -> list[RewrittenEvent]:
    return [RewrittenEvent(CONVERSATION, version, event) for version, event in events.items()]


def alike(read: object, written: object) -> None:
    """Equal, of the same class, and so down every field: ids of the same id class, instants in UTC."""
    assert read == written
    assert type(read) is type(written)
    if isinstance(written, datetime):
        assert typing.cast(datetime, read).utcoffset() == written.utcoffset() == timedelta(0)
    elif attrs.has(type(written)):
        for field in attrs.fields(typing.cast("type[attrs.AttrsInstance]", type(written))):
            alike(getattr(read, field.name), getattr(written, field.name))
    elif isinstance(written, (tuple, frozenset)):
        items = typing.cast("tuple[object, ...] | frozenset[object]", read)
        for read_item, written_item in zip(sorted(items, key=repr), sorted(written, key=repr), strict=True):
            alike(read_item, written_item)


def same(read: tuple[Event, ...], written: Sequence[Event]) -> None:
    assert len(read) == len(written)
    for read_event, written_event in zip(read, written, strict=True):
        alike(read_event, written_event)


@given(st.lists(st.lists(events(), min_size=1, max_size=5), max_size=6))
def test_what_is_appended_reads_back_the_same_however_the_appends_are_split(
    appends: list[list[Event]],
) -> None:
    log = EventLog()
    for chunk in appends:
        append(log, chunk)
    same(read(log), [event for chunk in appends for event in chunk])
    assert read(log, ConversationId("another")) == ()


@given(st.lists(events(), min_size=1, max_size=8), st.data())
def test_an_erasure_rewrites_the_events_it_names_and_no_other(
    written: list[Event], data: st.DataObject
) -> None:
    log = EventLog()
    append(log, written)
    versions = data.draw(st.sets(st.integers(1, len(written)), max_size=len(written)))
    rewrites = {version: data.draw(events()) for version in versions}
    log.rewrite(CONVERSATION, pack_rewrites(rewritten(rewrites)).get(CONVERSATION, {}))
    expected = [rewrites.get(version, event) for version, event in enumerate(written, start=1)]
    same(read(log), expected)


def _message(n: int) -> MessageReceived:
    author = Actor.contact(ContactId("maria"))
    at = AT.add(minutes=n)
    message = Message(MessageId(f"m-{n}"), CONVERSATION, Direction.INBOUND, author, f"message {n}", at)
    return MessageReceived(CONVERSATION, author, at, message)


def test_a_long_conversation_keeps_every_event_in_order_past_the_point_where_its_log_becomes_growable() -> (
    None
):
    log = EventLog()
    written = [_message(n) for n in range(3_000)]
    for n in range(0, len(written), 3):
        append(log, written[n : n + 3])
    packed = log._packed[CONVERSATION]
    assert isinstance(packed, bytearray)
    assert len(packed) > _GROWABLE_AFTER
    same(read(log), written)


@pytest.mark.parametrize("body", ["", "\x00", "lone \ud800 surrogate", "Zoë 🎉", "x" * 1_000_000])
def test_any_text_a_message_may_hold_reads_back(body: str) -> None:
    """Whatever text the memory store accepted as objects it keeps packed: a NUL, half a surrogate pair
    (which only the SQL store refuses), a megabyte."""
    log = EventLog()
    event = _message(0)
    written = attrs.evolve(event, message=attrs.evolve(event.message, body=body))
    append(log, [written])
    same(read(log), [written])


def test_an_instant_in_another_zone_or_of_the_standard_library_reads_back_as_that_instant_in_utc() -> None:
    """The facade records pendulum instants in UTC; a hand-made change set may hold any aware datetime."""
    paris = timezone(timedelta(hours=1))
    written = Unsnoozed(
        CONVERSATION,
        Actor.user(UserId("ana")),
        typing.cast(pendulum.DateTime, datetime(2026, 3, 2, 10, 0, 0, 7, tzinfo=paris)),  # as a host may
        clock_read=pendulum.datetime(2026, 3, 2, 4, 30, tz="America/New_York"),
    )
    log = EventLog()
    append(log, [written])
    (got,) = read(log)
    assert got == written
    assert got.at == pendulum.datetime(2026, 3, 2, 9, 0, 0, 7, tz="UTC")
    assert got.at.utcoffset() == timedelta(0)
    assert got.clock_read is not None
    assert got.clock_read.utcoffset() == timedelta(0)


class _SafeText(str):
    """Text as a template engine marks it safe (Django's SafeString, markupsafe's Markup): a str subclass,
    which ``marshal`` refuses."""

    def __str__(self) -> str:
        return "overridden"


def test_text_of_a_str_subclass_is_kept_as_plain_text() -> None:
    log = EventLog()
    event = _message(0)
    message = attrs.evolve(
        event.message, id=MessageId(_SafeText("m-0")), body=_SafeText("<b>hi</b>"), external_id=_SafeText("x")
    )
    append(log, [attrs.evolve(event, message=message)])
    (got,) = read(log)
    assert isinstance(got, MessageReceived)
    assert got.message.body == "<b>hi</b>"
    assert type(got.message.body) is str
    assert got.message.external_id == "x"
    assert got.message.id == MessageId("m-0")


def test_the_memory_store_takes_a_template_engines_safe_text_as_a_message_body() -> None:
    desk = Helpdesk(clock=ManualClock(AT))
    admin = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
    inbox = desk.add_inbox("Support", members=[admin], by=admin).id
    contact = desk.add_contact(name="Maria", phone="+14155550123").id
    received = desk.receive(contact, inbox, _SafeText("<b>hi</b>"), external_id=_SafeText("wa-1"))
    (_, message) = (entry.event for entry in desk.history(received.conversation.id))
    assert isinstance(message, MessageReceived)
    assert message.message.body == "<b>hi</b>"


def test_a_message_is_packed_in_under_seventy_bytes_however_it_is_appended() -> None:
    """What the packing is for: a message event as the decider records it is some 300 bytes of objects
    (the event, its message, their instants and ids) and under 70 packed, appended one by one."""
    log = EventLog()
    for n in range(10):
        append(log, [_message(n)])
    assert len(log._packed[CONVERSATION]) < 10 * 70


# ---------------------------------------------------------------- the contacts' packed analytics


def _fact(kind: Count | Metric, conversation: str, minutes: int, value: int = 1) -> Fact:
    instant = AT.add(minutes=minutes)
    return Fact(Scope.CONTACT, "maria", kind, value, instant, instant.date(), conversation)


def test_a_contacts_packed_figures_read_back_as_counters_and_samples_of_the_right_conversations() -> None:
    """A late reply measured on an older conversation is that conversation's; a fact of a conversation the
    contact never started (only a hand-made change set has one) keeps its id and is not listed as theirs."""
    index = AnalyticsIndex()
    maria = ContactId("maria")
    older, newer = ConversationId("older"), ConversationId("newer")
    index.started(maria, older)
    index.started(maria, newer)
    index.add([_fact(Count.MESSAGES_IN, "newer", 30), _fact(Count.MESSAGES_IN, "older", 5)])
    index.add([_fact(Metric.REPLY, "older", 40, 600), _fact(Metric.REPLY, "newer", 20, 60)])
    index.add([_fact(Metric.REPLY, "elsewhere", 50, 6)])

    assert index.conversation_ids(maria) == [older, newer]
    assert index.contact_totals(maria) == {
        Count.MESSAGES_IN: ContactTotal(2, AT.add(minutes=5), AT.add(minutes=30)),
        Metric.REPLY: ContactTotal(3, AT.add(minutes=20), AT.add(minutes=50)),
    }
    assert list(index.contact_durations(maria)) == [
        DurationSample(Metric.REPLY, 600, older, AT.add(minutes=40)),
        DurationSample(Metric.REPLY, 60, newer, AT.add(minutes=20)),
        DurationSample(Metric.REPLY, 6, ConversationId("elsewhere"), AT.add(minutes=50)),
    ]
    assert index.contact_totals(ContactId("nobody")) == {}
    assert index.contact_durations(ContactId("nobody")) == ()


def test_a_contact_with_many_conversations_gets_each_duration_on_the_conversation_measured() -> None:
    """Past the few conversations a tuple holds, a contact's are indexed by id (a shared number, an import
    of years: no scan, no copy, per conversation); a late reply still lands on the old conversation, and a
    stray conversation named by many facts is kept once."""
    index = AnalyticsIndex()
    maria = ContactId("maria")
    started = [ConversationId(f"c-{n}") for n in range(50)]
    for conversation in started:
        index.started(maria, conversation)
    index.add([_fact(Metric.REPLY, "c-3", 1, 30), _fact(Metric.REPLY, "c-49", 2, 40)])
    index.add([_fact(Metric.REPLY, "elsewhere", 3, 50), _fact(Metric.REPLY, "c-7", 4, 60)])
    index.add([_fact(Metric.REPLY, "elsewhere", 5, 70), _fact(Metric.REPLY, "another", 6, 80)])

    assert index.conversation_ids(maria) == started
    assert [(sample.conversation_id.value, sample.micros) for sample in index.contact_durations(maria)] == [
        ("c-3", 30),
        ("c-49", 40),
        ("elsewhere", 50),
        ("c-7", 60),
        ("elsewhere", 70),
        ("another", 80),
    ]
    strays = index._contacts["maria"].strays
    assert strays == {"elsewhere": -1, "another": -2}


def test_a_read_decodes_the_log_as_it_was_when_read_whatever_is_appended_since() -> None:
    """The memory store copies a conversation's packed log under its lock and decodes it outside, so a
    long history keeps no commit waiting; the copy must not see the appends that follow."""
    log = EventLog()
    written = [_message(n) for n in range(200)]
    for n in range(0, len(written), 5):
        append(log, written[n : n + 5])
    assert isinstance(log._packed[CONVERSATION], bytearray)
    snapshot = log.packed(CONVERSATION)
    append(log, [_message(200)])
    same(unpack(CONVERSATION, snapshot), written)
    assert len(read(log)) == 201

"""The JSON codec (``convostate.codec``): every value round-trips exactly, the wire format is pinned by a few
whole documents, and anything that is not a document of this format is refused with ``InvalidInput``.

Commands, rules and the test clock and ids are imported from their private modules: their public homes are
moving, and these are where they live either way.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import typing
from collections.abc import Callable
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import (
    AccountSettings,
    Actor,
    Badges,
    CalendarDuration,
    Closed,
    Contact,
    ContactId,
    Conversation,
    ConversationId,
    ConversationStarted,
    Delivery,
    Direction,
    DueTimer,
    Event,
    ExportResult,
    Helpdesk,
    HistoryEntry,
    Inbox,
    InboxId,
    InvalidInput,
    MarkedRead,
    MarkedUnread,
    Message,
    MessageId,
    MessageReceived,
    MessageSent,
    Outcome,
    OutgoingEmail,
    Page,
    ReadModel,
    Reopened,
    ReopenReason,
    Role,
    RuleId,
    Snoozed,
    Starred,
    Status,
    StuckTimer,
    Sweep,
    Tab,
    TabCount,
    Unassigned,
    Unsnoozed,
    Unstarred,
    User,
    UserId,
)
from convostate._adapters.clocks import ManualClock
from convostate._adapters.ids import SequentialIds
from convostate._core.commands import (
    Assign,
    Close,
    Command,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate._core.events import Assigned
from convostate._core.model import OutboundMessage
from convostate._core.rules.defaults import DEFAULT_RULES, REOPEN_ON_INBOUND, UNASSIGN_AFTER_WINDOW
from convostate._core.rules.model import REOPEN_WINDOW, Action, OnEvent, Rule, all_of, when
from convostate.codec import SCHEMA, TYPES, from_data, from_json, to_data, to_json
from tests import builders as b
from tests import strategies as s

T = TypeVar("T")
EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")

# ---------------------------------------------------------------- strategies: values of every kind

_ID_TEXT = st.sampled_from(("ana", "conv-1", "user:ana", " spaced out ", "Zoë")) | st.text(
    s.storable, min_size=1, max_size=12
).filter(str.strip)
"""Any non-blank text: ids are opaque, so a colon or an accent in one must survive a round trip."""


def ids(kind: Callable[[str], T]) -> st.SearchStrategy[T]:
    return _ID_TEXT.map(kind)


instants = s.start_instants() | st.integers(0, 7_258_118_400 * 10**6).map(
    lambda micros: EPOCH + timedelta(microseconds=micros)
)
"""Aware instants in UTC, as convostate keeps them, microseconds included."""
maybe_instants = st.none() | instants
user_ids = s.users | ids(UserId)
user_sets = st.frozensets(user_ids, max_size=4)
acting = user_ids.map(Actor.user) | ids(RuleId).map(Actor.rule)
"""Who may send a command: a user or a rule."""
actors = acting | ids(ContactId).map(Actor.contact)
texts = s.bodies | st.text(s.storable, min_size=1, max_size=20).filter(str.strip)
"""Required text: never blank."""
maybe_texts = st.none() | texts

messages = st.builds(
    Message,
    id=ids(MessageId),
    conversation_id=ids(ConversationId),
    direction=st.sampled_from(Direction),
    author=actors,
    body=texts | st.text(s.storable, max_size=20),
    sent_at=instants,
    external_id=maybe_texts,
)


def _event(event_type: Callable[..., Event], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Event]:
    return st.builds(event_type, conversation_id=ids(ConversationId), actor=actors, at=instants, **fields)


events = st.one_of(
    _event(
        ConversationStarted,
        inbox_id=ids(InboxId),
        contact_id=ids(ContactId),
        linked_from=st.none() | ids(ConversationId),
    ),
    _event(MessageReceived, message=messages),
    _event(MessageSent, message=messages),
    _event(Assigned, user_id=user_ids),
    _event(Unassigned, user_id=user_ids),
    _event(Closed, assignees=user_sets),
    _event(Reopened, reason=st.sampled_from(ReopenReason), closed_at=instants),
    _event(Snoozed, until=instants),
    _event(Unsnoozed),
    _event(Starred, user_id=user_ids),
    _event(Unstarred, user_id=user_ids),
    _event(MarkedRead, for_user=st.none() | user_ids),
    _event(MarkedUnread, for_user=st.none() | user_ids),
)
"""Any event of every kind, with any ids, actors and instants (not only what the decider records)."""


def _command(
    command_type: Callable[..., Command], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[Command]:
    return st.builds(command_type, conversation_id=ids(ConversationId), **fields)


commands = st.one_of(
    _command(
        ReceiveMessage,
        inbox_id=ids(InboxId),
        contact_id=ids(ContactId),
        message_id=ids(MessageId),
        body=texts,
        external_id=maybe_texts,
        sent_at=maybe_instants,
        linked_from=st.none() | ids(ConversationId),
    ),
    _command(SendReply, message_id=ids(MessageId), body=texts, actor=acting, external_id=maybe_texts),
    _command(Assign, user_id=user_ids, actor=acting),
    _command(Unassign, user_id=user_ids, actor=acting),
    _command(Close, actor=acting),
    _command(Reopen, actor=acting),
    _command(Snooze, until=instants, actor=acting),
    _command(Unsnooze, actor=acting),
    _command(Star, user_id=user_ids, actor=acting),
    _command(Unstar, user_id=user_ids, actor=acting),
    _command(MarkRead, user_id=st.none() | user_ids, actor=acting),
    _command(MarkUnread, user_id=st.none() | user_ids, actor=acting),
)
"""Any command of every kind that passes its own checks."""

conversations = st.builds(
    Conversation,
    id=ids(ConversationId),
    inbox_id=ids(InboxId),
    contact_id=ids(ContactId),
    started_at=instants,
    last_activity_at=instants,
    updated_at=instants,
    status=st.sampled_from(Status),
    assignees=user_sets,
    starred_by=user_sets,
    unread=st.booleans(),
    read_overrides=user_sets,
    closed_at=maybe_instants,
    last_inbound_at=maybe_instants,
    last_outbound_at=maybe_instants,
    snoozed_until=maybe_instants,
    linked_from=st.none() | ids(ConversationId),
    version=st.integers(0, 2**63 - 1),
)
"""Any conversation state, field by field (replaying the decider's events reaches only some of them)."""

durations = st.builds(
    CalendarDuration,
    years=st.integers(0, 10),
    months=st.integers(0, 100),
    **{unit: st.integers(0, 400) for unit in ("weeks", "days", "hours", "minutes", "seconds")},
)
"""Any duration within the 100 years a CalendarDuration may span."""
names = st.text(s.storable, min_size=1, max_size=20).filter(str.strip)
model_values: st.SearchStrategy[object] = st.one_of(
    st.builds(
        User,
        id=user_ids,
        name=names,
        email=st.sampled_from(("ana@example.com", "o'brien+vip@mail.example.co.uk")),
        role=st.sampled_from(Role),
    ),
    st.builds(Inbox.multi_user, ids(InboxId), names, user_sets),
    st.builds(Inbox.single_user, ids(InboxId), names, user_ids),
    st.builds(
        Contact,
        id=ids(ContactId),
        name=st.text(s.storable, max_size=20),
        phone=st.none() | st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True),
        email=st.none() | st.sampled_from(("maria@example.com", "Maria.Lopez+shop@mail.example.co.uk")),
        tags=st.frozensets(st.text(s.storable, max_size=8), max_size=4),
    ),
    st.builds(
        AccountSettings,
        timezone=s.timezones,
        reopen_window=s.windows | durations,
        read_model=s.read_models,
        exports_enabled=st.booleans(),
        phone_region=st.none() | st.sampled_from(("US", "GB", "IN")),
    ),
    messages,
)

outgoing_emails = st.builds(
    OutgoingEmail,
    id=_ID_TEXT,
    conversation_id=ids(ConversationId),
    requested_by=user_ids,
    message=st.binary(max_size=64),
    created_at=instants,
    attempts=st.integers(0, 100),
    last_error=st.none() | st.text(s.storable, max_size=20),
    last_attempt_at=maybe_instants,
    sent_at=maybe_instants,
    claimed_until=maybe_instants,
    next_attempt_at=maybe_instants,
    failed_at=maybe_instants,
)
due_timers = st.builds(DueTimer, instants, ids(ConversationId), ids(RuleId))
outcomes = st.builds(
    Outcome,
    conversations,
    st.lists(events, max_size=3).map(tuple),
    st.lists(st.builds(Outcome, conversations, st.lists(events, max_size=2).map(tuple)), max_size=2).map(
        tuple
    ),
)
tab_counts = st.builds(TabCount, st.integers(0, 10**6), st.integers(0, 10**6))
results: st.SearchStrategy[object] = st.one_of(
    outcomes,
    st.builds(Page, st.lists(conversations, max_size=3).map(tuple), maybe_texts),
    st.builds(Badges, tab_counts, tab_counts, tab_counts, tab_counts, tab_counts),
    st.builds(HistoryEntry, st.integers(1, 10**6), events, st.text(max_size=40)),
    st.builds(
        Sweep,
        st.lists(outcomes, max_size=2).map(tuple),
        st.lists(st.builds(StuckTimer, due_timers, texts), max_size=2).map(tuple),
    ),
    due_timers,
    tab_counts,
    st.builds(ExportResult, outgoing_emails, maybe_texts),
    st.builds(
        Delivery,
        st.lists(outgoing_emails, max_size=2).map(tuple),
        st.lists(outgoing_emails, max_size=2).map(tuple),
    ),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON data, to put where it does not belong."""


def round_trips(value: object) -> None:
    """``value`` comes back equal, as JSON text and as data, with or without its type; encoding it again
    gives the same text; and its data is plain JSON data."""
    text = to_json(value)
    assert from_json(text) == value
    assert from_json(text, type(value)) == value
    assert from_data(to_data(value)) == value
    assert to_json(from_json(text)) == text
    assert json.loads(text) == to_data(value)  # lists, not tuples; nothing json.dumps had to convert


# ---------------------------------------------------------------- round trips


def test_the_codec_knows_every_event_and_every_command() -> None:
    for kind in (*typing.get_args(Event), *typing.get_args(Command)):
        assert TYPES[kind.__name__] is kind


@given(events)
def test_every_event_round_trips(event: Event) -> None:
    round_trips(event)


@given(commands)
def test_every_command_round_trips(command: Command) -> None:
    round_trips(command)


@given(conversations)
def test_every_conversation_state_round_trips(conversation: Conversation) -> None:
    round_trips(conversation)


@given(model_values)
def test_users_inboxes_contacts_settings_and_messages_round_trip(value: object) -> None:
    round_trips(value)


@given(results)
def test_the_facades_results_round_trip(result: object) -> None:
    round_trips(result)


@given(s.account_settings(), st.lists(s.clock_steps, max_size=6))
def test_what_the_decider_records_round_trips(settings: AccountSettings, steps: list[Any]) -> None:
    """A conversation and its events as the default rules leave them, at instants near DST changes."""
    now = b.NOW
    state, recorded = b.run([b.inbound()], b.context(now, settings=settings))
    script: list[Command] = [
        b.assign(b.BEN),
        b.close(),
        b.inbound(message_id="m-2"),
        b.mark_read(),
        b.star(),
        b.reply(),
    ]
    for step, command in zip(steps, script, strict=False):
        now = now + step
        state, more = b.step(state, command, b.context(now, settings=settings))
        recorded += more
    round_trips(state)
    for event in recorded:
        round_trips(event)


# ---------------------------------------------------------------- the facade's results, as a host gets them

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


class FlakyMailer:
    """Sends (keeps) every email, except that the next ``failures`` attempts raise."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = 0

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the relay is down")
        self.sent.append(message)


FOLLOW_UP_AFTER_WINDOW = DEFAULT_RULES.without(UNASSIGN_AFTER_WINDOW).with_rules(
    Rule(
        "follow-up-after-window",
        OnEvent("MessageReceived"),
        (Action.open_linked_conversation(),),
        all_of(when("status", "eq", "closed"), when("closed_at", "older_than", REOPEN_WINDOW)),
        priority=300,
    ),
    Rule(
        REOPEN_ON_INBOUND,
        OnEvent("MessageReceived"),
        (Action.reopen(),),
        all_of(when("status", "eq", "closed"), when("closed_at", "within", REOPEN_WINDOW)),
        priority=100,
    ),
)
"""The contact writing after the window opens a linked conversation: an outcome with a follow-up."""


def test_outcomes_pages_badges_and_history_from_the_facade_round_trip() -> None:
    clock = ManualClock(START)
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds(), mailer=FlakyMailer(), rules=FOLLOW_UP_AFTER_WINDOW)
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", role=Role.ADMIN).id
    support = helpdesk.add_inbox("Support", members=[ana], by=ana).id
    maria = helpdesk.add_contact(name="Maria Lopez", phone="+15551234567", tags=["vip"]).id
    old = helpdesk.receive(maria, support, "Where is my order?").conversation.id
    helpdesk.assign(old, ana, by=ana)
    helpdesk.star(old, by=ana)
    helpdesk.close(old, by=ana)
    clock.advance(days=9, microseconds=250)
    helpdesk.receive(helpdesk.add_contact(name="Nico").id, support, "Hi")

    outcome = helpdesk.receive(maria, support, "It broke again")

    (follow_up,) = outcome.follow_ups
    assert follow_up.conversation.linked_from == old
    data = to_data(outcome)
    assert data["follow_ups"][0]["type"] == "Outcome"
    assert data["follow_ups"][0]["conversation"]["linked_from"] == str(old)
    page = helpdesk.tab(ana, Tab.ALL_OPEN, limit=1)
    assert page.next_cursor is not None
    for value in (
        outcome,
        page,
        helpdesk.tab(ana, Tab.STARRED),
        helpdesk.badges(ana),
        *helpdesk.history(old),
        *helpdesk.history(follow_up.conversation.id),
        helpdesk.user(ana),
        helpdesk.inbox(support),
        helpdesk.contact(maria),
        helpdesk.settings(),
    ):
        round_trips(value)


def test_sweeps_exports_and_deliveries_from_the_facade_round_trip() -> None:
    clock, mailer = ManualClock(START), FlakyMailer()
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds(), mailer=mailer)
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", role=Role.ADMIN).id
    support = helpdesk.add_inbox("Support", members=[ana], by=ana).id
    maria = helpdesk.add_contact(name="Maria Lopez").id
    conversation = helpdesk.receive(maria, support, "Hello").conversation.id
    helpdesk.snooze(conversation, START.add(hours=2), by=ana)
    clock.advance(hours=3)

    sweep = helpdesk.run_due()
    assert sweep.acted
    mailer.failures = 1
    failed = helpdesk.export(conversation, by=ana)
    assert not failed.delivered
    assert failed.error is not None
    mailer.failures = 1
    clock.advance(hours=1)  # past the backoff
    still_failing = helpdesk.deliver_pending()
    assert still_failing.failed
    assert still_failing.failed[0].next_attempt_at is not None
    clock.advance(hours=1)
    delivered = helpdesk.deliver_pending()
    assert delivered.sent

    stuck = StuckTimer(DueTimer(START, conversation, RuleId("loop")), "it still matches after acting")
    for value in (sweep, Sweep(sweep.acted, (stuck,)), failed, still_failing, delivered, delivered.sent[0]):
        round_trips(value)
    assert from_json(to_json(delivered.sent[0]), OutgoingEmail).parsed()["To"] == "Ana Lima <ana@example.com>"


# ---------------------------------------------------------------- the wire format, pinned

NOW = pendulum.datetime(2026, 3, 2, 9, 0, 0, 250, tz="UTC")
CONV = ConversationId("conv-1")
ANA, BO = UserId("ana"), UserId("bo")


def test_an_event_document() -> None:
    closed = Closed(CONV, Actor.user(ANA), NOW, frozenset({BO, ANA}))

    assert to_json(closed) == (
        '{"type":"Closed","schema":1,"conversation_id":"conv-1","actor":"user:ana",'
        '"at":"2026-03-02T09:00:00.000250+00:00","assignees":["ana","bo"]}'
    )


def test_a_nested_value_is_tagged_too_but_only_the_document_has_a_schema() -> None:
    message = Message(
        MessageId("m-1"), CONV, Direction.INBOUND, Actor.contact(ContactId("maria")), "Hi é", NOW
    )
    received = MessageReceived(CONV, Actor.contact(ContactId("maria")), NOW, message)

    assert to_data(HistoryEntry(2, received, "Maria Lopez wrote")) == {
        "type": "HistoryEntry",
        "schema": SCHEMA,
        "version": 2,
        "event": {
            "type": "MessageReceived",
            "conversation_id": "conv-1",
            "actor": "contact:maria",
            "at": "2026-03-02T09:00:00.000250+00:00",
            "message": {
                "type": "Message",
                "id": "m-1",
                "conversation_id": "conv-1",
                "direction": "inbound",
                "author": "contact:maria",
                "body": "Hi é",
                "sent_at": "2026-03-02T09:00:00.000250+00:00",
                "external_id": None,
            },
        },
        "summary": "Maria Lopez wrote",
    }
    assert '"body":"Hi é"' in to_json(received)  # UTF-8, not \\u escapes


def test_a_conversation_document() -> None:
    conversation = Conversation(
        CONV,
        InboxId("support"),
        ContactId("maria"),
        started_at=NOW,
        last_activity_at=NOW,
        updated_at=NOW.add(minutes=5),
        status=Status.CLOSED,
        assignees=frozenset({BO, ANA}),
        closed_at=NOW.add(minutes=5),
        version=4,
        opened_at=NOW,
        closes=1,
        unanswered_outbound=(OutboundMessage(NOW.add(minutes=1), BO),),
    )

    assert to_data(conversation) == {
        "type": "Conversation",
        "schema": 1,
        "id": "conv-1",
        "inbox_id": "support",
        "contact_id": "maria",
        "started_at": "2026-03-02T09:00:00.000250+00:00",
        "last_activity_at": "2026-03-02T09:00:00.000250+00:00",
        "updated_at": "2026-03-02T09:05:00.000250+00:00",
        "status": "closed",
        "assignees": ["ana", "bo"],
        "starred_by": [],
        "unread": False,
        "read_overrides": [],
        "closed_at": "2026-03-02T09:05:00.000250+00:00",
        "last_inbound_at": None,
        "last_outbound_at": None,
        "snoozed_until": None,
        "linked_from": None,
        "version": 4,
        "opened_at": "2026-03-02T09:00:00.000250+00:00",
        "closes": 1,
        "replied_this_round": False,
        "awaiting_first_reply_since": None,
        "awaiting_reply_since": None,
        "unanswered_outbound": [{"at": "2026-03-02T09:01:00.000250+00:00", "by": "bo"}],
    }
    assert from_data(to_data(conversation), Conversation) == conversation


def test_a_command_document_and_its_defaults() -> None:
    document: dict[str, Any] = {
        "type": "ReceiveMessage",
        "schema": 1,
        "conversation_id": "conv-1",
        "inbox_id": "support",
        "contact_id": "maria",
        "message_id": "m-1",
        "body": "My order never arrived",
    }

    command = from_data(document, ReceiveMessage)

    assert command == ReceiveMessage(
        CONV, InboxId("support"), ContactId("maria"), MessageId("m-1"), document["body"]
    )
    assert to_data(command) == {**document, "external_id": None, "sent_at": None, "linked_from": None}
    assert to_data(Assign(CONV, BO, Actor.rule(RuleId("round-robin")))) == {
        "type": "Assign",
        "schema": 1,
        "conversation_id": "conv-1",
        "user_id": "bo",
        "actor": "rule:round-robin",
    }


def test_settings_write_the_reopen_window_as_an_iso_8601_duration() -> None:
    settings = AccountSettings(
        timezone="America/New_York",
        reopen_window=CalendarDuration(days=2, hours=1),
        read_model=ReadModel.PER_USER,
    )

    assert to_data(settings) == {
        "type": "AccountSettings",
        "schema": 1,
        "timezone": "America/New_York",
        "reopen_window": "P2DT1H",
        "read_model": "per_user",
        "exports_enabled": True,
        "phone_region": None,
    }


def test_an_emails_bytes_are_base64() -> None:
    email = OutgoingEmail(
        "export-1", CONV, ANA, b"Subject: Export\r\n\r\n\xff", NOW, attempts=1, last_error="down"
    )

    data = to_data(email)

    assert data["message"] == "U3ViamVjdDogRXhwb3J0DQoNCv8="
    assert base64.b64decode(data["message"]) == email.message
    assert data == {
        "type": "OutgoingEmail",
        "schema": 1,
        "id": "export-1",
        "conversation_id": "conv-1",
        "requested_by": "ana",
        "message": "U3ViamVjdDogRXhwb3J0DQoNCv8=",
        "created_at": "2026-03-02T09:00:00.000250+00:00",
        "attempts": 1,
        "last_error": "down",
        "last_attempt_at": None,
        "sent_at": None,
        "claimed_until": None,
        "next_attempt_at": None,
        "failed_at": None,
    }


def test_an_outcome_tags_its_events_and_follow_ups() -> None:
    conversation = Conversation(CONV, InboxId("support"), ContactId("maria"), NOW, NOW, NOW)
    linked = attrs.evolve(conversation, id=ConversationId("conv-2"), linked_from=CONV)
    outcome = Outcome(conversation, (Unsnoozed(CONV, Actor.user(ANA), NOW),), (Outcome(linked, ()),))

    data = to_data(outcome)

    assert [data["type"], data["conversation"]["type"], data["events"][0]["type"]] == [
        "Outcome",
        "Conversation",
        "Unsnoozed",
    ]
    nested_linked = {key: value for key, value in to_data(linked).items() if key != "schema"}
    assert data["follow_ups"] == [
        {"type": "Outcome", "conversation": nested_linked, "events": [], "follow_ups": []}
    ]


def test_instants_decode_to_the_same_instant_in_utc_whatever_their_offset() -> None:
    document = to_data(Snoozed(CONV, Actor.user(ANA), NOW, NOW.add(days=1)))

    for written in ("2026-03-03T04:00:00.000250-05:00", "2026-03-03T09:00:00.000250Z"):
        snoozed = from_data({**document, "until": written}, Snoozed)
        assert snoozed.until == NOW.add(days=1)
        assert isinstance(snoozed.until, pendulum.DateTime)
        assert snoozed.until.timezone_name == "UTC"
    eastern = Closed(CONV, Actor.user(ANA), NOW.in_timezone("America/New_York"), frozenset())
    assert (
        to_data(eastern)["at"] == "2026-03-02T09:00:00.000250+00:00"
    )  # written in UTC, as convostate keeps it


def test_a_decoded_user_actor_is_the_shared_one() -> None:
    closed = from_json(to_json(Closed(CONV, Actor.user(ANA), NOW, frozenset())), Closed)

    assert closed.actor is Actor.user(ANA)


# ---------------------------------------------------------------- refusals

VALID = to_data(
    MessageSent(
        CONV,
        Actor.user(ANA),
        NOW,
        Message(MessageId("m-2"), CONV, Direction.OUTBOUND, Actor.user(ANA), "On it", NOW),
    )
)


def changed(**changes: Any) -> dict[str, Any]:
    """The valid MessageSent document with ``changes`` (``message__body=...`` changes a nested field;
    ``...=DROP`` removes the field)."""
    document = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = document
        for parent in parents:
            target = target[parent]
        if value is DROP:
            del target[key]
        else:
            target[key] = value
    return document


DROP = object()

REFUSED = {
    "unknown type": (
        changed(type="Exploded"),
        "unknown \"type\" 'Exploded'; expected one of ConversationStarted",
    ),
    "no type": (changed(type=DROP), 'unknown "type" None'),
    "newer schema": (
        changed(schema=2),
        'expected "schema": 1, the version of the format this release reads; got 2',
    ),
    "schema as text": (changed(schema="1"), "got '1'"),
    "schema as true": (changed(schema=True), "got True"),
    "no schema": (changed(schema=DROP), "got no schema"),
    "naive instant": (
        changed(at="2026-03-02T09:00:00"),
        "'2026-03-02T09:00:00' has no UTC offset, so its instant is unknown",
    ),
    "naive nested instant": (changed(message__sent_at="2026-03-02T09:00:00"), "@ $.message.sent_at"),
    "not an instant": (changed(at="yesterday"), "'yesterday' is not an ISO 8601 date and time"),
    "instant out of range": (changed(at="9999-12-31T23:00:00-05:00"), "is not an ISO 8601 date and time"),
    "missing field": (changed(actor=DROP), "required field missing @ $.actor"),
    "missing nested field": (changed(message__body=DROP), "required field missing @ $.message.body"),
    "unexpected field": (changed(colour="red"), "extra fields found (colour) @ $"),
    "number for text": (
        changed(conversation_id=7),
        "expected an id (a string), got int 7 @ $.conversation_id",
    ),
    "text for a number": (changed(message__body=5), "expected a string, got int 5 @ $.message.body"),
    "null for an id": (changed(conversation_id=None), "@ $.conversation_id"),
    "empty id": (changed(conversation_id=" "), "ConversationId.value must not be empty"),
    "unknown enum value": (changed(message__direction="sideways"), "expected one of 'inbound', 'outbound'"),
    "unknown actor kind": (changed(actor="bot:ana"), "'bot:ana' is not an actor"),
    "actor without an id": (
        changed(actor="user:"),
        "UserId.value must not be empty or only white space @ $.actor",
    ),
    "nested object of another type": (changed(message__type="Conversation"), "expected a Message object"),
    "nested object without its type": (changed(message__type=DROP), 'got "type": None @ $.message'),
    "array for an object": (changed(message=[]), "expected a Message object, got list [] @ $.message"),
}


@pytest.mark.parametrize(("document", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_document_is_refused_with_what_was_expected(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        from_data(document)
    assert message in str(refused.value)
    with pytest.raises(InvalidInput):
        from_json(json.dumps(document))


BAD_VALUES = {
    "a closed event's assignees as text": (Closed, "assignees", "ana", "expected an array, got str 'ana'"),
    "a flag as text": (Conversation, "unread", "true", "expected true or false, got str 'true' @ $.unread"),
    "a version as a float": (
        Conversation,
        "version",
        4.0,
        "expected a whole number, got float 4.0 @ $.version",
    ),
    "a version as a flag": (Conversation, "version", True, "expected a whole number, got bool True"),
    "a bad window": (AccountSettings, "reopen_window", "a week", "'a week' is not an ISO 8601 duration"),
    "a bad time zone": (
        AccountSettings,
        "timezone",
        "Mars/Olympus",
        "timezone must be an IANA time zone name",
    ),
    "a bad email address": (User, "email", "ana", "email must be an email address"),
    "bad base64": (
        OutgoingEmail,
        "message",
        "not base64!",
        "expected base64 text, got 'not base64!' @ $.message",
    ),
    "an unknown event in an outcome": (Outcome, "events", [{"type": "Exploded"}], "@ $.events[0]"),
    "a command where an event belongs": (
        HistoryEntry,
        "event",
        {"type": "Close"},
        "one of ConversationStarted",
    ),
}

SAMPLES: dict[type[Any], object] = {
    Closed: Closed(CONV, Actor.user(ANA), NOW, frozenset({ANA})),
    Conversation: Conversation(CONV, InboxId("support"), ContactId("maria"), NOW, NOW, NOW),
    AccountSettings: AccountSettings(),
    User: User(ANA, "Ana Lima", "ana@example.com"),
    OutgoingEmail: OutgoingEmail("export-1", CONV, ANA, b"hi", NOW),
    Outcome: Outcome(Conversation(CONV, InboxId("support"), ContactId("maria"), NOW, NOW, NOW), ()),
    HistoryEntry: HistoryEntry(1, Closed(CONV, Actor.user(ANA), NOW, frozenset()), "closed"),
}


@pytest.mark.parametrize(("kind", "field", "value", "message"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_wrong_value_is_refused_where_it_is(
    kind: type[Any], field: str, value: object, message: str
) -> None:
    document = {**to_data(SAMPLES[kind]), field: value}

    with pytest.raises(InvalidInput) as refused:
        from_data(document, kind)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a JSON document"),
        ("{", "not a JSON document"),
        ("hello", "not a JSON document"),
        (b"\xff\xfe{", "not a JSON document"),
        ("[1, 2]", 'expected a JSON object with a "type" and a "schema", got list'),
        ("null", "got NoneType None"),
        ('"Closed"', "got str 'Closed'"),
        ("[" * 100_000, "not a JSON document"),
    ],
)
def test_text_that_is_not_a_json_document_is_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        from_json(text)


def test_a_document_of_another_type_than_asked_for_is_refused() -> None:
    text = to_json(SAMPLES[Closed])

    with pytest.raises(InvalidInput, match=r'expected a Conversation document, got "type": \'Closed\''):
        from_json(text, Conversation)


def test_only_the_codecs_types_are_encoded_or_asked_for() -> None:
    with pytest.raises(InvalidInput, match="to_data encodes convostate values such as"):
        to_data({"type": "Closed"})
    with pytest.raises(InvalidInput, match="to_data encodes"):
        to_json(CalendarDuration(weeks=1))
    with pytest.raises(InvalidInput, match=r"from_data decodes the classes of convostate\.codec\.TYPES"):
        from_data(to_data(SAMPLES[Closed]), dict)
    with pytest.raises(InvalidInput, match="from_json reads JSON text, got dict"):
        from_json(to_data(SAMPLES[Closed]))  # type: ignore[call-overload]


def test_a_naive_instant_is_not_written() -> None:
    naive = Message(
        MessageId("m-1"), CONV, Direction.INBOUND, Actor.user(ANA), "Hi", pendulum.naive(2026, 3, 2)
    )

    with pytest.raises(InvalidInput, match="naive datetime"):
        to_json(naive)


def test_decoding_leaves_the_data_as_it_was() -> None:
    document = copy.deepcopy(VALID)

    from_data(document)

    assert document == VALID


@given(json_values)
def test_any_json_data_is_decoded_or_refused_with_invalid_input(data: object) -> None:
    with contextlib.suppress(InvalidInput):
        from_data(data)
    with contextlib.suppress(InvalidInput):
        from_data({"type": "Conversation", "schema": 1, "id": data})


@st.composite
def mutated(draw: st.DrawFn, value: object) -> object:
    """``value`` (JSON data) with one value somewhere inside it replaced by any JSON data."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: draw(mutated(value[key]))}
    if isinstance(value, list) and value and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], draw(mutated(value[index])), *value[index + 1 :]]
    return draw(json_values)


@given(st.data(), events | commands | conversations | results)
def test_a_document_with_anything_anywhere_is_decoded_or_refused_with_invalid_input(
    data: st.DataObject, value: object
) -> None:
    with contextlib.suppress(InvalidInput):
        from_data(data.draw(mutated(to_data(value))))


def test_contact_info_and_reports_from_the_facade_round_trip() -> None:
    from tests.test_analytics import Desk  # noqa: PLC0415 (a scripted account)

    account = Desk()
    conversation = account.writes("Hi")
    account.later(minutes=7, seconds=30)
    account.desk.reply(conversation, "Hello", by=account.bo)
    account.desk.close(conversation, by=account.bo)
    info = account.desk.contact_info(account.maria, by=account.bo)
    report = account.desk.report(
        by=account.ana, inbox_id=account.support, first_day=date(2026, 11, 1), last_day=date(2026, 11, 3)
    )

    for value in (info, report):
        round_trips(value)
    document = to_data(report)
    assert document["rows"][1]["day"] == "2026-11-02"
    assert document["total"]["first_response"]["median"] == 450.0  # seconds
    assert to_data(info)["figures"]["resolution"]["count"] == 1

"""Conformance suites that any :class:`convostate.Store` runs against itself, one per storage role.

This module needs the ``test`` extra (``pip install "convostate[test]"``), which brings pytest; the rest of
convostate never imports it. A store adapter's test file subclasses :class:`StoreConformance` (every suite
below) and says how to make a new, empty store::

    from convostate import Store
    from convostate.testing.conformance import StoreConformance


    class TestMyStore(StoreConformance):
        def make_store(self) -> Store:
            return MyStore(connect_to_a_fresh_database())

        def another_handle(self, store: Store) -> Store:
            # Optional: a second handle onto the same data (a new engine or connection), which each
            # thread of the concurrency tests uses. By default the threads share ``store`` itself.
            return MyStore(connect_to(store.database_url))

Every ``test_*`` method then runs against that store, each on a store of its own. The suites, one per role
of :mod:`convostate.ports`:

- :class:`DirectoryConformance`: users, inboxes, contacts and settings, and the directory version that every
  directory change moves on by one;
- :class:`ConversationLogConformance`: conversations committed with their events under optimistic
  concurrency, a change set stored whole or not at all, external message ids delivered once per inbox, the
  compare-and-set turns of round-robin rules, each user's assignments per inbox;
- :class:`ViewsConformance`: the tab pages and counts that listings and badges are built from;
- :class:`TimerQueueConformance`: the timers of time rules, due oldest first, and their claims (leases);
- :class:`OutboxConformance`: emails queued by a commit, claimed, sent, failed for now (and not due again
  before their ``retry_at``) or for good, and listed by status;
- :class:`ConcurrencyConformance`: threads racing on one store (each through :meth:`another_handle`): no
  lost update, one conversation per contact and inbox, each timer fired once, each email sent once, badges
  that match listings.

A store may subclass only some of them (they share ``make_store`` and the fixtures). The suites use only the
methods of the :class:`~convostate.Store` protocol, so they hold any implementation to the promises the
memory store keeps; every write is a :class:`~convostate.ports.ChangeSet`, built the way the application
service builds it: conversation states from commands through the core's ``decide`` and ``evolve``, their
tab rows from ``convostate.core.tab_changes``. A refused change set is checked to change nothing that any
read of the store shows. :data:`REFUSALS` and :func:`refused_change_set` give the same refusals to a store's
own tests, to check its raw storage too.

To clean up after each test (drop a database, close a connection), override the ``store`` fixture with a
``yield`` fixture that calls ``make_store()``.
"""

from __future__ import annotations

import collections
import functools
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Final, TypeVar, cast

import attrs
import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    Assigned,
    Availability,
    CalendarDuration,
    ConcurrencyConflict,
    Contact,
    ContactId,
    Conversation,
    ConversationId,
    ConversationStarted,
    Direction,
    DueTimer,
    DuplicateContact,
    EmailStatus,
    Event,
    Helpdesk,
    Inbox,
    InboxId,
    InvalidInput,
    Mailer,
    Message,
    MessageId,
    MessageReceived,
    MessageSent,
    OutgoingEmail,
    PermissionDenied,
    ReadModel,
    Role,
    RuleId,
    Store,
    Tab,
    TabCount,
    UnknownContact,
    UnknownInbox,
    Unsnoozed,
    User,
    UserId,
)
from convostate.analytics import Count, Fact, Metric, Scope, bucket_of, observe
from convostate.core import (
    Assign,
    Close,
    Command,
    DecisionContext,
    MarkRead,
    ReceiveMessage,
    SendReply,
    Snooze,
    Star,
    Unassign,
    decide,
    evolve,
    replay,
    tab_changes,
    tabs_of,
)
from convostate.ports import (
    ChangeSet,
    ContactTotal,
    ConversationChange,
    DailyBucket,
    DailyTotal,
    DirectoryChange,
    DuplicateDelivery,
    DurationSample,
    Erasure,
    ExternalDelivery,
    Position,
    RewrittenEvent,
    RotationTurns,
)
from convostate.privacy import (
    ERASED,
    ERASED_EMAIL,
    ContactErasure,
    RetentionPolicy,
    RetentionSweep,
    erased_contact,
    erased_event,
)
from convostate.rules import (
    DEFAULT_RULES,
    WAKE_WHEN_CONTACT_WRITES,
    WAKE_WHEN_SNOOZE_ENDS,
    Action,
    OnEvent,
    Rule,
    RuleSet,
    Timer,
)
from convostate.testing import SequentialIds

__all__ = [
    "REFUSALS",
    "ConcurrencyConformance",
    "ConversationLogConformance",
    "DirectoryConformance",
    "OutboxConformance",
    "PortArgumentsConformance",
    "StoreConformance",
    "TimerQueueConformance",
    "ViewsConformance",
    "position_of",
    "refused_change_set",
]

# ---------------------------------------------------------------- the account the tests use

ANA: Final = UserId("ana")
BEN: Final = UserId("ben")
CARA: Final = UserId("cara")
DAN: Final = UserId("dan")

SUPPORT: Final = Inbox.multi_user(InboxId("support"), "Support", frozenset({ANA, BEN}))
"""A multi-user inbox of ana and ben."""
SALES: Final = Inbox.multi_user(InboxId("sales"), "Sales", frozenset({ANA, CARA}))
"""A multi-user inbox of ana and cara."""
ANA_LINE: Final = Inbox.single_user(InboxId("ana-line"), "Ana's line", ANA)
"""A single-user inbox: ana is the participant of each of its conversations."""
NOWHERE: Final = Inbox.multi_user(InboxId("nowhere"), "Nowhere", frozenset({ANA}))
"""An inbox the account does not have."""

_INBOXES: Final = {inbox.id: inbox for inbox in (SUPPORT, SALES, ANA_LINE, NOWHERE)}
_USERS: Final = (
    User(ANA, "Ana Lima", "ana@example.com", Role.ADMIN),
    User(BEN, "Ben Okafor", "ben@example.com"),
    User(CARA, "Cara Novak", "cara@example.com"),
)

T0: Final = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
FAR_FUTURE: Final = T0.add(years=10)
SHARED: Final = AccountSettings()
PER_USER: Final = AccountSettings(read_model=ReadModel.PER_USER)
ROUND_ROBIN: Final = RuleId("round-robin")


def at(minutes: int) -> pendulum.DateTime:
    """``minutes`` after a Monday morning in March 2026."""
    return T0.add(minutes=minutes)


def position_of(conversation: Conversation) -> Position:
    """Where ``conversation`` sits in its tabs, as the application service's cursors say it.

    ``newest_first`` is minus its last activity in microseconds since the epoch, so that positions sort in
    the order tabs list conversations: newest activity first, ties by id.
    """
    return Position.of(conversation)


# ---------------------------------------------------------------- writing through change sets


def _directory(
    store: Store,
    *,
    users: Iterable[User] = (),
    inboxes: Iterable[Inbox] = (),
    settings: AccountSettings | None = None,
) -> None:
    """Commit a directory change decided on the directory as it is now."""
    change = DirectoryChange(tuple(users), tuple(inboxes), settings)
    store.commit(ChangeSet(directory_version=store.directory_version(), directory=change))


def _add_account(store: Store) -> None:
    _directory(store, users=_USERS, inboxes=(SUPPORT, SALES, ANA_LINE))


def _add_contact(store: Store, contact: Contact) -> None:
    store.commit(ChangeSet(contacts=(contact,)))


def _decided(
    state: Conversation | None,
    command: Command,
    when: pendulum.DateTime,
    inbox: Inbox,
    settings: AccountSettings,
) -> tuple[Conversation, tuple[Event, ...]]:
    events = decide(state, command, DecisionContext(when, settings, inbox=inbox))
    new_state = state
    for event in events:
        new_state = evolve(new_state, event)
    if new_state is None or not events:
        raise AssertionError(f"{command!r} changed nothing; the suite only commits changes")
    return new_state, events


def _change(
    old: Conversation | None,
    new: Conversation,
    events: Sequence[Event],
    *,
    timers: Iterable[Timer] = (),
    expected_version: int | None = None,
) -> ConversationChange:
    """The change from ``old`` (None for a new conversation) to ``new``, as the application service builds it:
    expected at ``old``'s version, with the tab rows and counters the core works out for it."""
    expected = expected_version if expected_version is not None else (old.version if old is not None else 0)
    return ConversationChange(
        new,
        tuple(events),
        expected,
        tuple(timers),
        tab_changes(old, new, _INBOXES[new.inbox_id]),
        observe(old, events, "UTC", owner=_INBOXES[new.inbox_id].owner) if expected_version is None else (),
    )


def _timers_only(state: Conversation, *timers: Timer) -> ConversationChange:
    """A change with no events: it replaces the conversation's timers, at its current version."""
    return ConversationChange(state, (), state.version, timers)


def _set_timers(store: Store, state: Conversation, *timers: Timer) -> None:
    store.commit(ChangeSet((_timers_only(state, *timers),)))


def _first_message(
    name: str, inbox: Inbox, *, contact: ContactId | None = None, message: str = "m-1"
) -> ReceiveMessage:
    contact_id = contact if contact is not None else ContactId(f"{name}-contact")
    return ReceiveMessage(ConversationId(name), inbox.id, contact_id, MessageId(f"{name}-{message}"), "Hi")


def _save(
    store: Store,
    state: Conversation | None,
    command: Command,
    when: pendulum.DateTime,
    *,
    settings: AccountSettings = SHARED,
    external_id: str | None = None,
    timers: Iterable[Timer] = (),
) -> Conversation:
    """Decide ``command`` on ``state`` as the service does, commit the result, and return the new state."""
    inbox = _INBOXES[state.inbox_id if state is not None else _inbox_of(command)]
    new_state, events = _decided(state, command, when, inbox, settings)
    deliveries = (ExternalDelivery(inbox.id, external_id, new_state.id),) if external_id is not None else ()
    store.commit(ChangeSet((_change(state, new_state, events, timers=timers),), deliveries=deliveries))
    return new_state


def _inbox_of(command: Command) -> InboxId:
    if not isinstance(command, ReceiveMessage):
        raise AssertionError("only a first message starts a conversation")
    return command.inbox_id


def _start(
    store: Store,
    name: str,
    inbox: Inbox,
    when: pendulum.DateTime,
    *,
    settings: AccountSettings = SHARED,
    external_id: str | None = None,
    timers: Iterable[Timer] = (),
) -> Conversation:
    """Conversation ``name``: its own contact's first message to ``inbox`` at ``when`` (open, unread)."""
    command = _first_message(name, inbox)
    if store.contact(command.contact_id) is None:
        phone, email = _BUSY_CONTACT_LINES.get(name, (None, None))
        _add_contact(store, Contact(command.contact_id, f"Contact of {name}", phone, email))
    return _save(store, None, command, when, settings=settings, external_id=external_id, timers=timers)


def _by(user: UserId = ANA) -> Actor:
    return Actor.user(user)


def _snooze(state: Conversation, until: pendulum.DateTime) -> Command:
    return Snooze(state.id, until, _by())


def _assign(store: Store, state: Conversation, *users: UserId, when: pendulum.DateTime) -> Conversation:
    for user in users:
        state = _save(store, state, Assign(state.id, user, _by()), when)
    return state


def _close(store: Store, state: Conversation, when: pendulum.DateTime) -> Conversation:
    return _save(store, state, Close(state.id, _by()), when)


def _reply(store: Store, state: Conversation, when: pendulum.DateTime) -> Conversation:
    reply = SendReply(state.id, MessageId(f"{state.id}-reply-{state.version}"), "Hello", _by(BEN))
    return _save(store, state, reply, when)


def _read(
    store: Store, state: Conversation, user: UserId, when: pendulum.DateTime, settings: AccountSettings
) -> Conversation:
    return _save(store, state, MarkRead(state.id, user, _by(user)), when, settings=settings)


def _star(store: Store, state: Conversation, user: UserId, when: pendulum.DateTime) -> Conversation:
    return _save(store, state, Star(state.id, user, _by(user)), when)


# ---------------------------------------------------------------- reading back


def _ids(conversations: Iterable[Conversation]) -> list[str]:
    return [conversation.id.value for conversation in conversations]


def _ids_of(conversation_ids: Iterable[ConversationId]) -> list[str]:
    return [conversation_id.value for conversation_id in conversation_ids]


def _present(inbox: Inbox | None) -> Inbox:
    if inbox is None:
        raise AssertionError("the store lost an inbox")
    return inbox


def _listed(
    store: Store,
    tab: Tab,
    user: UserId,
    inboxes: Iterable[Inbox] = (SUPPORT,),
    *,
    after: Position | None = None,
    limit: int = 100,
) -> list[str]:
    """The ids a page of ``user``'s ``tab`` lists, across ``inboxes`` (default: Support)."""
    return _ids(store.tab_page(tab, user, [inbox.id for inbox in inboxes], after=after, limit=limit))


def _counts(store: Store, user: UserId, inboxes: Iterable[Inbox] = (SUPPORT,)) -> dict[Tab, TabCount]:
    return store.tab_counts(user, [inbox.id for inbox in inboxes])


def _outgoing(email_id: str, conversation: Conversation, created_at: pendulum.DateTime) -> OutgoingEmail:
    """An email to ben about ``conversation``, as the application service queues an export."""
    message = EmailMessage()
    message["From"] = "convostate@example.com"
    message["To"] = "ben@example.com"
    message["Subject"] = f"Export of conversation {conversation.id}"
    message["Message-ID"] = f"<{email_id}.convostate@example.com>"
    message.set_content("Attached.")
    message.add_attachment(b"sent_at,body\r\n", maintype="text", subtype="csv", filename="c.csv")
    return OutgoingEmail(email_id, conversation.id, BEN, message.as_bytes(), created_at)


def _enqueue(store: Store, *emails: OutgoingEmail) -> None:
    store.commit(ChangeSet(emails=emails))


def _kept(store: Store, email_id: str) -> OutgoingEmail:
    email = store.outgoing_email(email_id)
    if email is None:
        raise AssertionError(f"the store lost email {email_id}")
    return email


def _pending(store: Store, limit: int = 100) -> list[str]:
    return [email.id for email in store.pending_emails(limit)]


_Named = TypeVar("_Named", User, Inbox)


def _by_id(values: Iterable[_Named]) -> list[_Named]:
    return sorted(values, key=lambda value: value.id.value)


def _observed(
    store: Store,
    conversation_ids: Iterable[ConversationId] = (),
    *,
    contacts: Iterable[ContactId] = (),
    rules: Iterable[RuleId] = (ROUND_ROBIN,),
    emails: Iterable[str] = (),
) -> dict[str, object]:
    """Everything a reader of the store sees of the account, through the public reads only (for any
    store): to prove that a refused change set changed nothing. It covers the directory, the conversations
    given (their states, events, contacts and every conversation between their contacts and the inboxes),
    every user's tab pages, counts and assignments in every inbox, the due timers, the rotations of
    ``rules`` and the outbox."""
    conversation_ids = list(conversation_ids)
    contact_ids = set(contacts)
    for conversation_id in conversation_ids:
        found = store.conversation(conversation_id)
        if found is not None:
            contact_ids.add(found.contact_id)
    inbox_ids = [inbox.id for inbox in _by_id(store.inboxes())] + [NOWHERE.id]
    users = sorted({user.id for user in store.users()} | {ANA, BEN, CARA, DAN}, key=lambda user: user.value)
    emails = set(emails) | {email.id for email in store.pending_emails(10_000)}
    return {
        "directory_version": store.directory_version(),
        "users": _by_id(store.users()),
        "users_by_email": {user: store.user_by_email(f"{user.value}@example.com") for user in users},
        "inboxes": _by_id(store.inboxes()),
        "settings": store.settings(),
        "contacts": {contact_id: store.contact(contact_id) for contact_id in contact_ids},
        "conversations": {
            conversation_id: (store.conversation(conversation_id), tuple(store.events(conversation_id)))
            for conversation_id in conversation_ids
        },
        "between": {
            (contact_id, inbox_id): store.conversation_between(contact_id, inbox_id)
            for contact_id in contact_ids
            for inbox_id in inbox_ids
        },
        "assigned": {
            (user, inbox_id): tuple(store.conversations_assigned_to(user, inbox_id))
            for user in users
            for inbox_id in inbox_ids
        },
        "tabs": {
            (user, tab): tuple(store.tab_page(tab, user, inbox_ids, after=None, limit=10_000))
            for user in users
            for tab in Tab
        },
        "counts": {user: store.tab_counts(user, inbox_ids) for user in users},
        "due": tuple(store.due(FAR_FUTURE, limit=10_000)),
        "rotations": dict(store.rotations(rules)),
        "outbox": {email_id: store.outgoing_email(email_id) for email_id in sorted(emails)},
        "pending": tuple(store.pending_emails(10_000)),
        "contact_lines": {
            line: (store.contact_by_phone(line) if line.startswith("+") else store.contact_by_email(line))
            for line in _ANALYTICS_LINES
        },
        "contact_analytics": {
            contact_id: (
                tuple(store.contact_conversations(contact_id)),
                dict(store.contact_totals(contact_id)),
                tuple(store.contact_durations(contact_id)),
            )
            for contact_id in contact_ids
        },
        "reports": {
            (scope, scope_id): (
                sorted(store.daily_totals(scope, [scope_id], _FIRST_DAY, _LAST_DAY), key=repr),
                sorted(store.daily_buckets(scope, [scope_id], _FIRST_DAY, _LAST_DAY), key=repr),
            )
            for scope, scope_id in [
                *((Scope.INBOX, inbox_id.value) for inbox_id in inbox_ids),
                *((Scope.USER, user.value) for user in users),
            ]
        },
    }


_ANALYTICS_LINES: Final = ("+15555550101", "c1@example.com", "+442079460958", "C1@EXAMPLE.COM")
_FIRST_DAY: Final = T0.date() - timedelta(days=1)
_LAST_DAY: Final = T0.date() + timedelta(days=400)


def _unchanged(before: dict[str, object], after: dict[str, object]) -> None:
    """Fail, naming what changed, unless a reader sees the same store ``after`` as ``before``."""
    changed = [key for key in before if before[key] != after.get(key)]
    if changed or before.keys() != after.keys():
        details = "; ".join(f"{key}: {before[key]!r:.300} became {after.get(key)!r:.300}" for key in changed)
        raise AssertionError(f"a refused change set changed what the store shows: {details}")


# ---------------------------------------------------------------- refused change sets

REFUSALS: Final = (
    "stale-conversation-version",
    "version-ahead-of-the-store",
    "version-not-following-the-events",
    "second-new-conversation-between-a-contact-and-an-inbox",
    "follow-up-linked-to-an-older-conversation",
    "conversation-in-an-unknown-inbox",
    "stale-directory-version",
    "taken-user-id",
    "taken-user-email-in-another-case",
    "one-user-email-twice-in-the-set",
    "one-user-id-twice-in-the-set",
    "taken-contact-id",
    "taken-contact-phone",
    "taken-contact-email-in-another-case",
    "one-contact-phone-twice-in-the-set",
    "stale-rotation-count",
    "taken-email-id",
    "one-email-id-twice-in-the-set",
    "duplicate-delivery",
    "one-delivery-twice-in-the-set",
    "event-of-a-class-convostate-does-not-have",
    "event-at-a-naive-instant",
    "message-body-that-is-not-text",
    "timer-due-at-a-naive-instant",
    "fact-beyond-64-bits",
    "fact-of-no-known-kind",
    "fact-at-a-naive-instant",
    "fact-at-no-instant",
    "event-beyond-the-year-8999",
    "timer-due-beyond-the-year-8999",
    "tab-row-that-is-not-a-row",
)
"""The kinds of change set a store must refuse whole: see :func:`refused_change_set`. The last ones hold
what only a change set made by hand can (the facade never makes one): each is refused as bad input before
anything is written, never half-written."""

_REFUSAL_ERRORS: Final[dict[str, type[Exception]]] = {
    "stale-conversation-version": ConcurrencyConflict,
    "version-ahead-of-the-store": ConcurrencyConflict,
    "version-not-following-the-events": InvalidInput,
    "second-new-conversation-between-a-contact-and-an-inbox": ConcurrencyConflict,
    "follow-up-linked-to-an-older-conversation": ConcurrencyConflict,
    "conversation-in-an-unknown-inbox": UnknownInbox,
    "stale-directory-version": ConcurrencyConflict,
    "taken-user-id": InvalidInput,
    "taken-user-email-in-another-case": InvalidInput,
    "one-user-email-twice-in-the-set": InvalidInput,
    "one-user-id-twice-in-the-set": InvalidInput,
    "taken-contact-id": InvalidInput,
    "taken-contact-phone": DuplicateContact,
    "taken-contact-email-in-another-case": DuplicateContact,
    "one-contact-phone-twice-in-the-set": DuplicateContact,
    "stale-rotation-count": ConcurrencyConflict,
    "taken-email-id": InvalidInput,
    "one-email-id-twice-in-the-set": InvalidInput,
    "duplicate-delivery": DuplicateDelivery,
    "one-delivery-twice-in-the-set": InvalidInput,
    "event-of-a-class-convostate-does-not-have": InvalidInput,
    "event-at-a-naive-instant": InvalidInput,
    "message-body-that-is-not-text": InvalidInput,
    "timer-due-at-a-naive-instant": InvalidInput,
    "fact-beyond-64-bits": InvalidInput,
    "fact-of-no-known-kind": InvalidInput,
    "fact-at-a-naive-instant": InvalidInput,
    "fact-at-no-instant": InvalidInput,
    "event-beyond-the-year-8999": InvalidInput,
    "timer-due-beyond-the-year-8999": InvalidInput,
    "tab-row-that-is-not-a-row": InvalidInput,
}


_NAIVE: Final = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001  # naive on purpose: the store must refuse it


_BEYOND: Final = cast(pendulum.DateTime, datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))))
"""An aware instant in the year 10000 in UTC: no store could read it back."""


_TEXT_PLACE: Final = cast(Any, ("x", 5))
"""A tab row's place with text where its number goes: it cannot be compared with the places of a list."""


@attrs.frozen
class _HostsOwnEvent(Assigned):
    """An event class a host derived from one of convostate's: no store knows how to keep it."""


_BUSY_CONTACT_LINES: Final = {"c-1": ("+15555550101", "c1@example.com")}
"""The phone and email of the busy account's first contact, which a new contact cannot have too."""
_BUSY_CONVERSATIONS: Final = tuple(ConversationId(name) for name in ("c-1", "c-2", "c-3", "c-4", "c-new"))
_BUSY_CONTACTS: Final = (ContactId("c-new-contact"), ContactId("stranger"))
_BUSY_EMAILS: Final = ("email-1", "email-2", "email-3", "email-new")


def _busy_account(store: Store) -> dict[str, Conversation]:
    """Fill an empty store with something of every kind: the account, conversations in every inbox (one
    assigned, starred and read per user, one closed, one delivered by external id), timers (one of them
    claimed), a rotation's turns, emails pending, claimed and sent, settings saved."""
    _add_account(store)
    _directory(store, settings=PER_USER)
    first = _start(store, "c-1", SUPPORT, at(0), settings=PER_USER, external_id="SM1")
    first = _assign(store, first, ANA, when=at(1))
    first = _star(store, first, BEN, at(2))
    first = _read(store, first, BEN, at(3), PER_USER)
    _set_timers(store, first, Timer(RuleId("remind"), at(30)))
    second = _close(store, _start(store, "c-2", SALES, at(4), settings=PER_USER), at(5))
    third = _start(store, "c-3", ANA_LINE, at(6), settings=PER_USER, timers=[Timer(RuleId("remind"), at(40))])
    fourth = _start(store, "c-4", SUPPORT, at(7), settings=PER_USER, timers=[Timer(RuleId("nudge"), at(35))])
    if [timer.conversation_id for timer in store.claim_due(at(30), limit=1, until=at(90))] != [first.id]:
        raise AssertionError("the oldest due timer was not claimed")
    store.commit(ChangeSet((_timers_only(second),), rotations=(RotationTurns(ROUND_ROBIN, 0, 2),)))
    _enqueue(store, _outgoing("email-1", first, at(8)), _outgoing("email-2", second, at(9)))
    _enqueue(store, _outgoing("email-3", third, at(10)))
    store.email_sent("email-2", at(11))
    if store.claim_email("email-3", at(12), at(90)) is None:
        raise AssertionError("a pending email could not be claimed")
    return {"c-1": first, "c-2": second, "c-3": third, "c-4": fourth}


def _innocent_change_set(store: Store, states: dict[str, Conversation]) -> ChangeSet:
    """A change set of every kind that the busy account takes: a new conversation with a new contact, a
    delivered message id and a timer; an assignment of c-1; a new user, a changed inbox and new settings;
    a rotation's turn; an email."""
    command = attrs.evolve(_first_message("c-new", SUPPORT), external_id="SM-new")
    new, new_events = _decided(None, command, at(20), SUPPORT, PER_USER)
    first = states["c-1"]
    assigned, assigned_events = _decided(first, Assign(first.id, BEN, _by()), at(21), SUPPORT, PER_USER)
    return ChangeSet(
        (
            _change(None, new, new_events, timers=[Timer(RuleId("remind"), at(50))]),
            _change(first, assigned, assigned_events, timers=[Timer(RuleId("nudge"), at(60))]),
        ),
        store.directory_version(),
        DirectoryChange(
            users=(User(DAN, "Dan Moreau", "dan@example.com"),),
            inboxes=(attrs.evolve(SALES, members=SALES.members | {BEN}),),
            settings=SHARED,
        ),
        contacts=(Contact(command.contact_id, "Omar"),),
        rotations=(RotationTurns(ROUND_ROBIN, 2, 3),),
        deliveries=(ExternalDelivery(SUPPORT.id, "SM-new", new.id),),
        emails=(_outgoing("email-new", first, at(22)),),
    )


def _spoiled(kind: str, store: Store, states: dict[str, Conversation], innocent: ChangeSet) -> ChangeSet:
    """``innocent`` with one part that the store must refuse, of ``kind``."""
    first, new_change, assigned_change = states["c-1"], innocent.conversations[0], innocent.conversations[1]
    directory = innocent.directory
    assert directory is not None
    if kind == "stale-conversation-version":
        stale = assigned_change._replace(expected_version=first.version - 1)
        return innocent._replace(conversations=(new_change, stale))
    if kind == "version-ahead-of-the-store":
        ahead = assigned_change._replace(
            state=attrs.evolve(assigned_change.state, version=assigned_change.state.version + 5),
            expected_version=first.version + 5,
        )
        return innocent._replace(conversations=(new_change, ahead))
    if kind == "version-not-following-the-events":
        skipped = assigned_change._replace(
            state=attrs.evolve(assigned_change.state, version=assigned_change.state.version + 1),
        )
        return innocent._replace(conversations=(new_change, skipped))
    if kind in (
        "second-new-conversation-between-a-contact-and-an-inbox",
        "follow-up-linked-to-an-older-conversation",
    ):
        rival = _first_message("c-rival", SUPPORT, contact=first.contact_id)
        if kind == "follow-up-linked-to-an-older-conversation":
            # c-4 is not the conversation between c-1's contact and Support: c-1 is.
            rival = attrs.evolve(rival, linked_from=states["c-4"].id)
        state, events = _decided(None, rival, at(23), SUPPORT, PER_USER)
        return innocent._replace(conversations=(*innocent.conversations, _change(None, state, events)))
    if kind == "conversation-in-an-unknown-inbox":
        state, events = _decided(None, _first_message("c-lost", NOWHERE), at(23), NOWHERE, PER_USER)
        return innocent._replace(conversations=(*innocent.conversations, _change(None, state, events)))
    if kind == "stale-directory-version":
        return innocent._replace(directory_version=store.directory_version() - 1)
    if kind == "taken-user-id":
        taken = User(BEN, "Another Ben", "another.ben@example.com")
        return innocent._replace(directory=attrs.evolve(directory, users=(*directory.users, taken)))
    if kind == "taken-user-email-in-another-case":
        taken = User(UserId("eve"), "Eve Adams", "BEN@Example.com")
        return innocent._replace(directory=attrs.evolve(directory, users=(*directory.users, taken)))
    if kind == "one-user-email-twice-in-the-set":
        twice = User(UserId("eve"), "Eve Adams", "Dan@example.com")
        return innocent._replace(directory=attrs.evolve(directory, users=(*directory.users, twice)))
    if kind == "one-user-id-twice-in-the-set":
        twice = User(DAN, "Dan Moreau", "dan.moreau@example.com")
        return innocent._replace(directory=attrs.evolve(directory, users=(*directory.users, twice)))
    if kind == "taken-contact-id":
        return innocent._replace(contacts=(*innocent.contacts, Contact(first.contact_id, "Taken")))
    if kind == "taken-contact-phone":
        same_phone = Contact(ContactId("same-phone"), "Same phone", phone=_BUSY_CONTACT_LINES["c-1"][0])
        return innocent._replace(contacts=(*innocent.contacts, same_phone))
    if kind == "taken-contact-email-in-another-case":
        email = _BUSY_CONTACT_LINES["c-1"][1].upper()
        same_email = Contact(ContactId("same-email"), "Same email", email=email)
        return innocent._replace(contacts=(*innocent.contacts, same_email))
    if kind == "one-contact-phone-twice-in-the-set":
        first_phone = Contact(ContactId("new-phone-1"), "New", phone="+442079460958")
        second_phone = Contact(ContactId("new-phone-2"), "New again", phone="+442079460958")
        return innocent._replace(contacts=(*innocent.contacts, first_phone, second_phone))
    if kind == "stale-rotation-count":
        return innocent._replace(rotations=(RotationTurns(ROUND_ROBIN, 1, 2),))
    if kind == "taken-email-id":
        return innocent._replace(emails=(*innocent.emails, _outgoing("email-2", first, at(24))))
    if kind == "one-email-id-twice-in-the-set":
        return innocent._replace(emails=(*innocent.emails, _outgoing("email-new", first, at(24))))
    if kind == "duplicate-delivery":
        return innocent._replace(deliveries=(ExternalDelivery(SUPPORT.id, "SM1", new_change.state.id),))
    if kind == "one-delivery-twice-in-the-set":
        return innocent._replace(deliveries=innocent.deliveries * 2)
    if kind in _HAND_MADE:
        # The spoiled part is in the second change, so a store that wrote the first before it looked at
        # the second would be caught half-written.
        return innocent._replace(conversations=(new_change, _HAND_MADE[kind](assigned_change)))
    raise AssertionError(f"no refusal {kind!r}; the refusals are {REFUSALS}")


def _with_event(change: ConversationChange, spoil: Callable[[Event], Event]) -> ConversationChange:
    return change._replace(events=(*change.events[:-1], spoil(change.events[-1])))


def _with_fact(change: ConversationChange, **fields: Any) -> ConversationChange:
    """The change with one more fact, a message counted for its contact, but for ``fields``."""
    counted = Fact(Scope.CONTACT, "c-1", Count.MESSAGES_IN, 1, at(21), at(21).date(), change.state.id.value)
    return change._replace(facts=(*change.facts, counted._replace(**fields)))


def _message_of_no_text(event: Event) -> Event:
    """An inbound message in the event's place whose body is no text at all."""
    author = Actor.contact(ContactId("c-1"))
    message = Message(
        MessageId("m-no-text"),
        event.conversation_id,
        Direction.INBOUND,
        author,
        cast(str, object()),
        event.at,
    )
    return MessageReceived(event.conversation_id, author, event.at, message)


_HAND_MADE: Final[dict[str, Callable[[ConversationChange], ConversationChange]]] = {
    "event-of-a-class-convostate-does-not-have": lambda change: _with_event(
        change, lambda event: _HostsOwnEvent(**attrs.asdict(event, recurse=False))
    ),
    "event-at-a-naive-instant": lambda change: _with_event(
        change, lambda event: attrs.evolve(event, at=cast(pendulum.DateTime, _NAIVE))
    ),
    "message-body-that-is-not-text": lambda change: _with_event(change, _message_of_no_text),
    "timer-due-at-a-naive-instant": lambda change: change._replace(
        timers=(Timer(RuleId("nudge"), cast(pendulum.DateTime, _NAIVE)),)
    ),
    "fact-beyond-64-bits": lambda change: _with_fact(change, value=2**63),
    "fact-of-no-known-kind": lambda change: _with_fact(change, kind="first_response"),
    "fact-at-a-naive-instant": lambda change: _with_fact(change, at=_NAIVE),
    "fact-at-no-instant": lambda change: _with_fact(change, at=None),
    "event-beyond-the-year-8999": lambda change: _with_event(
        change, lambda event: attrs.evolve(event, at=_BEYOND)
    ),
    "timer-due-beyond-the-year-8999": lambda change: change._replace(
        timers=(Timer(RuleId("nudge"), _BEYOND),)
    ),
    "tab-row-that-is-not-a-row": lambda change: change._replace(  # a place of text where a number goes
        tabs=change.tabs._replace(added=(*change.tabs.added, (("support", "all_open", ""), _TEXT_PLACE)))
    ),
}


def refused_change_set(store: Store, kind: str) -> tuple[ChangeSet, type[Exception]]:
    """Fill an empty ``store`` with an account that holds something of every kind (conversations with events,
    tab rows, assignments, timers and a claim on one, a rotation, emails pending, claimed and sent, a
    delivered message id, saved settings), and return a change set of ``kind`` (one of :data:`REFUSALS`)
    that the store must refuse, whole, with the error it must raise.

    Each change set is one that the store would commit, changing something of every kind, but for one part.
    The suites check that a refusal changes nothing the store's reads show; a store's own tests can use
    this to check its raw storage (tables, counters, claims) too."""
    states = _busy_account(store)
    return _spoiled(kind, store, states, _innocent_change_set(store, states)), _REFUSAL_ERRORS[kind]


# ---------------------------------------------------------------- racing threads

_RACE_TIMEOUT: Final = 15.0
"""How long a race may run before the suite calls it a deadlock or a livelock."""
_SWITCH_INTERVAL: Final = 1e-5
"""The interpreter's thread switch interval during a race: short, to force interleavings."""
_TRIES: Final = 1000
"""How many times a racing thread retries one operation after a conflict before it fails the test."""
_ATTEMPTS: Final = 50
"""The attempts of the racing helpdesks: enough that an action rarely gives up under contention."""


class _Yielding:
    """A store handle that lets the other threads run before each call it passes on to ``handle``, so that
    racing threads interleave between their reads and their writes however fast the store answers."""

    def __init__(self, handle: Store) -> None:
        self._handle = handle

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._handle, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0)  # gives up the interpreter lock: another thread may run now
            return method(*args, **kwargs)

        return call


class _TickingClock:
    """A clock that threads share, and that moves on by a second each time it is read: every action happens at
    an instant of its own, later than that of any action that read the clock before it."""

    def __init__(self, start: pendulum.DateTime) -> None:
        self._lock = threading.Lock()
        self._next = start

    def now(self) -> pendulum.DateTime:
        with self._lock:
            now, self._next = self._next, self._next.add(seconds=1)
            return now


class _FixedClock:
    """A clock that stands still, for threads (a manual clock that nobody moves during the race)."""

    def __init__(self, now: pendulum.DateTime) -> None:
        self._now = now

    def now(self) -> pendulum.DateTime:
        return self._now


class _SharedMailer:
    """A mailer that threads share: it keeps the ``Message-ID`` of each email it accepts, and refuses
    ``failing`` of the sends (at random, the same for a seed) as a mail server that is busy now and then."""

    def __init__(self, failing: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._chances = random.Random(13)
        self._failing = failing
        self.message_ids: list[str] = []
        self.attempts = 0

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.attempts += 1
            if self._chances.random() < self._failing:
                raise ConnectionResetError("the mail server dropped the connection")
            self.message_ids.append(str(message["Message-ID"]))


class _SettableClock:
    """A clock that threads share and that only the test moves, between races."""

    def __init__(self, now: pendulum.DateTime) -> None:
        self.now_at = now

    def now(self) -> pendulum.DateTime:
        return self.now_at


@attrs.frozen
class _Desk:
    """An account made through ``Helpdesk`` for the racing tests, and the ids in it.

    ``admin`` is an admin in no inbox; ``support`` has ana, ben and cara; ``sales`` has ana and cara.
    """

    helpdesk: Helpdesk
    admin: UserId
    ana: UserId
    ben: UserId
    cara: UserId
    support: InboxId
    sales: InboxId

    @property
    def users(self) -> tuple[UserId, ...]:
        return (self.admin, self.ana, self.ben, self.cara)

    def on(self, handle: Store, *, mailer: Mailer | None = None, rules: RuleSet | None = None) -> Helpdesk:
        """A helpdesk on ``handle`` (another handle onto the same store), with the same clock."""
        return Helpdesk(
            store=handle, clock=self.helpdesk.clock, mailer=mailer, rules=rules, attempts=_ATTEMPTS
        )


def _desk(store: Store, clock: _TickingClock | _FixedClock | _SettableClock) -> _Desk:
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds(), attempts=_ATTEMPTS)
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    cara = helpdesk.add_user("Cara Novak", "cara@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana, ben, cara], by=admin).id
    sales = helpdesk.add_inbox("Sales", members=[ana, cara], by=admin).id
    return _Desk(helpdesk, admin, ana, ben, cara, support, sales)


def _tried(what: str, action: Callable[[], bool]) -> None:
    """Run ``action`` until it says it is done (it returns False after a conflict, to be tried again)."""
    for _ in range(_TRIES):
        if action():
            return
    raise AssertionError(f"{what} kept conflicting: gave up after {_TRIES} tries (a livelock?)")


# ---------------------------------------------------------------- the suites


class _Suite:
    """What every suite shares: how to make a store, the fixtures, and a second handle onto a store."""

    def make_store(self) -> Store:
        """A new, empty store. Subclasses must implement this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_store() to return an empty Store"
        )

    def another_handle(self, store: Store) -> Store:
        """Another handle onto the same data as ``store``: for a database, a store on a new engine or
        connection to the same database. The concurrency tests give one to each thread. By default it is
        ``store`` itself, which its threads share."""
        return store

    @pytest.fixture
    def store(self) -> Store:
        """A new, empty store for each test."""
        return self.make_store()

    @pytest.fixture
    def account(self, store: Store) -> Store:
        """A store holding the account the conversation tests use: three users and three inboxes."""
        _add_account(store)
        return store


class DirectoryConformance(_Suite):
    """The :class:`~convostate.ports.Directory` role: users, inboxes, contacts, settings and their version."""

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert list(store.users()) == []
        assert list(store.inboxes()) == []
        assert store.user(ANA) is None
        assert store.inbox(SUPPORT.id) is None
        assert store.contact(ContactId("maria")) is None
        assert store.conversation(ConversationId("c-1")) is None
        assert store.directory_version() == 0

    def test_an_added_user_is_found_by_id(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com", Role.ADMIN)
        _directory(store, users=[ana])
        assert store.user(ANA) == ana

    def test_an_unknown_user_id_finds_nobody(self, store: Store) -> None:
        _directory(store, users=[User(ANA, "Ana Lima", "ana@example.com")])
        assert store.user(BEN) is None

    def test_a_user_is_found_by_email_in_any_case(self, store: Store) -> None:
        ben = User(BEN, "Ben Okafor", "Ben.Okafor@Example.com")
        _directory(store, users=[ben])
        assert store.user_by_email("ben.okafor@example.com") == ben
        assert store.user_by_email("BEN.OKAFOR@EXAMPLE.COM") == ben

    def test_an_unknown_email_finds_nobody(self, store: Store) -> None:
        _directory(store, users=[User(ANA, "Ana Lima", "ana@example.com")])
        assert store.user_by_email("ben@example.com") is None

    def test_users_lists_every_user_added(self, store: Store) -> None:
        for user in _USERS:
            _directory(store, users=[user])
        assert sorted(store.users(), key=lambda user: user.id.value) == list(_USERS)

    def test_users_added_in_one_change_are_all_listed(self, store: Store) -> None:
        _directory(store, users=_USERS)
        assert sorted(store.users(), key=lambda user: user.id.value) == list(_USERS)
        assert store.user_by_email("cara@example.com") == _USERS[2]

    def test_a_taken_user_id_is_refused_and_nothing_changes(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com")
        _directory(store, users=[ana])
        before = _observed(store)
        with pytest.raises(InvalidInput):
            _directory(store, users=[User(ANA, "Another Ana", "another@example.com")])
        assert store.user(ANA) == ana
        assert store.user_by_email("another@example.com") is None
        assert list(store.users()) == [ana]
        _unchanged(before, _observed(store))

    def test_a_taken_email_in_another_case_is_refused_and_nothing_changes(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com")
        _directory(store, users=[ana])
        before = _observed(store)
        with pytest.raises(InvalidInput):
            _directory(store, users=[User(BEN, "Ben Okafor", "ANA@Example.COM")])
        assert store.user(BEN) is None
        assert store.user_by_email("ana@example.com") == ana
        assert list(store.users()) == [ana]
        _unchanged(before, _observed(store))

    def test_two_users_with_one_email_in_a_change_are_refused_and_nothing_changes(self, store: Store) -> None:
        twins = [User(ANA, "Ana Lima", "ana@example.com"), User(BEN, "Ben Okafor", "Ana@Example.com")]
        with pytest.raises(InvalidInput):
            _directory(store, users=twins, inboxes=[SUPPORT])
        assert list(store.users()) == []
        assert list(store.inboxes()) == []
        assert store.directory_version() == 0

    def test_one_user_id_twice_in_a_change_is_refused_and_nothing_changes(self, store: Store) -> None:
        twins = [User(ANA, "Ana Lima", "ana@example.com"), User(ANA, "Ana Lima", "ana.lima@example.com")]
        with pytest.raises(InvalidInput):
            _directory(store, users=twins)
        assert list(store.users()) == []
        assert store.user_by_email("ana@example.com") is None
        assert store.user_by_email("ana.lima@example.com") is None
        assert store.directory_version() == 0

    def test_a_saved_inbox_is_found_by_id(self, store: Store) -> None:
        _directory(store, inboxes=[SUPPORT])
        assert store.inbox(SUPPORT.id) == SUPPORT
        assert store.inbox(SALES.id) is None

    def test_saving_an_inbox_again_updates_it(self, store: Store) -> None:
        _directory(store, inboxes=[SUPPORT])
        grown = attrs.evolve(SUPPORT, members=SUPPORT.members | {CARA})
        _directory(store, inboxes=[grown])
        assert store.inbox(SUPPORT.id) == grown
        assert list(store.inboxes()) == [grown]

    def test_inboxes_lists_every_saved_inbox(self, store: Store) -> None:
        for inbox in (SUPPORT, SALES, ANA_LINE):
            _directory(store, inboxes=[inbox])
        listed = sorted(store.inboxes(), key=lambda inbox: inbox.id.value)
        assert listed == [ANA_LINE, SALES, SUPPORT]

    def test_an_added_contact_is_found_by_id(self, store: Store) -> None:
        maria = Contact(ContactId("maria"), "Maria Lopez", phone="+15551234567")
        _add_contact(store, maria)
        assert store.contact(maria.id) == maria
        assert store.contact(ContactId("omar")) is None

    def test_contacts_added_in_one_change_set_are_all_found(self, store: Store) -> None:
        maria, omar = (
            Contact(ContactId("maria"), "Maria"),
            Contact(ContactId("omar"), "Omar", tags=frozenset({"vip"})),
        )
        store.commit(ChangeSet(contacts=(maria, omar)))
        assert store.contact(maria.id) == maria
        assert store.contact(omar.id) == omar

    def test_a_taken_contact_id_is_refused_and_nothing_changes(self, store: Store) -> None:
        maria = Contact(ContactId("maria"), "Maria Lopez")
        _add_contact(store, maria)
        omar = Contact(ContactId("omar"), "Omar")
        with pytest.raises(InvalidInput):
            store.commit(ChangeSet(contacts=(omar, Contact(maria.id, "Another Maria"))))
        assert store.contact(maria.id) == maria
        assert store.contact(omar.id) is None

    def test_settings_default_to_the_account_defaults(self, store: Store) -> None:
        assert store.settings() == AccountSettings()

    def test_saved_settings_are_returned(self, store: Store) -> None:
        settings = AccountSettings(
            timezone="America/New_York",
            reopen_window=CalendarDuration(days=3),
            read_model=ReadModel.PER_USER,
            exports_enabled=False,
        )
        _directory(store, settings=settings)
        assert store.settings() == settings

    def test_a_users_availability_is_saved_and_nothing_else_may_change(self, store: Store) -> None:
        _directory(store, users=_USERS[:2])
        away = attrs.evolve(_USERS[1], availability=Availability.AWAY)
        change = DirectoryChange(availability=(away,))
        store.commit(ChangeSet(directory_version=store.directory_version(), directory=change))
        assert store.user(away.id) == away
        assert store.user_by_email(away.email) == away
        assert list(store.users()) == [_USERS[0], away]
        renamed = attrs.evolve(_USERS[0], name="Ana Other", availability=Availability.AWAY)
        stranger = attrs.evolve(_USERS[2], availability=Availability.AWAY)
        for refused in (renamed, stranger):
            version = store.directory_version()
            with pytest.raises(InvalidInput):
                store.commit(
                    ChangeSet(directory_version=version, directory=DirectoryChange(availability=(refused,)))
                )
            assert store.directory_version() == version
        assert list(store.users()) == [_USERS[0], away]

    # ------------------------------------------------------------ the directory version

    def test_the_directory_version_starts_at_zero(self, store: Store) -> None:
        assert store.directory_version() == 0

    def test_each_directory_change_moves_the_directory_version_on_by_one(self, store: Store) -> None:
        _directory(store, users=_USERS[:1])
        assert store.directory_version() == 1
        _directory(store, inboxes=[SUPPORT, SALES])
        assert store.directory_version() == 2
        _directory(store, settings=PER_USER)
        assert store.directory_version() == 3
        _directory(store, users=_USERS[1:], inboxes=[ANA_LINE], settings=SHARED)
        assert store.directory_version() == 4
        store.commit(ChangeSet(directory=DirectoryChange(inboxes=(SUPPORT,))))  # decided on no version
        assert store.directory_version() == 5

    def test_a_change_set_without_a_directory_change_keeps_the_directory_version(
        self, account: Store
    ) -> None:
        version = account.directory_version()
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        assert account.directory_version() == version
        started = _start(account, "c-1", SUPPORT, at(0))
        _enqueue(account, _outgoing("email-1", started, at(1)))
        account.commit(ChangeSet(rotations=(RotationTurns(ROUND_ROBIN, 0, 1),), directory_version=version))
        assert account.directory_version() == version

    def test_a_stale_directory_version_is_a_conflict_and_changes_nothing(self, account: Store) -> None:
        stale = account.directory_version()
        _directory(account, settings=PER_USER)  # someone else changed the directory first
        before = _observed(account)
        change = DirectoryChange(
            users=(User(DAN, "Dan Moreau", "dan@example.com"),),
            inboxes=(attrs.evolve(SUPPORT, members=SUPPORT.members | {DAN}),),
            settings=AccountSettings(timezone="Europe/Paris"),
        )
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet(directory_version=stale, directory=change))
        assert account.user(DAN) is None
        assert account.inbox(SUPPORT.id) == SUPPORT
        assert account.settings() == PER_USER
        assert account.directory_version() == stale + 1
        _unchanged(before, _observed(account))

    def test_a_directory_version_ahead_of_the_store_is_a_conflict(self, account: Store) -> None:
        before = _observed(account)
        ahead = account.directory_version() + 1
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet(directory_version=ahead, directory=DirectoryChange(settings=PER_USER)))
        _unchanged(before, _observed(account))

    def test_a_conversation_decided_on_a_stale_directory_is_a_conflict_and_stores_nothing(
        self, account: Store
    ) -> None:
        stale = account.directory_version()
        started = _start(account, "c-1", SUPPORT, at(0))
        _directory(account, inboxes=[attrs.evolve(SUPPORT, members=frozenset({ANA}))])  # ben leaves Support
        before = _observed(account, [started.id])
        assigned, events = _decided(started, Assign(started.id, BEN, _by()), at(1), SUPPORT, SHARED)
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((_change(started, assigned, events),), directory_version=stale))
        _unchanged(before, _observed(account, [started.id]))
        account.commit(ChangeSet((_change(started, assigned, events),), account.directory_version()))
        assert account.conversation(started.id) == assigned


class ConversationLogConformance(_Suite):
    """The :class:`~convostate.ports.ConversationLog` role, and ``Store.commit`` of conversations: states and
    events under optimistic concurrency, a change set whole or not at all, deliveries, rotations and
    assignments."""

    def test_a_new_conversation_is_committed_at_expected_version_zero(self, account: Store) -> None:
        command = _first_message("c-1", SUPPORT, contact=ContactId("maria"))
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        state, events = _decided(None, command, at(0), SUPPORT, SHARED)
        account.commit(ChangeSet((_change(None, state, events),)))
        assert account.conversation(state.id) == state

    def test_the_events_of_a_commit_are_read_back_in_order(self, account: Store) -> None:
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        state, events = _decided(
            None, _first_message("c-1", SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED
        )
        account.commit(ChangeSet((_change(None, state, events),)))
        assert tuple(account.events(state.id)) == events

    def test_a_new_conversation_is_found_between_its_contact_and_inbox(self, account: Store) -> None:
        state = _start(account, "c-1", SUPPORT, at(0))
        assert account.conversation_between(state.contact_id, SUPPORT.id) == state.id
        assert account.conversation_between(state.contact_id, SALES.id) is None
        assert account.conversation_between(ContactId("nobody"), SUPPORT.id) is None

    def test_a_later_commit_adds_its_events_after_the_earlier_ones(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        first = tuple(account.events(started.id))
        closed, closing = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        account.commit(ChangeSet((_change(started, closed, closing),)))
        assert tuple(account.events(started.id)) == first + closing
        assert account.conversation(started.id) == closed

    def test_the_stored_events_replay_to_the_stored_state(self, account: Store) -> None:
        state = _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, BEN, when=at(1))
        state = _close(account, _star(account, _reply(account, state, at(2)), BEN, at(3)), at(4))
        assert account.conversation(state.id) == state
        assert replay(account.events(state.id)) == state
        assert len(account.events(state.id)) == state.version

    def test_an_unknown_conversation_has_no_state_and_no_events(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0))
        assert account.conversation(ConversationId("c-2")) is None
        assert tuple(account.events(ConversationId("c-2"))) == ()

    def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        _close(account, started, at(1))  # someone else saved first
        before = _observed(account, [started.id])
        assigned, events = _decided(started, Assign(started.id, BEN, _by()), at(2), SUPPORT, SHARED)
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((_change(started, assigned, events),)))
        _unchanged(before, _observed(account, [started.id]))

    def test_expecting_a_version_a_conversation_does_not_have_yet_is_a_conflict(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        before = _observed(account, [started.id])
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        ahead = attrs.evolve(closed, version=closed.version + 5)
        with pytest.raises(ConcurrencyConflict):
            account.commit(
                ChangeSet((_change(started, ahead, events, expected_version=started.version + 5),))
            )
        _unchanged(before, _observed(account, [started.id]))

    def test_a_second_new_conversation_between_a_contact_and_an_inbox_is_a_conflict(
        self, account: Store
    ) -> None:
        winner = _start(account, "c-1", SUPPORT, at(0))
        rival = _first_message("c-2", SUPPORT, contact=winner.contact_id)
        state, events = _decided(None, rival, at(1), SUPPORT, SHARED)
        before = _observed(account, [winner.id, state.id])
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((_change(None, state, events),)))
        _unchanged(before, _observed(account, [winner.id, state.id]))
        assert account.conversation_between(winner.contact_id, SUPPORT.id) == winner.id

    def test_two_new_conversations_between_a_contact_and_an_inbox_in_one_change_set_are_a_conflict(
        self, account: Store
    ) -> None:
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        twins = [
            _decided(None, _first_message(name, SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED)
            for name in ("c-1", "c-2")
        ]
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet(tuple(_change(None, state, events) for state, events in twins)))
        assert account.conversation(ConversationId("c-1")) is None
        assert account.conversation(ConversationId("c-2")) is None
        assert account.conversation_between(ContactId("maria"), SUPPORT.id) is None

    def test_a_follow_up_linked_to_the_current_conversation_takes_over_its_contact_and_inbox(
        self, account: Store
    ) -> None:
        first = _start(account, "c-1", SUPPORT, at(0))
        follow_up = attrs.evolve(
            _first_message("c-1-followup", SUPPORT, contact=first.contact_id), linked_from=first.id
        )
        linked = _save(account, None, follow_up, at(1))
        assert linked.linked_from == first.id
        assert account.conversation_between(first.contact_id, SUPPORT.id) == linked.id
        assert account.conversation(first.id) == first

    def test_a_follow_up_committed_with_its_parents_message_takes_over_its_contact_and_inbox(
        self, account: Store
    ) -> None:
        # As a rule does it: the contact writes to a closed conversation, which opens a linked one.
        first = _close(account, _start(account, "c-1", SUPPORT, at(0)), at(1))
        message = ReceiveMessage(first.id, SUPPORT.id, first.contact_id, MessageId("m-2"), "Hello again")
        written, written_events = _decided(first, message, at(2), SUPPORT, SHARED)
        follow_up = attrs.evolve(
            _first_message("c-1-followup", SUPPORT, contact=first.contact_id), linked_from=first.id
        )
        linked, linked_events = _decided(None, follow_up, at(2), SUPPORT, SHARED)
        account.commit(
            ChangeSet((_change(first, written, written_events), _change(None, linked, linked_events)))
        )
        assert account.conversation(first.id) == written
        assert account.conversation(linked.id) == linked
        assert account.conversation_between(first.contact_id, SUPPORT.id) == linked.id
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-1-followup"]
        assert _listed(account, Tab.CLOSED, BEN) == ["c-1"]

    def test_a_follow_up_committed_with_its_new_parent_takes_over_its_contact_and_inbox(
        self, account: Store
    ) -> None:
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        parent, parent_events = _decided(
            None, _first_message("c-1", SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED
        )
        follow_up = attrs.evolve(
            _first_message("c-2", SUPPORT, contact=ContactId("maria")), linked_from=parent.id
        )
        linked, linked_events = _decided(None, follow_up, at(0), SUPPORT, SHARED)
        account.commit(
            ChangeSet((_change(None, parent, parent_events), _change(None, linked, linked_events)))
        )
        assert account.conversation(parent.id) == parent
        assert account.conversation(linked.id) == linked
        assert account.conversation_between(ContactId("maria"), SUPPORT.id) == linked.id

    def test_a_follow_up_linked_to_an_older_conversation_is_a_conflict(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0))
        newer = _save(
            account,
            None,
            attrs.evolve(_first_message("c-2", SUPPORT, contact=first.contact_id), linked_from=first.id),
            at(1),
        )
        stale = attrs.evolve(_first_message("c-3", SUPPORT, contact=first.contact_id), linked_from=first.id)
        state, events = _decided(None, stale, at(2), SUPPORT, SHARED)
        before = _observed(account, [first.id, newer.id, state.id])
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((_change(None, state, events),)))
        assert account.conversation_between(first.contact_id, SUPPORT.id) == newer.id
        assert account.conversation(state.id) is None
        _unchanged(before, _observed(account, [first.id, newer.id, state.id]))

    def test_the_same_contact_may_start_a_conversation_in_another_inbox(self, account: Store) -> None:
        in_support = _start(account, "c-1", SUPPORT, at(0))
        command = _first_message("c-2", SALES, contact=in_support.contact_id)
        in_sales = _save(account, None, command, at(1))
        assert account.conversation_between(in_support.contact_id, SALES.id) == in_sales.id
        assert account.conversation_between(in_support.contact_id, SUPPORT.id) == in_support.id

    def test_a_version_that_does_not_follow_expected_plus_events_is_invalid(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        before = _observed(account, [started.id])
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        skipped = attrs.evolve(closed, version=closed.version + 1)
        with pytest.raises(InvalidInput):
            account.commit(ChangeSet((_change(started, skipped, events),)))
        _unchanged(before, _observed(account, [started.id]))

    def test_a_new_conversation_whose_version_is_not_its_event_count_is_invalid(self, account: Store) -> None:
        _add_contact(account, Contact(ContactId("maria"), "Maria"))
        state, events = _decided(
            None, _first_message("c-1", SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED
        )
        before = _observed(account, [state.id])
        with pytest.raises(InvalidInput):
            account.commit(ChangeSet((_change(None, state, events[:1]),)))
        assert account.conversation(state.id) is None
        assert account.conversation_between(ContactId("maria"), SUPPORT.id) is None
        _unchanged(before, _observed(account, [state.id]))

    def test_a_conversation_in_an_unknown_inbox_is_refused(self, account: Store) -> None:
        state, events = _decided(None, _first_message("c-1", NOWHERE), at(0), NOWHERE, SHARED)
        before = _observed(account, [state.id])
        with pytest.raises(UnknownInbox):
            account.commit(ChangeSet((_change(None, state, events),)))
        _unchanged(before, _observed(account, [state.id]))

    def test_a_conversation_may_start_in_an_inbox_saved_in_the_same_change_set(self, store: Store) -> None:
        state, events = _decided(None, _first_message("c-1", SUPPORT), at(0), SUPPORT, SHARED)
        store.commit(
            ChangeSet(
                (_change(None, state, events),),
                store.directory_version(),
                DirectoryChange(users=_USERS, inboxes=(SUPPORT,)),
                contacts=(Contact(state.contact_id, "Maria"),),
            )
        )
        assert store.conversation(state.id) == state
        assert _listed(store, Tab.ALL_OPEN, BEN) == ["c-1"]

    # ------------------------------------------------------------ a change set is all or nothing

    def test_a_change_set_commits_several_conversations_together(self, account: Store) -> None:
        old = _start(account, "c-1", SUPPORT, at(0))
        new, new_events = _decided(None, _first_message("c-2", SUPPORT), at(1), SUPPORT, SHARED)
        closed, closing = _decided(old, Close(old.id, _by()), at(1), SUPPORT, SHARED)
        reminder = Timer(RuleId("remind"), at(5))
        account.commit(
            ChangeSet(
                (_change(None, new, new_events, timers=[reminder]), _change(old, closed, closing)),
                contacts=(Contact(new.contact_id, "Omar"),),
            )
        )
        assert account.conversation(new.id) == new
        assert account.conversation(old.id) == closed
        assert tuple(account.events(new.id)) == new_events
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-2"]
        assert _listed(account, Tab.CLOSED, BEN) == ["c-1"]
        assert list(account.due(at(5), limit=10)) == [DueTimer(at(5), new.id, reminder.rule_id)]

    def test_a_change_set_whose_second_conversation_is_stale_stores_neither(self, account: Store) -> None:
        old = _start(account, "c-1", SUPPORT, at(0))
        _set_timers(account, old, Timer(RuleId("remind"), at(30)))
        _close(account, old, at(1))  # someone else saved c-1 first (and its timers went with it)
        new, new_events = _decided(None, _first_message("c-2", SUPPORT), at(2), SUPPORT, SHARED)
        stale, stale_events = _decided(old, Assign(old.id, BEN, _by()), at(2), SUPPORT, SHARED)
        before = _observed(account, [old.id, new.id], contacts=[new.contact_id])
        with pytest.raises(ConcurrencyConflict):
            account.commit(
                ChangeSet(
                    (
                        _change(None, new, new_events, timers=[Timer(RuleId("remind"), at(5))]),
                        _change(old, stale, stale_events, timers=[Timer(RuleId("nudge"), at(6))]),
                    ),
                    contacts=(Contact(new.contact_id, "Omar"),),
                )
            )
        assert account.conversation(new.id) is None
        assert tuple(account.events(new.id)) == ()
        assert account.conversation_between(new.contact_id, SUPPORT.id) is None
        assert account.contact(new.contact_id) is None
        assert _listed(account, Tab.ALL_OPEN, BEN) == []
        assert _listed(account, Tab.UNASSIGNED, BEN) == []
        assert _counts(account, BEN)[Tab.ALL_OPEN] == TabCount(total=0, unread=0)
        assert list(account.conversations_assigned_to(BEN, SUPPORT.id)) == []
        assert list(account.due(FAR_FUTURE, limit=10)) == []
        _unchanged(before, _observed(account, [old.id, new.id], contacts=[new.contact_id]))

    @pytest.mark.parametrize("kind", REFUSALS)
    def test_a_refused_change_set_changes_nothing_a_reader_can_see(self, store: Store, kind: str) -> None:
        change_set, error = refused_change_set(store, kind)
        before = _observed(store, _BUSY_CONVERSATIONS, contacts=_BUSY_CONTACTS, emails=_BUSY_EMAILS)
        with pytest.raises(error):
            store.commit(change_set)
        _unchanged(
            before, _observed(store, _BUSY_CONVERSATIONS, contacts=_BUSY_CONTACTS, emails=_BUSY_EMAILS)
        )
        # The claims it held are held still: the claimed timer and email stay with their workers.
        c_1 = ConversationId("c-1")
        assert [timer.conversation_id for timer in store.claim_due(at(60), limit=10, until=at(90))] == [
            ConversationId("c-4"),
            ConversationId("c-3"),
        ], "a refused change set ended a claim, or claimed a timer"
        assert store.claim_email("email-3", at(60), at(90)) is None
        assert store.claim_email("email-1", at(60), at(90)) is not None
        assert store.conversation(c_1) is not None

    def test_the_change_set_that_the_refusals_spoil_commits_whole(self, store: Store) -> None:
        states = _busy_account(store)
        version = store.directory_version()
        store.commit(_innocent_change_set(store, states))
        new = store.conversation(ConversationId("c-new"))
        assert new is not None
        assert store.conversation_between(new.contact_id, SUPPORT.id) == new.id
        assert store.contact(new.contact_id) == Contact(new.contact_id, "Omar")
        first = store.conversation(ConversationId("c-1"))
        assert first is not None
        assert first.assignees == {ANA, BEN}
        assert store.user(DAN) is not None
        assert store.inbox(SALES.id) == attrs.evolve(SALES, members=SALES.members | {BEN})
        assert store.settings() == SHARED
        assert store.directory_version() == version + 1
        assert store.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: 3}
        assert _kept(store, "email-new").id == "email-new"
        assert [
            (timer.conversation_id.value, timer.rule_id.value) for timer in store.due(at(60), limit=10)
        ] == [
            ("c-4", "nudge"),
            ("c-3", "remind"),
            ("c-new", "remind"),
            ("c-1", "nudge"),
        ]
        redelivered = _decided(
            new,
            ReceiveMessage(new.id, SUPPORT.id, new.contact_id, MessageId("m-again"), "Hi", "SM-new"),
            at(25),
            SUPPORT,
            PER_USER,
        )
        with pytest.raises(DuplicateDelivery) as refused:
            store.commit(
                ChangeSet(
                    (_change(new, *redelivered),),
                    deliveries=(ExternalDelivery(SUPPORT.id, "SM-new", new.id),),
                )
            )
        assert refused.value.conversation_id == new.id

    # ------------------------------------------------------------ external message ids

    def test_a_redelivered_external_id_is_a_duplicate_and_stores_nothing(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        before = _observed(account, [started.id])
        again = ReceiveMessage(started.id, SUPPORT.id, started.contact_id, MessageId("m-2"), "Hi", "SM1")
        state, events = _decided(started, again, at(1), SUPPORT, SHARED)
        with pytest.raises(DuplicateDelivery) as refused:
            account.commit(
                ChangeSet(
                    (_change(started, state, events),),
                    deliveries=(ExternalDelivery(SUPPORT.id, "SM1", started.id),),
                )
            )
        assert refused.value.conversation_id == started.id
        _unchanged(before, _observed(account, [started.id]))

    def test_a_redelivered_first_message_does_not_start_a_second_conversation(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        command = _first_message("c-2", SUPPORT)
        _add_contact(account, Contact(command.contact_id, "Omar"))
        state, events = _decided(None, command, at(1), SUPPORT, SHARED)
        before = _observed(account, [first.id, state.id])
        with pytest.raises(DuplicateDelivery) as refused:
            account.commit(
                ChangeSet(
                    (_change(None, state, events),),
                    deliveries=(ExternalDelivery(SUPPORT.id, "SM1", state.id),),
                )
            )
        assert refused.value.conversation_id == first.id
        assert account.conversation(state.id) is None
        assert account.conversation_between(command.contact_id, SUPPORT.id) is None
        assert account.conversation(first.id) == first
        _unchanged(before, _observed(account, [first.id, state.id]))

    def test_a_duplicate_delivery_refuses_the_whole_change_set(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        other = _start(account, "c-2", SUPPORT, at(1))
        command = ReceiveMessage(first.id, SUPPORT.id, first.contact_id, MessageId("m-2"), "Hi", "SM1")
        again, again_events = _decided(first, command, at(2), SUPPORT, SHARED)
        closed, closing = _decided(other, Close(other.id, _by()), at(2), SUPPORT, SHARED)
        before = _observed(account, [first.id, other.id], contacts=[ContactId("omar")], emails=["email-1"])
        with pytest.raises(DuplicateDelivery) as refused:
            account.commit(
                ChangeSet(
                    (_change(other, closed, closing), _change(first, again, again_events)),
                    contacts=(Contact(ContactId("omar"), "Omar"),),
                    rotations=(RotationTurns(ROUND_ROBIN, 0, 1),),
                    deliveries=(ExternalDelivery(SUPPORT.id, "SM1", first.id),),
                    emails=(_outgoing("email-1", first, at(2)),),
                )
            )
        assert refused.value.conversation_id == first.id
        assert account.conversation(first.id) == first
        assert account.conversation(other.id) == other
        assert account.contact(ContactId("omar")) is None
        assert account.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: 0}
        assert account.outgoing_email("email-1") is None
        after = _observed(account, [first.id, other.id], contacts=[ContactId("omar")], emails=["email-1"])
        _unchanged(before, after)

    def test_delivered_to_names_the_conversation_each_external_id_went_to(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        assert account.delivered_to(SUPPORT.id, "SM1") == started.id
        assert account.delivered_to(SALES.id, "SM1") is None
        assert account.delivered_to(SUPPORT.id, "SM2") is None
        with pytest.raises(InvalidInput):
            account.delivered_to(SUPPORT.id, "")

    def test_a_change_set_delivers_many_external_ids_at_once_or_none(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        other = _start(account, "c-2", SUPPORT, at(1))
        command = ReceiveMessage(other.id, SUPPORT.id, other.contact_id, MessageId("m-2"), "Hi", "SM3")
        again, events = _decided(other, command, at(2), SUPPORT, SHARED)
        new_ones = (
            ExternalDelivery(SUPPORT.id, "SM3", other.id),
            ExternalDelivery(SUPPORT.id, "SM4", other.id),
        )
        before = _observed(account, [first.id, other.id])
        for refused, error in (
            ((*new_ones, ExternalDelivery(SUPPORT.id, "SM1", other.id)), DuplicateDelivery),
            ((*new_ones, new_ones[0]), InvalidInput),  # a change set that contradicts itself
        ):
            with pytest.raises(error):
                account.commit(ChangeSet((_change(other, again, events),), deliveries=refused))
            _unchanged(before, _observed(account, [first.id, other.id]))
            assert account.delivered_to(SUPPORT.id, "SM3") is None
        account.commit(ChangeSet((_change(other, again, events),), deliveries=new_ones))
        assert account.delivered_to(SUPPORT.id, "SM3") == other.id
        assert account.delivered_to(SUPPORT.id, "SM4") == other.id

    def test_the_same_external_id_in_another_inbox_is_delivered(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        in_sales = _start(account, "c-2", SALES, at(1), external_id="SM1")
        assert account.conversation(in_sales.id) == in_sales

    def test_a_refused_commit_does_not_use_up_its_external_id(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        closed = _close(account, started, at(1))
        late = ReceiveMessage(started.id, SUPPORT.id, started.contact_id, MessageId("m-2"), "Hi", "SM2")
        stale, events = _decided(started, late, at(2), SUPPORT, SHARED)
        with pytest.raises(ConcurrencyConflict):
            account.commit(
                ChangeSet(
                    (_change(started, stale, events),),
                    deliveries=(ExternalDelivery(SUPPORT.id, "SM2", started.id),),
                )
            )
        fresh = _save(account, closed, late, at(3), external_id="SM2")
        assert account.conversation(started.id) == fresh

    # ------------------------------------------------------------ rotations of round-robin rules

    def test_rotations_start_at_zero_and_are_saved_with_the_state_one_rule_at_a_time(
        self, account: Store
    ) -> None:
        first, second = RuleId("round-robin"), RuleId("another")
        assert account.rotations([first]) == {first: 0}
        state = _start(account, "c-1", SUPPORT, at(0))
        account.commit(ChangeSet((_timers_only(state),), rotations=(RotationTurns(first, 0, 3),)))
        assert account.rotations([first, second]) == {first: 3, second: 0}

    def test_rotations_of_rules_that_never_gave_a_turn_are_zero(self, account: Store) -> None:
        never, other = RuleId("never"), RuleId("other")
        assert account.rotations([never, other]) == {never: 0, other: 0}
        assert account.rotations([]) == {}
        account.commit(ChangeSet(rotations=(RotationTurns(ROUND_ROBIN, 0, 1),)))
        assert account.rotations([never, ROUND_ROBIN]) == {never: 0, ROUND_ROBIN: 1}

    def test_rotation_turns_are_a_compare_and_set_per_rule(self, account: Store) -> None:
        first, second = RuleId("round-robin"), RuleId("another")
        account.commit(ChangeSet(rotations=(RotationTurns(first, 0, 2), RotationTurns(second, 0, 1))))
        account.commit(ChangeSet(rotations=(RotationTurns(first, 2, 3),)))
        assert account.rotations([first, second]) == {first: 3, second: 1}

    def test_a_refused_commit_records_no_turn_of_a_rotation(self, account: Store) -> None:
        rule = RuleId("round-robin")
        state = _start(account, "c-1", SUPPORT, at(0))
        stale = ConversationChange(state, (), state.version + 1)
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((stale,), rotations=(RotationTurns(rule, 0, 1),)))
        assert account.rotations([rule]) == {rule: 0}

    def test_a_stale_rotation_count_is_a_conflict_and_nothing_of_the_change_set_is_stored(
        self, account: Store
    ) -> None:
        old = _start(account, "c-1", SUPPORT, at(0))
        account.commit(ChangeSet(rotations=(RotationTurns(ROUND_ROBIN, 0, 2),)))  # another worker's turns
        new, new_events = _decided(None, _first_message("c-2", SUPPORT), at(1), SUPPORT, SHARED)
        assigned, assigned_events = _decided(old, Assign(old.id, BEN, _by()), at(1), SUPPORT, SHARED)
        before = _observed(account, [old.id, new.id], contacts=[new.contact_id], emails=["email-1"])
        with pytest.raises(ConcurrencyConflict):
            account.commit(
                ChangeSet(
                    (
                        _change(None, new, new_events, timers=[Timer(RuleId("remind"), at(5))]),
                        _change(old, assigned, assigned_events),
                    ),
                    contacts=(Contact(new.contact_id, "Omar"),),
                    rotations=(RotationTurns(ROUND_ROBIN, 1, 2),),
                    emails=(_outgoing("email-1", old, at(1)),),
                )
            )
        assert account.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: 2}
        assert account.conversation(new.id) is None
        assert account.conversation(old.id) == old
        assert account.outgoing_email("email-1") is None
        _unchanged(
            before, _observed(account, [old.id, new.id], contacts=[new.contact_id], emails=["email-1"])
        )

    # ------------------------------------------------------------ assignments per inbox

    def test_conversations_assigned_to_lists_open_and_closed_assignments(self, account: Store) -> None:
        _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        _close(account, _assign(account, _start(account, "c-2", SUPPORT, at(2)), ANA, when=at(3)), at(4))
        _assign(account, _start(account, "c-3", SUPPORT, at(5)), BEN, when=at(6))
        _start(account, "c-4", SUPPORT, at(7))
        assigned = account.conversations_assigned_to(ANA, SUPPORT.id)
        assert sorted(cid.value for cid in assigned) == ["c-1", "c-2"]

    def test_conversations_assigned_to_forgets_an_unassignment(self, account: Store) -> None:
        state = _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, BEN, when=at(1))
        _save(account, state, Unassign(state.id, ANA, _by()), at(2))
        assert list(account.conversations_assigned_to(ANA, SUPPORT.id)) == []
        assert list(account.conversations_assigned_to(BEN, SUPPORT.id)) == [state.id]

    def test_conversations_assigned_to_is_per_inbox(self, account: Store) -> None:
        _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        _assign(account, _start(account, "c-2", SALES, at(2)), ANA, when=at(3))
        assert list(account.conversations_assigned_to(ANA, SALES.id)) == [ConversationId("c-2")]
        assert list(account.conversations_assigned_to(ANA, ANA_LINE.id)) == []

    def test_conversations_assigned_to_is_ordered_by_id(self, account: Store) -> None:
        for name in ("c-b", "c-c", "c-a"):
            _assign(account, _start(account, name, SUPPORT, at(0)), ANA, when=at(1))
        assert _ids_of(account.conversations_assigned_to(ANA, SUPPORT.id)) == ["c-a", "c-b", "c-c"]


class ViewsConformance(_Suite):
    """The :class:`~convostate.ports.Views` role: tab pages and counts, kept by every commit."""

    def test_a_tab_lists_newest_activity_first(self, account: Store) -> None:
        for minute, name in enumerate(["c-1", "c-2", "c-3"]):
            _start(account, name, SUPPORT, at(minute))
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-3", "c-2", "c-1"]

    def test_a_page_gives_each_conversations_current_state(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        assigned = _assign(account, started, BEN, when=at(1))
        assert list(account.tab_page(Tab.ALL_OPEN, BEN, [SUPPORT.id], after=None, limit=10)) == [assigned]

    def test_a_change_that_moves_no_row_still_gives_the_current_state(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        _set_timers(account, started, Timer(RuleId("remind"), at(30)))
        snoozed = _save(account, started, _snooze(started, at(60)), at(1))
        assert list(account.tab_page(Tab.ALL_OPEN, BEN, [SUPPORT.id], after=None, limit=10)) == [snoozed]

    def test_equal_activity_is_ordered_by_id(self, account: Store) -> None:
        for name in ["c-b", "c-c", "c-a"]:
            _start(account, name, SUPPORT, at(0))
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-a", "c-b", "c-c"]

    def test_a_page_holds_at_most_limit_conversations(self, account: Store) -> None:
        for minute, name in enumerate(["c-1", "c-2", "c-3"]):
            _start(account, name, SUPPORT, at(minute))
        assert _listed(account, Tab.ALL_OPEN, BEN, limit=2) == ["c-3", "c-2"]

    def test_a_page_continues_after_a_position(self, account: Store) -> None:
        states = [
            _start(account, name, SUPPORT, at(minute)) for minute, name in enumerate(["c-1", "c-2", "c-3"])
        ]
        after = position_of(states[2])
        assert _listed(account, Tab.ALL_OPEN, BEN, after=after, limit=1) == ["c-2"]
        assert _listed(account, Tab.ALL_OPEN, BEN, after=position_of(states[0])) == []

    def test_a_page_after_a_tie_continues_with_the_next_id(self, account: Store) -> None:
        first = _start(account, "c-a", SUPPORT, at(0))
        _start(account, "c-b", SUPPORT, at(0))
        assert _listed(account, Tab.ALL_OPEN, BEN, after=position_of(first)) == ["c-b"]

    def test_a_page_merges_the_given_inboxes_by_activity(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(1))
        _start(account, "c-2", SALES, at(2))
        _start(account, "c-3", SUPPORT, at(3))
        _start(account, "c-4", SALES, at(4))
        assert _listed(account, Tab.ALL_OPEN, ANA, [SUPPORT, SALES]) == ["c-4", "c-3", "c-2", "c-1"]

    def test_a_page_lists_only_the_given_inboxes(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(1))
        _start(account, "c-2", SALES, at(2))
        assert _listed(account, Tab.ALL_OPEN, ANA, [SALES]) == ["c-2"]
        assert _listed(account, Tab.ALL_OPEN, ANA, []) == []

    def test_paging_through_several_inboxes_lists_each_conversation_once(self, account: Store) -> None:
        inboxes = [SUPPORT, SALES]
        for n in range(9):
            _start(account, f"c-{n}", inboxes[n % 2], at(n // 3))  # ties inside each minute
        everything = _listed(account, Tab.ALL_OPEN, ANA, inboxes)
        walked: list[str] = []
        after: Position | None = None
        for _ in range(10):  # five pages of two, then an empty one; a store that ignores ``after`` stops here
            page = account.tab_page(Tab.ALL_OPEN, ANA, [SUPPORT.id, SALES.id], after=after, limit=2)
            if not page:
                break
            walked += _ids(page)
            after = position_of(page[-1])
        assert len(everything) == 9
        assert walked == everything

    def test_new_activity_moves_a_conversation_to_the_top_once(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0))
        _start(account, "c-2", SUPPORT, at(1))
        _reply(account, first, at(2))
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-1", "c-2"]

    def test_closing_moves_a_conversation_from_all_open_to_closed(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0))
        _start(account, "c-2", SUPPORT, at(1))
        _close(account, first, at(2))
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-2"]
        assert _listed(account, Tab.CLOSED, BEN) == ["c-1"]

    def test_unassigned_lists_open_conversations_without_assignees(self, account: Store) -> None:
        _assign(account, _start(account, "c-1", SUPPORT, at(0)), BEN, when=at(1))
        _start(account, "c-2", SUPPORT, at(2))
        _close(account, _start(account, "c-3", SUPPORT, at(3)), at(4))
        assert _listed(account, Tab.UNASSIGNED, BEN) == ["c-2"]

    def test_assigned_to_you_lists_a_users_open_assigned_conversations(self, account: Store) -> None:
        _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        _assign(account, _start(account, "c-2", SUPPORT, at(2)), BEN, when=at(3))
        _close(account, _assign(account, _start(account, "c-3", SUPPORT, at(4)), ANA, when=at(5)), at(6))
        _assign(account, _start(account, "c-4", SUPPORT, at(7)), ANA, BEN, when=at(8))
        assert _listed(account, Tab.ASSIGNED_TO_YOU, ANA) == ["c-4", "c-1"]
        assert _listed(account, Tab.ASSIGNED_TO_YOU, BEN) == ["c-4", "c-2"]
        assert _listed(account, Tab.ASSIGNED_TO_YOU, CARA) == []

    def test_unassigning_takes_a_conversation_out_of_assigned_to_you(self, account: Store) -> None:
        state = _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        _save(account, state, Unassign(state.id, ANA, _by()), at(2))
        assert _listed(account, Tab.ASSIGNED_TO_YOU, ANA) == []
        assert _listed(account, Tab.UNASSIGNED, ANA) == ["c-1"]

    def test_a_single_user_inbox_lists_its_open_conversations_as_the_owners(self, account: Store) -> None:
        _start(account, "c-1", ANA_LINE, at(0))
        _close(account, _start(account, "c-2", ANA_LINE, at(1)), at(2))
        assert _listed(account, Tab.ASSIGNED_TO_YOU, ANA, [ANA_LINE]) == ["c-1"]
        assert _listed(account, Tab.UNASSIGNED, ANA, [ANA_LINE]) == []
        assert _listed(account, Tab.CLOSED, ANA, [ANA_LINE]) == ["c-2"]

    def test_starred_is_per_user_and_keeps_closed_conversations(self, account: Store) -> None:
        _star(account, _start(account, "c-1", SUPPORT, at(0)), ANA, at(1))
        _close(account, _star(account, _start(account, "c-2", SUPPORT, at(2)), ANA, at(3)), at(4))
        _star(account, _start(account, "c-3", SUPPORT, at(5)), BEN, at(6))
        assert _listed(account, Tab.STARRED, ANA) == ["c-2", "c-1"]
        assert _listed(account, Tab.STARRED, BEN) == ["c-3"]

    # ------------------------------------------------------------ tab counts

    def test_shared_tab_counts_give_totals_and_unread(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0))
        _read(account, _start(account, "c-2", SUPPORT, at(1)), ANA, at(2), SHARED)
        _assign(account, _start(account, "c-3", SUPPORT, at(3)), BEN, when=at(4))
        _close(account, _start(account, "c-4", SUPPORT, at(5)), at(6))
        counts = _counts(account, BEN)
        assert counts[Tab.ALL_OPEN] == TabCount(total=3, unread=2)
        assert counts[Tab.UNASSIGNED] == TabCount(total=2, unread=1)
        assert counts[Tab.CLOSED] == TabCount(total=1, unread=1)

    def test_personal_tab_counts_give_totals_and_unread(self, account: Store) -> None:
        _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        _read(
            account,
            _assign(account, _start(account, "c-2", SUPPORT, at(2)), ANA, when=at(3)),
            BEN,
            at(4),
            SHARED,
        )
        _star(account, _start(account, "c-3", SUPPORT, at(5)), ANA, at(6))
        ana, ben = _counts(account, ANA), _counts(account, BEN)
        assert ana[Tab.ASSIGNED_TO_YOU] == TabCount(total=2, unread=1)
        assert ana[Tab.STARRED] == TabCount(total=1, unread=1)
        assert ben[Tab.ASSIGNED_TO_YOU] == TabCount(total=0, unread=0)
        assert ben[Tab.STARRED] == TabCount(total=0, unread=0)

    def test_tab_counts_cover_every_tab(self, account: Store) -> None:
        assert set(_counts(account, ANA)) == set(Tab)
        assert set(_counts(account, ANA, [])) == set(Tab)

    def test_tab_counts_add_up_the_given_inboxes_only(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0))
        _start(account, "c-2", SALES, at(1))
        _start(account, "c-3", SALES, at(2))
        assert _counts(account, ANA, [SUPPORT, SALES])[Tab.ALL_OPEN] == TabCount(total=3, unread=3)
        assert _counts(account, ANA, [SALES])[Tab.ALL_OPEN] == TabCount(total=2, unread=2)
        assert _counts(account, ANA, [])[Tab.ALL_OPEN] == TabCount(total=0, unread=0)

    def test_a_single_user_inbox_counts_its_open_conversations_as_the_owners(self, account: Store) -> None:
        _start(account, "c-1", ANA_LINE, at(0))
        counts = _counts(account, ANA, [ANA_LINE])
        assert counts[Tab.ASSIGNED_TO_YOU] == TabCount(total=1, unread=1)
        assert counts[Tab.UNASSIGNED] == TabCount(total=0, unread=0)

    def test_per_user_read_state_corrects_shared_tab_unread_counts(self, account: Store) -> None:
        _read(account, _start(account, "c-1", SUPPORT, at(0), settings=PER_USER), ANA, at(1), PER_USER)
        _start(account, "c-2", SUPPORT, at(2), settings=PER_USER)
        assert _counts(account, ANA)[Tab.ALL_OPEN] == TabCount(total=2, unread=1)
        assert _counts(account, BEN)[Tab.ALL_OPEN] == TabCount(total=2, unread=2)
        assert _counts(account, BEN)[Tab.UNASSIGNED] == TabCount(total=2, unread=2)

    def test_per_user_read_state_counts_personal_unread_per_user(self, account: Store) -> None:
        state = _assign(
            account, _start(account, "c-1", SUPPORT, at(0), settings=PER_USER), ANA, BEN, when=at(1)
        )
        _read(account, state, BEN, at(2), PER_USER)
        assert _counts(account, ANA)[Tab.ASSIGNED_TO_YOU] == TabCount(total=1, unread=1)
        assert _counts(account, BEN)[Tab.ASSIGNED_TO_YOU] == TabCount(total=1, unread=0)

    def test_per_user_a_new_inbound_message_is_unread_for_everyone_again(self, account: Store) -> None:
        state = _read(
            account, _start(account, "c-1", SUPPORT, at(0), settings=PER_USER), ANA, at(1), PER_USER
        )
        again = ReceiveMessage(state.id, SUPPORT.id, state.contact_id, MessageId("m-2"), "Still there?")
        _save(account, state, again, at(2), settings=PER_USER)
        assert _counts(account, ANA)[Tab.ALL_OPEN] == TabCount(total=1, unread=1)
        assert _counts(account, BEN)[Tab.ALL_OPEN] == TabCount(total=1, unread=1)

    @pytest.mark.parametrize("settings", [SHARED, PER_USER], ids=["shared", "per-user"])
    def test_every_count_equals_what_its_tab_lists(self, account: Store, settings: AccountSettings) -> None:
        states = {}
        for n, inbox in enumerate([SUPPORT, SALES, ANA_LINE, SUPPORT, SALES, SUPPORT]):
            states[n] = _start(account, f"c-{n}", inbox, at(10 * n), settings=settings)
        _assign(account, states[0], ANA, BEN, when=at(100))
        _read(account, _assign(account, states[1], CARA, when=at(101)), CARA, at(102), settings)
        _close(account, _star(account, states[2], ANA, at(103)), at(104))
        _read(account, _star(account, states[3], BEN, at(105)), BEN, at(106), settings)
        _close(account, _read(account, states[4], ANA, at(107), settings), at(108))
        everywhere = [SUPPORT, SALES, ANA_LINE]
        for user in (ANA, BEN, CARA):
            counts = _counts(account, user, everywhere)
            for tab in Tab:
                page = account.tab_page(tab, user, [inbox.id for inbox in everywhere], after=None, limit=100)
                unread = sum(conversation.is_unread_for(user) for conversation in page)
                assert counts[tab] == TabCount(total=len(page), unread=unread), (user, tab)

    def test_a_refused_change_set_moves_no_row_and_no_counter(self, account: Store) -> None:
        first = _assign(account, _start(account, "c-1", SUPPORT, at(0)), ANA, when=at(1))
        second = _start(account, "c-2", SUPPORT, at(2))
        lists = {(user, tab): _listed(account, tab, user) for user in (ANA, BEN) for tab in Tab}
        counts = {user: _counts(account, user) for user in (ANA, BEN)}
        closed, closing = _decided(first, Close(first.id, _by()), at(3), SUPPORT, SHARED)
        read, reading = _decided(second, MarkRead(second.id, BEN, _by(BEN)), at(3), SUPPORT, SHARED)
        stale = _change(second, read, reading, expected_version=second.version - 1)
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((_change(first, closed, closing), stale)))
        assert {(user, tab): _listed(account, tab, user) for user in (ANA, BEN) for tab in Tab} == lists
        assert {user: _counts(account, user) for user in (ANA, BEN)} == counts


class TimerQueueConformance(_Suite):
    """The :class:`~convostate.ports.TimerQueue` role: timers kept with each conversation's state, due oldest
    first, and claimed (leased) by one worker at a time."""

    def test_a_timer_committed_with_a_conversation_is_due_from_its_time_on(self, account: Store) -> None:
        reminder = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0))
        _set_timers(account, started, Timer(reminder, at(60)))
        assert list(account.due(at(59), limit=10)) == []
        assert list(account.due(at(60), limit=10)) == [DueTimer(at(60), started.id, reminder)]
        assert list(account.due(at(61), limit=10)) == [DueTimer(at(60), started.id, reminder)]

    def test_a_new_conversations_timers_are_committed_with_it(self, account: Store) -> None:
        reminder = Timer(RuleId("remind"), at(60))
        started = _start(account, "c-1", SUPPORT, at(0), timers=[reminder])
        assert list(account.due(at(60), limit=10)) == [DueTimer(at(60), started.id, reminder.rule_id)]

    def test_a_commit_with_no_events_changes_only_the_timers(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        events = tuple(account.events(started.id))
        lists = {tab: _listed(account, tab, BEN) for tab in Tab}
        _set_timers(account, started, Timer(RuleId("remind"), at(5)))
        assert account.conversation(started.id) == started
        assert tuple(account.events(started.id)) == events
        assert {tab: _listed(account, tab, BEN) for tab in Tab} == lists
        assert len(account.due(at(5), limit=10)) == 1

    def test_a_commit_replaces_the_conversations_timers(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        first, second = RuleId("first"), RuleId("second")
        _set_timers(account, started, Timer(first, at(5)))
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        account.commit(ChangeSet((_change(started, closed, events, timers=[Timer(second, at(7))]),)))
        assert list(account.due(at(10), limit=10)) == [DueTimer(at(7), started.id, second)]
        _save(account, closed, Assign(closed.id, BEN, _by()), at(2))  # no timers: none left
        assert list(account.due(at(10), limit=10)) == []

    def test_a_commit_keeps_the_timers_of_the_conversations_it_does_not_change(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(RuleId("remind"), at(5))])
        second = _start(account, "c-2", SUPPORT, at(1), timers=[Timer(RuleId("remind"), at(6))])
        _close(account, second, at(2))
        assert list(account.due(at(10), limit=10)) == [DueTimer(at(5), first.id, RuleId("remind"))]

    def test_a_refused_commit_keeps_the_timers_it_had(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        kept = Timer(RuleId("remind"), at(5))
        _set_timers(account, started, kept)
        with pytest.raises(ConcurrencyConflict):
            account.commit(ChangeSet((ConversationChange(started, (), started.version + 1),)))
        assert list(account.due(at(5), limit=10)) == [DueTimer(at(5), started.id, kept.rule_id)]

    def test_due_timers_are_listed_oldest_first_and_paged_after_the_last_one(self, account: Store) -> None:
        rule = RuleId("remind")
        for n, minutes in enumerate([30, 10, 20]):
            state = _start(account, f"c-{n}", SUPPORT, at(n))
            _set_timers(account, state, Timer(rule, at(minutes)))
        due = list(account.due(at(60), limit=10))
        assert [timer.due_at for timer in due] == [at(10), at(20), at(30)]
        assert list(account.due(at(60), limit=2)) == due[:2]
        assert list(account.due(at(60), limit=10, after=due[1])) == due[2:]

    def test_timers_due_at_the_same_instant_are_paged_one_by_one_each_once(self, account: Store) -> None:
        # Ties are broken by conversation id, then rule id, even where one id is the start of another.
        rules = [RuleId("remind"), RuleId("remind-2"), RuleId("r")]
        expected: list[DueTimer] = []
        for name in ("c-1", "c-10", "c-1x"):
            state = _start(account, name, SUPPORT, at(len(expected)))
            _set_timers(account, state, *[Timer(rule, at(30)) for rule in rules])
            expected += [DueTimer(at(30), state.id, rule) for rule in rules]
        paged: list[DueTimer] = []
        for _ in range(len(expected) + 1):  # a store that pages in place must fail, not hang
            found = account.due(at(30), limit=1, after=paged[-1] if paged else None)
            if not found:
                break
            paged.extend(found)
        assert paged == sorted(expected)
        assert list(account.due(at(30), limit=100)) == paged
        assert list(account.due(at(29), limit=100)) == []

    # ------------------------------------------------------------ claims

    def test_claim_due_claims_each_due_timer_once_until_its_lease_ends(self, account: Store) -> None:
        rule = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(rule, at(10))])
        timer = DueTimer(at(10), started.id, rule)
        assert list(account.claim_due(at(9), limit=10, until=at(19))) == []  # not due yet
        assert list(account.claim_due(at(10), limit=10, until=at(20))) == [timer]
        assert list(account.claim_due(at(11), limit=10, until=at(21))) == []
        assert list(account.claim_due(at(19), limit=10, until=at(29))) == []
        assert list(account.due(at(11), limit=10)) == [timer]  # claimed or not, it is due
        assert list(account.claim_due(at(20), limit=10, until=at(30))) == [timer]  # the lease ended at 20
        assert list(account.claim_due(at(21), limit=10, until=at(31))) == []

    def test_a_claim_past_its_lease_can_be_claimed_again(self, account: Store) -> None:
        rule = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(rule, at(10))])
        timer = DueTimer(at(10), started.id, rule)
        assert list(account.claim_due(at(10), limit=10, until=at(15))) == [timer]
        assert list(account.claim_due(at(45), limit=10, until=at(50))) == [timer]  # its worker died
        assert list(account.claim_due(at(46), limit=10, until=at(51))) == []

    def test_a_commit_that_replaces_the_timers_ends_their_claims(self, account: Store) -> None:
        rule = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(rule, at(10))])
        timer = DueTimer(at(10), started.id, rule)
        assert list(account.claim_due(at(10), limit=10, until=at(20))) == [timer]
        _set_timers(account, started, Timer(rule, at(10)))  # the same timer, kept by a commit
        assert list(account.claim_due(at(11), limit=10, until=at(21))) == [timer]
        _star(account, started, BEN, at(12))  # a commit with events, and the timer still due
        assert list(account.due(at(12), limit=10)) == []
        state = account.conversation(started.id)
        assert state is not None
        _set_timers(account, state, Timer(rule, at(10)))
        assert list(account.claim_due(at(13), limit=10, until=at(23))) == [timer]

    def test_a_commit_of_another_conversation_keeps_the_claims(self, account: Store) -> None:
        rule = RuleId("remind")
        first = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(rule, at(10))])
        second = _start(account, "c-2", SUPPORT, at(1), timers=[Timer(rule, at(11))])
        assert list(account.claim_due(at(11), limit=1, until=at(20))) == [DueTimer(at(10), first.id, rule)]
        _set_timers(account, second, Timer(rule, at(11)))
        assert list(account.claim_due(at(12), limit=10, until=at(20))) == [DueTimer(at(11), second.id, rule)]
        assert list(account.claim_due(at(13), limit=10, until=at(20))) == []

    def test_a_refused_commit_keeps_the_claims(self, account: Store) -> None:
        rule = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0), timers=[Timer(rule, at(10))])
        assert len(account.claim_due(at(10), limit=10, until=at(20))) == 1
        with pytest.raises(ConcurrencyConflict):
            account.commit(
                ChangeSet((ConversationChange(started, (), started.version - 1, (Timer(rule, at(10)),)),))
            )
        assert list(account.claim_due(at(11), limit=10, until=at(21))) == []

    def test_claiming_hands_out_the_oldest_due_timers_first_at_most_limit(self, account: Store) -> None:
        rule = RuleId("remind")
        for n, minutes in enumerate([30, 10, 20, 90]):
            _start(account, f"c-{n}", SUPPORT, at(n), timers=[Timer(rule, at(minutes))])
        first = account.claim_due(at(60), limit=2, until=at(120))
        assert [timer.due_at for timer in first] == [at(10), at(20)]
        assert [timer.due_at for timer in account.claim_due(at(60), limit=2, until=at(120))] == [at(30)]
        assert list(account.claim_due(at(60), limit=2, until=at(120))) == []
        assert [timer.due_at for timer in account.due(at(60), limit=10)] == [at(10), at(20), at(30)]


class OutboxConformance(_Suite):
    """The :class:`~convostate.ports.Outbox` role: emails queued by a commit, claimed, sent or failed (for
    now, with a time to retry, or for good), and listed by status."""

    def test_a_new_store_has_no_emails(self, store: Store) -> None:
        assert list(store.pending_emails(10)) == []
        assert store.outgoing_email("email-1") is None

    def test_an_enqueued_email_is_kept_whole_and_pending(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        _enqueue(account, email)
        kept = _kept(account, "email-1")
        assert kept == email
        assert kept.message == email.message
        assert kept.parsed()["Message-ID"] == "<email-1.convostate@example.com>"
        assert list(account.pending_emails(10)) == [email]

    def test_pending_emails_are_listed_oldest_first_up_to_the_limit(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        for email_id, minutes in [("e-a", 30), ("e-b", 10), ("e-c", 20), ("e-d", 10)]:
            _enqueue(account, _outgoing(email_id, conversation, at(minutes)))
        assert _pending(account) == ["e-b", "e-d", "e-c", "e-a"]  # e-b and e-d: in the order enqueued
        assert _pending(account, limit=2) == ["e-b", "e-d"]

    def test_emails_of_one_change_set_are_pending_in_their_order(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        _enqueue(account, *[_outgoing(email_id, conversation, at(5)) for email_id in ("e-c", "e-a", "e-b")])
        _enqueue(account, _outgoing("e-0", conversation, at(5)))
        assert _pending(account) == ["e-c", "e-a", "e-b", "e-0"]

    def test_an_email_is_enqueued_with_the_change_it_belongs_to(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        closed, closing = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        email = _outgoing("email-1", closed, at(1))
        account.commit(ChangeSet((_change(started, closed, closing),), emails=(email,)))
        assert account.conversation(started.id) == closed
        assert account.outgoing_email("email-1") == email

    def test_an_email_id_is_enqueued_once_even_after_it_was_sent(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        first = _outgoing("email-1", conversation, at(1))
        _enqueue(account, first)
        with pytest.raises(InvalidInput):
            _enqueue(account, _outgoing("email-1", conversation, at(2)))
        assert account.outgoing_email("email-1") == first
        assert list(account.pending_emails(10)) == [first]
        account.email_sent("email-1", at(3))
        with pytest.raises(InvalidInput):
            _enqueue(account, first)
        assert _pending(account) == []

    def test_an_email_id_already_in_the_outbox_refuses_the_whole_change_set(self, account: Store) -> None:
        old = _start(account, "c-1", SUPPORT, at(0))
        first = _outgoing("email-1", old, at(1))
        _enqueue(account, first)
        new, new_events = _decided(None, _first_message("c-2", SUPPORT), at(2), SUPPORT, SHARED)
        closed, closing = _decided(old, Close(old.id, _by()), at(2), SUPPORT, SHARED)
        before = _observed(
            account, [old.id, new.id], contacts=[new.contact_id], emails=["email-1", "email-2"]
        )
        with pytest.raises(InvalidInput):
            account.commit(
                ChangeSet(
                    (_change(None, new, new_events), _change(old, closed, closing)),
                    contacts=(Contact(new.contact_id, "Omar"),),
                    rotations=(RotationTurns(ROUND_ROBIN, 0, 1),),
                    emails=(_outgoing("email-2", old, at(2)), _outgoing("email-1", old, at(2))),
                )
            )
        assert account.outgoing_email("email-1") == first
        assert account.outgoing_email("email-2") is None
        assert account.conversation(new.id) is None
        assert account.conversation(old.id) == old
        assert account.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: 0}
        assert _pending(account) == ["email-1"]
        after = _observed(account, [old.id, new.id], contacts=[new.contact_id], emails=["email-1", "email-2"])
        _unchanged(before, after)

    def test_one_email_id_twice_in_a_change_set_is_refused(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        with pytest.raises(InvalidInput):
            _enqueue(
                account, _outgoing("email-1", conversation, at(1)), _outgoing("email-1", conversation, at(2))
            )
        assert account.outgoing_email("email-1") is None
        assert _pending(account) == []

    def test_a_sent_email_leaves_the_pending_emails_for_good(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        _enqueue(account, email := _outgoing("email-1", conversation, at(1)))
        _enqueue(account, _outgoing("email-2", conversation, at(2)))
        account.email_sent("email-1", at(5))
        sent = _kept(account, "email-1")
        assert sent == attrs.evolve(email, attempts=1, last_attempt_at=at(5), sent_at=at(5))
        assert sent.is_sent
        assert _pending(account) == ["email-2"]
        account.email_failed(
            "email-1", at(6), "a late failure from a worker whose claim ended", retry_at=at(9)
        )
        account.email_failed(
            "email-1", at(6), "a late refusal from a worker whose claim ended", retry_at=None
        )
        account.email_sent("email-1", at(7))
        assert account.claim_email("email-1", at(8), at(18)) is None
        assert account.outgoing_email("email-1") == sent
        assert _pending(account) == ["email-2"]

    def test_a_failed_email_stays_pending_with_its_attempts_and_last_error(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        _enqueue(account, email)
        account.email_failed("email-1", at(2), "ConnectionRefusedError: no mail server", retry_at=at(3))
        account.email_failed("email-1", at(3), "TimeoutError: timed out", retry_at=at(5))
        failed = attrs.evolve(
            email,
            attempts=2,
            last_error="TimeoutError: timed out",
            last_attempt_at=at(3),
            next_attempt_at=at(5),
        )
        assert account.outgoing_email("email-1") == failed
        assert failed.status is EmailStatus.PENDING
        assert list(account.pending_emails(10)) == [failed]
        account.email_sent("email-1", at(5))
        assert account.outgoing_email("email-1") == attrs.evolve(
            failed, attempts=3, last_attempt_at=at(5), sent_at=at(5)
        )
        assert _pending(account) == []

    def test_a_claimed_email_is_not_claimed_again_until_the_claim_ends(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        _enqueue(account, email)
        assert account.claim_email("email-1", at(2), at(12)) == attrs.evolve(email, claimed_until=at(12))
        assert account.claim_email("email-1", at(5), at(15)) is None
        assert _pending(account) == ["email-1"]  # claimed, and still pending until it is sent
        assert account.claim_email("email-1", at(12), at(22)) == attrs.evolve(email, claimed_until=at(22))

    def test_an_attempt_releases_the_claim(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        _enqueue(account, _outgoing("email-1", conversation, at(1)))
        account.claim_email("email-1", at(2), at(12))
        account.email_failed("email-1", at(3), "TimeoutError: timed out", retry_at=at(4))
        assert _kept(account, "email-1").claimed_until is None
        assert account.claim_email("email-1", at(4), at(14)) is not None
        account.email_sent("email-1", at(5))
        assert _kept(account, "email-1").claimed_until is None

    def test_an_unknown_email_cannot_be_claimed_or_marked(self, account: Store) -> None:
        assert account.claim_email("email-1", at(0), at(10)) is None
        with pytest.raises(InvalidInput):
            account.email_sent("email-1", at(0))
        with pytest.raises(InvalidInput):
            account.email_failed("email-1", at(0), "TimeoutError: timed out", retry_at=at(1))
        with pytest.raises(InvalidInput):
            account.email_failed("email-1", at(0), "550 no such user", retry_at=None)
        assert account.outgoing_email("email-1") is None
        assert _pending(account) == []

    def test_a_temporary_failure_waits_until_its_retry_at(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        _enqueue(account, email)
        account.claim_email("email-1", at(2), at(12))
        account.email_failed("email-1", at(3), "451 try again later", retry_at=at(10))
        waiting = attrs.evolve(
            email, attempts=1, last_error="451 try again later", last_attempt_at=at(3), next_attempt_at=at(10)
        )
        assert account.outgoing_email("email-1") == waiting
        assert account.emails(EmailStatus.PENDING, limit=10) == [waiting]
        assert list(account.pending_emails(10)) == [waiting]  # without due_at: waiting or not
        assert list(account.pending_emails(10, due_at=at(9))) == []
        assert account.claim_email("email-1", at(9), at(19)) is None
        assert list(account.pending_emails(10, due_at=at(10))) == [waiting]
        assert account.claim_email("email-1", at(10), at(20)) == attrs.evolve(waiting, claimed_until=at(20))

    def test_due_emails_leave_out_those_claimed_past_then(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        _enqueue(
            account, _outgoing("email-1", conversation, at(1)), _outgoing("email-2", conversation, at(2))
        )
        account.claim_email("email-1", at(3), at(12))
        assert [email.id for email in account.pending_emails(10, due_at=at(11))] == ["email-2"]
        assert [email.id for email in account.pending_emails(10, due_at=at(12))] == ["email-1", "email-2"]
        assert [email.id for email in account.pending_emails(1, due_at=at(12))] == ["email-1"]

    def test_a_permanent_failure_is_final_and_kept_with_its_error(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        email = _outgoing("email-1", conversation, at(1))
        _enqueue(account, email, _outgoing("email-2", conversation, at(2)))
        account.email_failed("email-1", at(3), "451 try again later", retry_at=at(4))
        account.claim_email("email-1", at(4), at(14))
        account.email_failed("email-1", at(5), "550 5.1.1 no such user", retry_at=None)
        failed = attrs.evolve(
            email,
            attempts=2,
            last_error="550 5.1.1 no such user",
            last_attempt_at=at(5),
            next_attempt_at=None,
            failed_at=at(5),
        )
        assert account.outgoing_email("email-1") == failed
        assert failed.status is EmailStatus.FAILED
        assert not failed.is_sent
        assert _pending(account) == ["email-2"]
        assert [email.id for email in account.pending_emails(10, due_at=FAR_FUTURE)] == ["email-2"]
        assert account.claim_email("email-1", FAR_FUTURE, FAR_FUTURE) is None
        account.email_sent("email-1", at(6))
        account.email_failed("email-1", at(7), "451 try again later", retry_at=at(8))
        account.email_failed("email-1", at(7), "554 refused again", retry_at=None)
        assert account.outgoing_email("email-1") == failed
        assert account.emails(EmailStatus.FAILED, limit=10) == [failed]

    def test_emails_are_listed_by_status_in_outbox_order_and_paged(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        for email_id, minutes in [
            ("e-a", 30),
            ("e-b", 10),
            ("e-c", 20),
            ("e-d", 10),
            ("e-e", 40),
            ("e-f", 50),
        ]:
            _enqueue(account, _outgoing(email_id, conversation, at(minutes)))
        # the outbox's order: e-b, e-d, e-c, e-a, e-e, e-f
        account.email_sent("e-d", at(60))
        account.email_sent("e-a", at(61))
        account.email_failed("e-c", at(62), "550 no such user", retry_at=None)
        account.email_failed("e-e", at(63), "451 later", retry_at=at(90))

        def listed(status: EmailStatus, limit: int = 10, after: str | None = None) -> list[str]:
            emails = account.emails(status, limit=limit, after=after)
            assert all(email.status is status for email in emails)
            return [email.id for email in emails]

        assert listed(EmailStatus.PENDING) == ["e-b", "e-e", "e-f"]
        assert listed(EmailStatus.SENT) == ["e-d", "e-a"]
        assert listed(EmailStatus.FAILED) == ["e-c"]
        assert listed(EmailStatus.PENDING, limit=2) == ["e-b", "e-e"]
        assert listed(EmailStatus.PENDING, limit=2, after="e-e") == ["e-f"]
        assert listed(EmailStatus.SENT, after="e-d") == ["e-a"]
        assert listed(EmailStatus.SENT, after="e-c") == ["e-a"]  # after an email of another status
        assert listed(EmailStatus.FAILED, after="e-c") == []
        assert listed(EmailStatus.SENT, after="e-f") == []
        with pytest.raises(InvalidInput):
            account.emails(EmailStatus.SENT, limit=10, after="e-404")


# ---------------------------------------------------------------- racing actions through the facade


def _received(helpdesk: Helpdesk, contact: ContactId, inbox: InboxId, body: str, external_id: str) -> bool:
    try:
        helpdesk.receive(contact, inbox, body, external_id=external_id)
    except ConcurrencyConflict:
        return False
    return True


_ACTIONS: Final = (
    "assign",
    "unassign",
    "close",
    "receive",
    "mark_read",
    "mark_unread",
    "star",
    "unstar",
    "reply",
)


def _acted(
    helpdesk: Helpdesk, action: str, hot: tuple[ConversationId, ContactId, InboxId], user: UserId
) -> bool:
    """One of :data:`_ACTIONS` by ``user`` (the contact, for ``receive``) on a hot conversation: False if
    it kept conflicting."""
    conversation_id, contact, inbox = hot
    try:
        if action == "receive":
            helpdesk.receive(contact, inbox, "Any news?")
        elif action == "reply":
            helpdesk.reply(conversation_id, "Looking into it", by=user)
        elif action in ("assign", "unassign"):
            getattr(helpdesk, action)(conversation_id, user, by=user)
        else:
            getattr(helpdesk, action)(conversation_id, by=user)
    except ConcurrencyConflict:
        return False
    return True


def _whole_tab(helpdesk: Helpdesk, user: UserId, tab: Tab) -> list[Conversation]:
    """Everything ``user``'s ``tab`` lists, two conversations a page, following the cursors."""
    listed: list[Conversation] = []
    cursor: str | None = None
    for _ in range(100):
        page = helpdesk.tab(user, tab, cursor=cursor, limit=2)
        listed += page.conversations
        if page.next_cursor is None:
            return listed
        cursor = page.next_cursor
    raise AssertionError(f"{tab} of {user} still had a next page after 100 pages: its cursors go round")


class _Races(_Suite):
    """Threads racing on one store, each through a handle of its own."""

    def race(self, store: Store, threads: int, work: Callable[[int, Store], None]) -> float:
        """Run ``work(n, handle)`` on ``threads`` threads at once, each with its own handle onto ``store``
        (from :meth:`another_handle`, yielding to the other threads before each call); re-raise the first
        failure; return the seconds the race took."""
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads)

        def run(n: int) -> None:
            try:
                handle = cast(Store, _Yielding(self.another_handle(store)))
                barrier.wait(_RACE_TIMEOUT)
                work(n, handle)
            except BaseException as error:  # reported by the test's thread, below
                errors.append(error)
                barrier.abort()

        racers = [
            threading.Thread(target=run, args=(n,), name=f"conformance-racer-{n}", daemon=True)
            for n in range(threads)
        ]
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_INTERVAL)
        started = time.monotonic()
        try:
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join(max(0.0, started + _RACE_TIMEOUT - time.monotonic()))
        finally:
            sys.setswitchinterval(switch_interval)
        elapsed = time.monotonic() - started
        running = [racer.name for racer in racers if racer.is_alive()]
        if running:
            raise AssertionError(f"{running} still running after {_RACE_TIMEOUT} s: a deadlock or a livelock")
        if errors:
            raise errors[0]
        return elapsed


class ConcurrencyConformance(_Races):
    """Threads racing on one store, each through a handle of its own (:meth:`another_handle`), released at
    once with a short thread switch interval to force interleavings: every commit is atomic, every
    compare-and-set holds, every claim is handed to one worker. Each race is bounded: a thread that gives
    up, a deadlock or a livelock fails the test instead of hanging it."""

    # ------------------------------------------------------------ the store's own promises

    def test_racing_writers_of_one_conversation_lose_no_update(self, account: Store) -> None:
        writers, messages = 8, 25
        hot = _start(account, "hot", SUPPORT, at(0))
        clock = _TickingClock(at(1))

        def write(handle: Store, n: int, message: MessageId) -> bool:
            state = handle.conversation(hot.id)
            assert state is not None
            command = ReceiveMessage(hot.id, SUPPORT.id, hot.contact_id, message, f"From writer {n}")
            new, events = _decided(state, command, clock.now(), SUPPORT, SHARED)
            try:
                handle.commit(ChangeSet((_change(state, new, events),)))
            except ConcurrencyConflict:
                return False
            return True

        def work(n: int, handle: Store) -> None:
            for k in range(messages):
                _tried(f"writer {n}", functools.partial(write, handle, n, MessageId(f"hot-{n}-{k}")))

        self.race(account, writers, work)
        final = account.conversation(hot.id)
        events = account.events(hot.id)
        assert final is not None
        assert final.version == len(events) == hot.version + writers * messages
        assert replay(events) == final
        received = collections.Counter(
            event.message.id.value for event in events if isinstance(event, MessageReceived)
        )
        assert received == collections.Counter(
            [f"hot-{n}-{k}" for n in range(writers) for k in range(messages)] + ["hot-m-1"]
        )
        assert list(account.tab_page(Tab.ALL_OPEN, BEN, [SUPPORT.id], after=None, limit=10)) == [final]
        assert _counts(account, BEN)[Tab.ALL_OPEN] == TabCount(total=1, unread=1)

    def test_racing_rotation_turns_are_each_given_once(self, account: Store) -> None:
        workers, turns = 8, 25
        taken: list[list[int]] = [[] for _ in range(workers)]

        def take(handle: Store, n: int) -> bool:
            count = handle.rotations([ROUND_ROBIN])[ROUND_ROBIN]
            try:
                handle.commit(ChangeSet(rotations=(RotationTurns(ROUND_ROBIN, count, count + 1),)))
            except ConcurrencyConflict:
                return False
            taken[n].append(count)
            return True

        def work(n: int, handle: Store) -> None:
            for _ in range(turns):
                _tried(f"worker {n}", functools.partial(take, handle, n))

        self.race(account, workers, work)
        assert account.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: workers * turns}
        assert sorted(turn for each in taken for turn in each) == list(range(workers * turns))

    def test_racing_claims_hand_each_due_timer_to_one_worker(self, account: Store) -> None:
        workers, conversations = 6, 60
        for n in range(conversations):
            _start(account, f"c-{n:02}", SUPPORT, at(0), timers=[Timer(RuleId("remind"), at(n % 7))])
        claimed: list[list[DueTimer]] = [[] for _ in range(workers)]

        def work(n: int, handle: Store) -> None:
            for _ in range(_TRIES):
                found = handle.claim_due(at(60), limit=4, until=FAR_FUTURE)
                if not found:
                    return
                claimed[n] += found
            raise AssertionError(f"worker {n} claimed timers {_TRIES} times and there were still more")

        self.race(account, workers, work)
        counted = collections.Counter(timer for each in claimed for timer in each)
        assert set(counted.values()) == {1}, "a timer was handed to two workers"
        assert sorted(counted) == list(account.due(at(60), limit=1000))
        assert len(counted) == conversations

    def test_racing_claims_hand_each_email_to_one_worker(self, account: Store) -> None:
        workers, emails = 6, 100
        conversation = _start(account, "c-1", SUPPORT, at(0))
        for n in range(0, emails, 10):
            _enqueue(
                account, *[_outgoing(f"email-{m:03}", conversation, at(m % 9)) for m in range(n, n + 10)]
            )
        claimed: list[list[str]] = [[] for _ in range(workers)]

        def work(n: int, handle: Store) -> None:
            for email in handle.pending_emails(1000):
                if handle.claim_email(email.id, at(10), FAR_FUTURE) is not None:
                    claimed[n].append(email.id)

        self.race(account, workers, work)
        counted = collections.Counter(email_id for each in claimed for email_id in each)
        assert set(counted.values()) == {1}, "an email was handed to two workers"
        assert len(counted) == emails

    # ------------------------------------------------------------ what the application service builds on it

    def test_racing_first_messages_from_one_contact_make_one_conversation(self, store: Store) -> None:
        threads, messages = 8, 100
        desk = _desk(store, _TickingClock(T0))
        contact = desk.helpdesk.add_contact(name="Maria Lopez").id

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle)
            for m in range(n, messages, threads):
                receive = functools.partial(_received, helpdesk, contact, desk.support, f"Hi, {m}", f"SM{m}")
                _tried(f"message {m}", receive)

        self.race(store, threads, work)
        conversation_id = store.conversation_between(contact, desk.support)
        assert conversation_id is not None
        state = store.conversation(conversation_id)
        events = store.events(conversation_id)
        assert state is not None
        assert [type(event) for event in events].count(ConversationStarted) == 1
        received = collections.Counter(
            event.message.external_id for event in events if isinstance(event, MessageReceived)
        )
        assert received == collections.Counter(f"SM{m}" for m in range(messages))
        assert state.version == len(events)
        assert replay(events) == state
        everywhere = [desk.support, desk.sales]
        assert list(store.tab_page(Tab.ALL_OPEN, desk.ana, everywhere, after=None, limit=10)) == [state]
        assert desk.helpdesk.badges(desk.ana).all_open == TabCount(total=1, unread=1)

    def test_racing_redeliveries_of_one_message_record_it_once(self, store: Store) -> None:
        threads, deliveries = 8, 5
        desk = _desk(store, _TickingClock(T0))
        contact = desk.helpdesk.add_contact(name="Maria Lopez").id

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle)
            for _ in range(deliveries):
                _tried(
                    f"delivery by {n}",
                    functools.partial(_received, helpdesk, contact, desk.support, "Hi", "SM1"),
                )

        self.race(store, threads, work)
        conversation_id = store.conversation_between(contact, desk.support)
        assert conversation_id is not None
        events = store.events(conversation_id)
        assert [type(event) for event in events] == [ConversationStarted, MessageReceived]
        assert _ids(store.tab_page(Tab.ALL_OPEN, desk.ana, [desk.support], after=None, limit=10)) == [
            conversation_id.value
        ]

    def test_racing_sweeps_fire_each_timer_once(self, store: Store) -> None:
        sweepers, conversations, batch = 4, 60, 3
        clock = _FixedClock(T0)
        desk = _desk(store, clock)
        snoozed: list[tuple[ConversationId, ContactId]] = []
        for _ in range(conversations):
            contact = desk.helpdesk.add_contact(name="A contact").id
            conversation_id = desk.helpdesk.receive(contact, desk.support, "Hi").conversation.id
            desk.helpdesk.snooze(conversation_id, T0.add(hours=1), by=desk.ana)
            snoozed.append((conversation_id, contact))
        clock = _FixedClock(T0.add(minutes=90))
        late = attrs.evolve(desk, helpdesk=Helpdesk(store=store, clock=clock))
        now = T0.add(hours=2)
        writes = snoozed[::3]  # meanwhile, one contact in three writes, which wakes their conversation too
        sweeps: list[list[int]] = [[] for _ in range(sweepers)]

        def work(n: int, handle: Store) -> None:
            helpdesk = late.on(handle)
            if n == sweepers:
                for conversation_id, contact in writes:
                    write = functools.partial(
                        _received, helpdesk, contact, desk.support, "Still there?", f"w-{conversation_id}"
                    )
                    _tried(f"writing to {conversation_id}", write)
                return
            sweep = helpdesk.run_due(now, batch=batch)
            assert sweep.stuck == ()
            sweeps[n].append(len(sweep.acted))

        self.race(store, sweepers + 1, work)
        by_timer = 0
        for conversation_id, _ in snoozed:
            state = store.conversation(conversation_id)
            assert state is not None
            assert state.snoozed_until is None
            wakes = [event for event in store.events(conversation_id) if isinstance(event, Unsnoozed)]
            assert len(wakes) == 1, f"{conversation_id} woke {len(wakes)} times"
            assert wakes[0].actor in (Actor.rule(WAKE_WHEN_SNOOZE_ENDS), Actor.rule(WAKE_WHEN_CONTACT_WRITES))
            by_timer += wakes[0].actor == Actor.rule(WAKE_WHEN_SNOOZE_ENDS)
            assert replay(store.events(conversation_id)) == state
        assert by_timer >= conversations - len(writes)
        assert sum(sum(each) for each in sweeps) == by_timer
        assert list(store.due(now, limit=10)) == []
        assert list(store.due(FAR_FUTURE, limit=10)) == []

    def test_racing_deliveries_send_each_email_once(self, store: Store) -> None:
        workers, exports = 6, 300
        desk = _desk(store, _FixedClock(T0))
        conversations = [
            desk.helpdesk.receive(desk.helpdesk.add_contact(name=f"Contact {n}").id, desk.support, "Hi")
            for n in range(10)
        ]
        for n in range(exports):
            result = desk.helpdesk.export(conversations[n % 10].conversation.id, by=desk.ana)
            assert not result.delivered  # no mailer: it stays queued
        queued = {email.id: email.parsed()["Message-ID"] for email in store.pending_emails(1000)}
        assert len(queued) == exports
        mailer = _SharedMailer()

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle, mailer=mailer)
            for _ in range(_TRIES * 10):
                if not handle.pending_emails(1):
                    return
                delivery = helpdesk.deliver_pending(limit=25)
                assert delivery.failed == ()
                if not delivery.sent:
                    time.sleep(0.001)  # what is left is being sent by others
            raise AssertionError(f"worker {n} still found pending emails after {_TRIES * 10} rounds")

        self.race(store, workers, work)
        sent = collections.Counter(mailer.message_ids)
        assert set(sent.values()) == {1}, "an email was sent twice"
        assert set(sent) == set(queued.values())
        assert list(store.pending_emails(10)) == []
        for email_id in queued:
            email = _kept(store, email_id)
            assert email.is_sent
            assert email.attempts == 1

    def test_racing_deliveries_that_fail_now_and_then_send_each_email_once(self, store: Store) -> None:
        workers, exports = 4, 200
        clock = _SettableClock(T0)
        desk = _desk(store, clock)
        conversation = desk.helpdesk.receive(desk.helpdesk.add_contact(name="Omar").id, desk.support, "Hi")
        for _ in range(exports):
            desk.helpdesk.export(conversation.conversation.id, by=desk.ana)
        queued = {email.id: str(email.parsed()["Message-ID"]) for email in store.pending_emails(1000)}
        mailer = _SharedMailer(failing=0.3)

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle, mailer=mailer)
            while handle.pending_emails(1, due_at=clock.now()):
                helpdesk.deliver_pending(limit=10)

        for _ in range(_TRIES):
            self.race(store, workers, work)
            waiting = store.pending_emails(1000)
            if not waiting:
                break
            assert all(email.next_attempt_at is not None for email in waiting)
            clock.now_at = max(email.next_attempt_at or T0 for email in waiting)
        sent = collections.Counter(mailer.message_ids)
        assert set(sent.values()) == {1}, "an email was sent twice"
        assert set(sent) == set(queued.values())
        emails = [_kept(store, email_id) for email_id in queued]
        assert all(email.status is EmailStatus.SENT for email in emails)
        assert sum(email.attempts for email in emails) == mailer.attempts > exports

    def test_racing_first_messages_take_each_round_robin_turn_once(self, store: Store) -> None:
        threads, conversations = 6, 60
        desk = _desk(store, _TickingClock(T0))
        team = (desk.ana, desk.ben, desk.cara)
        rules = DEFAULT_RULES.with_rules(
            Rule(
                ROUND_ROBIN,
                OnEvent("ConversationStarted"),
                (Action.assign_round_robin([user.value for user in team]),),
            )
        )
        contacts = [desk.helpdesk.add_contact(name=f"Contact {n}").id for n in range(conversations)]

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle, rules=rules)
            for contact in contacts[n::threads]:
                _tried(
                    f"{contact} writing",
                    functools.partial(_received, helpdesk, contact, desk.support, "Hi", f"SM-{contact}"),
                )

        self.race(store, threads, work)
        assert store.rotations([ROUND_ROBIN]) == {ROUND_ROBIN: conversations}
        assignees: list[UserId] = []
        for contact in contacts:
            conversation_id = store.conversation_between(contact, desk.support)
            state = store.conversation(conversation_id) if conversation_id is not None else None
            assert state is not None
            assert len(state.assignees) == 1, state.assignees
            assignees += state.assignees
        assert collections.Counter(assignees) == {user: conversations // len(team) for user in team}
        for user in team:
            assert desk.helpdesk.badges(user).assigned_to_you.total == conversations // len(team)

    @pytest.mark.parametrize("read_model", list(ReadModel), ids=lambda model: model.value)
    def test_badges_match_listings_after_racing_actions(self, store: Store, read_model: ReadModel) -> None:
        threads, actions = 8, 30
        desk = _desk(store, _TickingClock(T0))
        desk.helpdesk.update_settings(by=desk.admin, read_model=read_model)
        members = {desk.support: (desk.ana, desk.ben, desk.cara), desk.sales: (desk.ana, desk.cara)}
        hot: list[tuple[ConversationId, ContactId, InboxId]] = []
        for inbox in (desk.support, desk.support, desk.sales):
            contact = desk.helpdesk.add_contact(name="A contact").id
            hot.append((desk.helpdesk.receive(contact, inbox, "Hi").conversation.id, contact, inbox))

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle)
            chance = random.Random(n)
            for _ in range(actions):
                conversation = chance.choice(hot)
                user = chance.choice(members[conversation[2]])
                action = chance.choice(_ACTIONS)
                _tried(f"{action} by {user}", functools.partial(_acted, helpdesk, action, conversation, user))

        self.race(store, threads, work)
        inboxes = {inbox_id: store.inbox(inbox_id) for inbox_id in members}
        states: dict[ConversationId, Conversation] = {}
        for conversation_id, _, _ in hot:
            state = store.conversation(conversation_id)
            assert state is not None
            assert replay(store.events(conversation_id)) == state
            states[conversation_id] = state
        for user in desk.users:
            badges = desk.helpdesk.badges(user)
            visible = [inbox_id for inbox_id, users in members.items() if user in users or user == desk.admin]
            for tab in Tab:
                listed = _whole_tab(desk.helpdesk, user, tab)
                ids = [conversation.id for conversation in listed]
                assert len(set(ids)) == len(ids), f"{tab} of {user} lists a conversation twice: {ids}"
                assert [states[conversation.id] for conversation in listed] == listed, "a stale state"
                assert [position_of(each) for each in listed] == sorted(position_of(each) for each in listed)
                should = {
                    conversation_id
                    for conversation_id, state in states.items()
                    if state.inbox_id in visible
                    and tab in tabs_of(state, _present(inboxes[state.inbox_id]), user)
                }
                assert set(ids) == should, (user, tab)
                unread = sum(conversation.is_unread_for(user) for conversation in listed)
                assert badges[tab] == TabCount(total=len(listed), unread=unread), (user, tab)
                if tab is Tab.ASSIGNED_TO_YOU:
                    assert all(user in each.assignees and each.is_open for each in listed)
            for inbox_id in members:
                assigned = {
                    cid
                    for cid, state in states.items()
                    if state.inbox_id == inbox_id and user in state.assignees
                }
                assert set(store.conversations_assigned_to(user, inbox_id)) == assigned

    # ------------------------------------------------------------ the directory

    def test_racing_first_users_make_one_admin(self, store: Store) -> None:
        threads = 8
        clock = _FixedClock(T0)
        added: list[User] = []
        refused: list[PermissionDenied] = []

        def work(n: int, handle: Store) -> None:
            helpdesk = Helpdesk(store=handle, clock=clock, attempts=_ATTEMPTS)
            try:
                added.append(helpdesk.add_user(f"Admin {n}", f"admin{n}@example.com", role=Role.ADMIN))
            except PermissionDenied as refusal:
                refused.append(refusal)

        self.race(store, threads, work)
        assert len(added) == 1
        assert len(refused) == threads - 1
        assert list(store.users()) == added
        assert store.directory_version() == 1

    def test_racing_users_with_one_email_are_added_once(self, store: Store) -> None:
        threads = 8
        desk = _desk(store, _FixedClock(T0))
        version = store.directory_version()
        added: list[User] = []
        refused: list[InvalidInput] = []

        def work(n: int, handle: Store) -> None:
            try:
                added.append(
                    desk.on(handle).add_user(f"User {n}", f"user{n // 2}@example.com", by=desk.admin)
                )
            except InvalidInput as refusal:
                refused.append(refusal)

        self.race(store, threads, work)
        assert sorted(user.email for user in added) == [f"user{n}@example.com" for n in range(threads // 2)]
        assert len(refused) == threads // 2
        assert len(store.users()) == len(desk.users) + threads // 2
        assert store.directory_version() == version + threads // 2


_BAD_PORT_CALLS: Final[tuple[tuple[str, Callable[[Store], object]], ...]] = (
    ("user() of text", lambda store: store.user(cast(Any, "ana"))),
    ("user_by_email() of None", lambda store: store.user_by_email(cast(Any, None))),
    ("inbox() of a user id", lambda store: store.inbox(cast(Any, ANA))),
    ("contact() of None", lambda store: store.contact(cast(Any, None))),
    ("conversation() of text", lambda store: store.conversation(cast(Any, "conv-1"))),
    ("conversation_between() of text", lambda store: store.conversation_between(cast(Any, "c"), SUPPORT.id)),
    ("events() of an int", lambda store: store.events(cast(Any, 1))),
    (
        "conversations_assigned_to() of text",
        lambda store: store.conversations_assigned_to(cast(Any, "a"), SUPPORT.id),
    ),
    ("rotations() of None", lambda store: store.rotations(cast(Any, None))),
    ("conversations_after() of text", lambda store: store.conversations_after(cast(Any, "c"), limit=10)),
    ("conversations_after() with limit 0", lambda store: store.conversations_after(None, limit=0)),
    ("conversation_emails() of text", lambda store: store.conversation_emails(cast(Any, "conv-1"))),
    ("conversation_emails() of ints", lambda store: store.conversation_emails(cast(Any, [1]))),
    ("commit() of an erasure of text", lambda store: store.commit(ChangeSet(erasure=cast(Any, "all")))),
    ("contact_by_phone() of None", lambda store: store.contact_by_phone(cast(Any, None))),
    ("contact_by_email() of an int", lambda store: store.contact_by_email(cast(Any, 1))),
    ("contact_conversations() of text", lambda store: store.contact_conversations(cast(Any, "maria"))),
    ("contact_totals() of None", lambda store: store.contact_totals(cast(Any, None))),
    ("contact_durations() of a user id", lambda store: store.contact_durations(cast(Any, ANA))),
    (
        "daily_totals() of the contact scope",
        lambda store: store.daily_totals(Scope.CONTACT, ["maria"], T0.date(), T0.date()),
    ),
    (
        "daily_totals() of one id as text",
        lambda store: store.daily_totals(Scope.INBOX, "support", T0.date(), T0.date()),
    ),
    (
        "daily_totals() of instants for days",
        lambda store: store.daily_totals(Scope.INBOX, ["support"], T0, cast(Any, T0)),
    ),
    (
        "daily_buckets() ending before it starts",
        lambda store: store.daily_buckets(Scope.INBOX, ["support"], T0.date(), T0.date() - timedelta(days=1)),
    ),
    (
        "daily_buckets() of text for a scope",
        lambda store: store.daily_buckets(cast(Any, "inbox"), ["support"], T0.date(), T0.date()),
    ),
    ("rotations() of text", lambda store: store.rotations(cast(Any, "rule"))),
    (
        "tab_page() of a tab given as text",
        lambda store: store.tab_page(cast(Any, "all_open"), ANA, {SUPPORT.id}, after=None, limit=10),
    ),
    (
        "tab_page() with limit 0",
        lambda store: store.tab_page(Tab.ALL_OPEN, ANA, {SUPPORT.id}, after=None, limit=0),
    ),
    (
        "tab_page() of inbox ids given as None",
        lambda store: store.tab_page(Tab.ALL_OPEN, ANA, cast(Any, None), after=None, limit=10),
    ),
    (
        "tab_page() after a cursor string",
        lambda store: store.tab_page(Tab.ALL_OPEN, ANA, {SUPPORT.id}, after=cast(Any, "1~c"), limit=10),
    ),
    ("tab_counts() of inbox ids of text", lambda store: store.tab_counts(ANA, cast(Any, ["support"]))),
    ("due() at a naive instant", lambda store: store.due(cast(Any, _NAIVE), limit=10)),
    ("due() at text", lambda store: store.due(cast(Any, "now"), limit=10)),
    ("due() with limit 0", lambda store: store.due(T0, limit=0)),
    (
        "claim_due() until a naive instant",
        lambda store: store.claim_due(T0, limit=10, until=cast(Any, _NAIVE)),
    ),
    ("claim_due() with a bool limit", lambda store: store.claim_due(T0, limit=cast(Any, True), until=T0)),
    ("release() of None", lambda store: store.release(cast(Any, None))),
    ("outgoing_email() of None", lambda store: store.outgoing_email(cast(Any, None))),
    ("pending_emails() with limit -1", lambda store: store.pending_emails(-1)),
    ("claim_email() at a naive instant", lambda store: store.claim_email("e", cast(Any, _NAIVE), T0)),
    ("email_sent() of an unknown email", lambda store: store.email_sent("email-404", T0)),
    (
        "email_failed() with no error text",
        lambda store: store.email_failed("email-404", T0, cast(Any, None), retry_at=T0),
    ),
    (
        "email_failed() to retry at a naive instant",
        lambda store: store.email_failed("email-404", T0, "451", retry_at=cast(Any, _NAIVE)),
    ),
    ("pending_emails() due at text", lambda store: store.pending_emails(10, due_at=cast(Any, "now"))),
    ("emails() of a status as text", lambda store: store.emails(cast(Any, "failed"), limit=10)),
    ("emails() with limit 0", lambda store: store.emails(EmailStatus.SENT, limit=0)),
    ("emails() after a number", lambda store: store.emails(EmailStatus.SENT, limit=10, after=cast(Any, 5))),
    (
        "emails() after an unknown email",
        lambda store: store.emails(EmailStatus.SENT, limit=10, after="e-404"),
    ),
    ("commit() of None", lambda store: store.commit(cast(Any, None))),
    ("commit() of a tuple", lambda store: store.commit(cast(Any, ((), None)))),
    (
        "commit() of a change set holding text where its changes go",
        lambda store: store.commit(ChangeSet(conversations=cast(Any, ("c-1",)))),
    ),
    ("commit() of a change set of no conversations", lambda store: store.commit(ChangeSet(cast(Any, None)))),
    (
        "commit() of a change set delivering text",
        lambda store: store.commit(ChangeSet(deliveries=cast(Any, ("SM1",)))),
    ),
    (
        "commit() of a change set enqueuing text",
        lambda store: store.commit(ChangeSet(emails=cast(Any, ("email-1",)))),
    ),
    (
        "commit() of a change set adding a contact as text",
        lambda store: store.commit(ChangeSet(contacts=cast(Any, ("maria",)))),
    ),
    (
        "commit() of a change set with a directory version as text",
        lambda store: store.commit(ChangeSet(directory_version=cast(Any, "1"))),
    ),
    ("commit() of a conversation change with a list of events", lambda store: store.commit(_listed_events())),
)


def _listed_events() -> ChangeSet:
    """A new conversation's change, as the suite makes it, but with its events in a list."""
    state, events = _decided(None, _first_message("c-listed", SUPPORT), at(1), SUPPORT, SHARED)
    return ChangeSet((_change(None, state, events)._replace(events=cast(Any, list(events))),))


class PortArgumentsConformance(_Suite):
    """Every port refuses a value of the wrong kind with :class:`~convostate.InvalidInput`, as the facade
    does, and changes nothing: a host that calls a store directly gets the same error from every adapter
    (convostate's own stores share the checks in ``convostate._ports.arguments``)."""

    @pytest.mark.parametrize(("what", "call"), _BAD_PORT_CALLS, ids=[what for what, _ in _BAD_PORT_CALLS])
    def test_a_bad_argument_is_refused_and_changes_nothing(
        self, account: Store, what: str, call: Callable[[Store], object]
    ) -> None:
        version, users = account.directory_version(), list(account.users())
        with pytest.raises(InvalidInput):
            call(account)
        assert (account.directory_version(), list(account.users())) == (version, users), what
        assert account.tab_counts(ANA, {SUPPORT.id})[Tab.ALL_OPEN] == TabCount(0, 0)
        assert list(account.pending_emails(10)) == []


_MARIA: Final = Contact(ContactId("maria"), "Maria Lopez", "+15555550199", "Maria.Lopez@Example.com")


def _contact_writes(
    store: Store, state: Conversation | None, name: str, inbox: Inbox, when: pendulum.DateTime
) -> Conversation:
    """Maria writes to ``inbox`` in conversation ``name`` (which starts if ``state`` is None)."""
    message = MessageId(f"{name}-in-{0 if state is None else state.version}")
    command = ReceiveMessage(ConversationId(name), inbox.id, _MARIA.id, message, "Hi")
    return _save(store, state, command, when)


def _marias_story(store: Store) -> tuple[Conversation, Conversation]:
    """Maria writes to Support at 0 and Ben answers at 10; she writes at 15 and 20, Ben answers at 50 and
    closes at 60. She writes to Sales at 1440 (the next day), which nobody answers. Both are in UTC."""
    _add_account(store)
    _add_contact(store, _MARIA)
    support = _contact_writes(store, None, "maria-support", SUPPORT, at(0))
    support = _assign(store, support, BEN, when=at(1))
    support = _reply(store, support, at(10))
    support = _contact_writes(store, support, "maria-support", SUPPORT, at(15))
    support = _contact_writes(store, support, "maria-support", SUPPORT, at(20))
    support = _reply(store, support, at(50))
    support = _save(store, support, Close(support.id, _by(BEN)), at(60))
    sales = _contact_writes(store, None, "maria-sales", SALES, at(1440))
    return support, sales


def _minutes(count: int) -> int:
    return count * 60_000_000


class AnalyticsConformance(_Races):
    """The :class:`~convostate.ports.Analytics` role and the contact lookups: a store adds up the facts of
    each commit (``ConversationChange.facts``) per contact, and per inbox and user by day, and finds a
    contact by its phone or email."""

    def test_a_contact_is_found_by_its_phone_or_by_its_email_in_any_case(self, store: Store) -> None:
        _add_contact(store, _MARIA)
        _add_contact(store, Contact(ContactId("nameless"), ""))
        _add_contact(store, Contact(ContactId("also-nameless"), ""))  # many contacts with neither

        assert store.contact_by_phone("+15555550199") == _MARIA
        assert store.contact_by_email("maria.lopez@example.com") == _MARIA
        assert store.contact_by_email("MARIA.LOPEZ@EXAMPLE.COM") == _MARIA
        assert store.contact_by_phone("+15555550100") is None
        assert store.contact_by_email("nobody@example.com") is None

    def test_a_contact_whose_phone_or_email_is_taken_is_refused_with_nothing_written(
        self, store: Store
    ) -> None:
        _add_contact(store, _MARIA)
        same_phone = Contact(ContactId("copy"), "Copy", phone=_MARIA.phone)
        same_email = Contact(ContactId("copy"), "Copy", email="maria.lopez@EXAMPLE.com")
        for contact in (same_phone, same_email):
            with pytest.raises(DuplicateContact) as refused:
                _add_contact(store, contact)
            assert refused.value.existing == _MARIA.id
            assert store.contact(ContactId("copy")) is None

    def test_a_contacts_conversations_are_listed_in_the_order_they_started(self, account: Store) -> None:
        _add_contact(account, _MARIA)
        later = _contact_writes(account, None, "a-later", SUPPORT, at(5))
        sooner = _contact_writes(account, None, "z-sooner", SALES, at(1))
        _start(account, "someone-else", SUPPORT, at(2))
        later = _contact_writes(account, later, "a-later", SUPPORT, at(6))

        assert list(account.contact_conversations(_MARIA.id)) == [sooner, later]
        assert list(account.contact_conversations(ContactId("unknown"))) == []

    def test_a_contacts_totals_count_its_facts_with_the_first_and_latest_instants(self, store: Store) -> None:
        _marias_story(store)

        totals = store.contact_totals(_MARIA.id)

        assert totals[Count.CONVERSATIONS] == ContactTotal(2, at(0), at(1440))
        assert totals[Count.MESSAGES_IN] == ContactTotal(4, at(0), at(1440))
        assert totals[Count.MESSAGES_OUT] == ContactTotal(2, at(10), at(50))
        assert totals[Count.CLOSED] == ContactTotal(1, at(60), at(60))
        assert totals[Count.OUTBOUND_ANSWERED] == ContactTotal(1, at(10), at(10))
        assert totals[Metric.FIRST_RESPONSE] == ContactTotal(1, at(10), at(10))
        assert totals[Metric.REPLY] == ContactTotal(2, at(10), at(50))
        assert totals[Metric.RESOLUTION] == ContactTotal(1, at(60), at(60))
        assert Count.REOPENED_BY_USER not in totals
        assert store.contact_totals(ContactId("unknown")) == {}

    def test_a_contacts_durations_are_kept_in_the_order_committed(self, store: Store) -> None:
        support, _ = _marias_story(store)

        assert list(store.contact_durations(_MARIA.id)) == [
            DurationSample(Metric.FIRST_RESPONSE, _minutes(10), support.id, at(10)),
            DurationSample(Metric.REPLY, _minutes(10), support.id, at(10)),
            DurationSample(Metric.REPLY, _minutes(35), support.id, at(50)),  # from 15, the oldest unanswered
            DurationSample(Metric.RESOLUTION, _minutes(60), support.id, at(60)),
        ]

    def test_day_totals_and_buckets_add_up_each_days_facts_per_inbox_and_per_user(self, store: Store) -> None:
        _marias_story(store)
        day_one, day_two = at(0).date(), at(1440).date()

        support = store.daily_totals(Scope.INBOX, [SUPPORT.id.value], day_one, day_two)
        assert sorted(support, key=repr) == sorted(
            [
                DailyTotal("support", day_one, Count.CONVERSATIONS, 1, 1),
                DailyTotal("support", day_one, Count.MESSAGES_IN, 3, 3),
                DailyTotal("support", day_one, Count.MESSAGES_OUT, 2, 2),
                DailyTotal("support", day_one, Count.OUTBOUND_ANSWERED, 1, 1),
                DailyTotal("support", day_one, Count.CLOSED, 1, 1),
                DailyTotal("support", day_one, Metric.FIRST_RESPONSE, 1, _minutes(10)),
                DailyTotal("support", day_one, Metric.REPLY, 2, _minutes(45)),
                DailyTotal("support", day_one, Metric.RESOLUTION, 1, _minutes(60)),
            ],
            key=repr,
        )
        ben = store.daily_totals(Scope.USER, ["ben"], day_one, day_two)
        assert sorted(ben, key=repr) == sorted(
            [
                DailyTotal("ben", day_one, Count.MESSAGES_OUT, 2, 2),
                DailyTotal("ben", day_one, Count.OUTBOUND_ANSWERED, 1, 1),
                DailyTotal("ben", day_one, Count.CLOSED, 1, 1),
                DailyTotal("ben", day_one, Metric.FIRST_RESPONSE, 1, _minutes(10)),
                DailyTotal("ben", day_one, Metric.REPLY, 2, _minutes(45)),
                DailyTotal("ben", day_one, Metric.RESOLUTION, 1, _minutes(60)),
            ],
            key=repr,
        )
        buckets = store.daily_buckets(Scope.USER, ["ben"], day_one, day_two)
        replies = [bucket for bucket in buckets if bucket.metric is Metric.REPLY]
        assert sorted(replies, key=repr) == sorted(
            [
                DailyBucket("ben", day_one, Metric.REPLY, bucket_of(_minutes(10)), 1, _minutes(10)),
                DailyBucket("ben", day_one, Metric.REPLY, bucket_of(_minutes(35)), 1, _minutes(35)),
            ],
            key=repr,
        )
        assert sorted(
            store.daily_totals(Scope.INBOX, [SALES.id.value], day_one, day_two), key=repr
        ) == sorted(
            [
                DailyTotal("sales", day_two, Count.CONVERSATIONS, 1, 1),
                DailyTotal("sales", day_two, Count.MESSAGES_IN, 1, 1),
            ],
            key=repr,
        )

    def test_a_day_range_includes_both_ends_and_nothing_outside(self, store: Store) -> None:
        _marias_story(store)
        day_one, day_two = at(0).date(), at(1440).date()
        both = [SUPPORT.id.value, SALES.id.value]

        assert {row.day for row in store.daily_totals(Scope.INBOX, both, day_two, day_two)} == {day_two}
        assert {row.day for row in store.daily_totals(Scope.INBOX, both, day_one, day_one)} == {day_one}
        assert {row.scope_id for row in store.daily_totals(Scope.INBOX, both, day_one, day_two)} == set(both)
        before = day_one - timedelta(days=30)
        assert list(store.daily_totals(Scope.INBOX, both, before, day_one - timedelta(days=1))) == []
        assert list(store.daily_buckets(Scope.INBOX, both, before, day_one - timedelta(days=1))) == []
        assert list(store.daily_totals(Scope.USER, ["nobody"], day_one, day_two)) == []
        assert list(store.daily_totals(Scope.INBOX, [], day_one, day_two)) == []

    def test_equal_durations_share_a_bucket_whose_total_is_their_sum(self, account: Store) -> None:
        for n in range(3):
            state = _start(account, f"quick-{n}", SUPPORT, at(n))
            _reply(account, state, at(n).add(seconds=90))

        buckets = [
            bucket
            for bucket in account.daily_buckets(Scope.INBOX, ["support"], at(0).date(), at(0).date())
            if bucket.metric is Metric.FIRST_RESPONSE
        ]
        assert buckets == [
            DailyBucket("support", at(0).date(), Metric.FIRST_RESPONSE, bucket_of(90_000_000), 3, 270_000_000)
        ]

    def test_racing_writers_lose_no_count(self, account: Store) -> None:
        writers, each = 6, 4

        def work(n: int, handle: Store) -> None:
            for k in range(each):
                name = f"racer-{n}-{k}"
                _add_contact(handle, Contact(ContactId(f"{name}-contact"), name))
                state = _save(handle, None, _first_message(name, SUPPORT), at(n))
                _reply(handle, state, at(n + 1))

        self.race(account, writers, work)

        totals = {
            row.kind: row
            for row in account.daily_totals(Scope.INBOX, ["support"], at(0).date(), at(0).date())
        }
        assert totals[Count.CONVERSATIONS].count == writers * each
        assert totals[Count.MESSAGES_OUT].count == writers * each
        assert totals[Metric.FIRST_RESPONSE] == DailyTotal(
            "support", at(0).date(), Metric.FIRST_RESPONSE, writers * each, writers * each * _minutes(1)
        )
        ben = account.daily_buckets(Scope.USER, ["ben"], at(0).date(), at(0).date())
        assert sum(bucket.count for bucket in ben if bucket.metric is Metric.REPLY) == writers * each


# ---------------------------------------------------------------- erasure and retention

_MARKS: Final = ("Quillon", "5550777", "quillon.mail", "Wrenfield", "Brackwater")
"""Strings found nowhere in a store but in the personal data of the contact the erasure tests erase."""


def _email_text(email: OutgoingEmail) -> str:
    """Everything an email says, its attachments decoded (a CSV is base64 in the stored bytes)."""
    parts = [email.message.decode("utf-8", "replace")]
    for part in email.parsed().walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


@attrs.frozen
class _ErasureStory:
    desk: _Desk
    contact: ContactId
    conversations: tuple[ConversationId, ...]
    bystander: ContactId


def _erasure_story(store: Store, clock: _TickingClock | _SettableClock) -> _ErasureStory:
    """A contact with marked personal data in every place it can be: its record, two conversations'
    message bodies (in and out), a sent export and a pending one; and a bystander who must keep theirs."""
    desk = _desk(store, clock)
    helpdesk = desk.helpdesk
    maria = helpdesk.add_contact(
        name="Maria Quillon", phone="+1 555 555 0777", email="quillon.mail@example.com", tags=["vip"]
    ).id
    bystander = helpdesk.add_contact(name="Ola Nordmann", phone="+15555550111").id
    support = helpdesk.receive(maria, desk.support, "My order to Wrenfield is late").conversation.id
    helpdesk.reply(support, "Sorry Maria, checking Wrenfield now", by=desk.ana)
    helpdesk.close(support, by=desk.ana)
    sales = helpdesk.receive(maria, desk.sales, "A quote for Brackwater please").conversation.id
    helpdesk.receive(bystander, desk.support, "Hello from Ola")
    desk.on(store, mailer=_SharedMailer()).export(support, by=desk.ana)  # sent at once
    helpdesk.export(sales, by=desk.ana)  # no mailer: stays pending
    return _ErasureStory(desk, maria, (support, sales), bystander)


class ErasureConformance(_Races):
    """Erasure of a contact and the retention sweep (``ChangeSet.erasure``): stored values rewritten in
    their erased form in one commit, refused whole when what the erasure read has moved on, no trace of the
    erased text left, and the analytics unchanged. A store states where it keeps its data by overriding
    :meth:`stored_text`, for the "no trace" test."""

    def stored_text(self, store: Store) -> str | None:
        """Everything ``store`` holds, as text, to search for erased values (None: the store cannot say,
        and the test of its raw storage is skipped). By default, a store's ``dump()`` if it has one."""
        dump = getattr(store, "dump", None)
        return repr(dump()) if callable(dump) else None

    def _traces(self, store: Store, story: _ErasureStory) -> list[str]:
        """The marks found in what the store holds: through its ports, and in its raw storage."""
        seen = [repr(store.contact(story.contact))]
        for conversation_id in story.conversations:
            seen.append(repr(store.events(conversation_id)))
            seen.append(repr(store.conversation(conversation_id)))
        seen.extend(_email_text(email) for email in store.conversation_emails(story.conversations))
        raw = self.stored_text(store)
        if raw is not None:
            seen.append(raw)
        text = "\n".join(seen)
        return [mark for mark in _MARKS if mark.casefold() in text.casefold()]

    def test_an_erased_contact_leaves_no_trace_and_the_figures_stay(self, store: Store) -> None:
        story = _erasure_story(store, _TickingClock(T0))
        helpdesk, admin = story.desk.helpdesk, story.desk.admin
        assert self._traces(store, story) == list(_MARKS)  # the test can see each mark before
        figures = helpdesk.contact_info(story.contact, by=admin)
        day = T0.date()
        report = helpdesk.report(by=admin, inbox_id=story.desk.support, first_day=day, last_day=day)
        histories = [len(helpdesk.history(each)) for each in story.conversations]
        bystander = store.contact(story.bystander)
        bystanders_events = store.events(
            cast(ConversationId, store.conversation_between(story.bystander, story.desk.support))
        )

        erasure = helpdesk.erase_contact(story.contact, by=admin)

        assert erasure.changed
        assert (erasure.conversations, erasure.messages, erasure.emails) == (2, 3, 2)
        assert self._traces(store, story) == []
        erased = store.contact(story.contact)
        assert erased == erasure.contact
        assert erased is not None
        assert (erased.name, erased.phone, erased.email, erased.tags) == (ERASED, None, None, frozenset())
        assert erased.erased_by == admin
        assert erased.erased_at is not None
        assert store.contact_by_phone("+15555550777") is None
        assert store.contact_by_email("quillon.mail@example.com") is None
        after = helpdesk.contact_info(story.contact, by=admin)
        assert after.figures == figures.figures
        assert attrs.evolve(after, contact=figures.contact) == figures
        assert helpdesk.report(by=admin, inbox_id=story.desk.support, first_day=day, last_day=day) == report
        assert [len(helpdesk.history(each)) for each in story.conversations] == histories
        for conversation_id in story.conversations:
            state = store.conversation(conversation_id)
            assert replay(store.events(conversation_id)) == state
            bodies = [
                event.message.body
                for event in store.events(conversation_id)
                if isinstance(event, MessageReceived | MessageSent)
            ]
            assert bodies
            assert set(bodies) == {ERASED}
        emails = store.conversation_emails(story.conversations)
        assert {email.message for email in emails} == {ERASED_EMAIL}
        assert sorted(email.status.value for email in emails) == [
            "failed",
            "sent",
        ]  # the pending one: never sent
        assert store.contact(story.bystander) == bystander
        assert (
            store.events(
                cast(ConversationId, store.conversation_between(story.bystander, story.desk.support))
            )
            == bystanders_events
        )

    def test_erasing_again_changes_nothing_until_the_contact_writes_again(self, store: Store) -> None:
        story = _erasure_story(store, _TickingClock(T0))
        helpdesk, admin = story.desk.helpdesk, story.desk.admin
        first = helpdesk.erase_contact(story.contact, by=admin)
        version = store.directory_version()

        again = helpdesk.erase_contact(story.contact, by=admin)

        assert not again.changed
        assert (again.messages, again.emails) == (0, 0)
        assert again.contact == first.contact
        assert store.directory_version() == version  # nothing committed
        helpdesk.receive(story.contact, story.desk.support, "Quillon again")  # came after: kept
        assert "Quillon" in repr(store.events(story.conversations[0]))
        third = helpdesk.erase_contact(story.contact, by=admin)
        assert third.changed
        assert third.messages == 1
        assert third.contact.erased_at == first.contact.erased_at  # the first erasure's instant
        assert self._traces(store, story) == []

    def test_only_an_admin_erases_a_known_contact_and_a_refusal_changes_nothing(self, store: Store) -> None:
        story = _erasure_story(store, _TickingClock(T0))
        helpdesk = story.desk.helpdesk
        before = (store.contact(story.contact), [store.events(each) for each in story.conversations])

        with pytest.raises(PermissionDenied):
            helpdesk.erase_contact(story.contact, by=story.desk.ana)
        with pytest.raises(UnknownContact):
            helpdesk.erase_contact(ContactId("nobody"), by=story.desk.admin)
        with pytest.raises(InvalidInput):
            helpdesk.erase_contact("maria", by=story.desk.admin)  # type: ignore[arg-type]

        assert (store.contact(story.contact), [store.events(each) for each in story.conversations]) == before

    def test_an_erasure_is_refused_whole_when_what_it_read_moved_on(self, store: Store) -> None:
        story = _erasure_story(store, _TickingClock(T0))
        support = story.conversations[0]
        state = store.conversation(support)
        assert state is not None
        contact = store.contact(story.contact)
        assert contact is not None
        events = store.events(support)
        rewritten = tuple(
            RewrittenEvent(support, version, tombstoned)
            for version, event in enumerate(events, start=1)
            if (tombstoned := erased_event(event)) is not None
        )
        erased = erased_contact(contact, at=T0, by=story.desk.admin)
        sales = store.conversation(story.conversations[1])
        assert sales is not None
        both = ((support, state.version), (sales.id, sales.version))  # all of Maria's conversations
        stale = Erasure(erased, ((support, state.version - 1), both[1]), rewritten)
        unknown_event = Erasure(erased, both, (RewrittenEvent(support, 99, rewritten[0].event),))
        unread = Erasure(None, (), rewritten)
        elsewhere = Erasure(erased, both[:1], rewritten)  # not all of Maria's conversations
        emails = store.conversation_emails([support])
        missing_email = Erasure(erased, both, rewritten, (), (support,))
        assert emails  # so leaving them out is a change the store must see
        # Rewrites that no store can keep, made by hand, last: a store must refuse them before it writes any.
        last = rewritten[-1]
        naive = attrs.evolve(last.event, at=cast(pendulum.DateTime, _NAIVE))
        unstorable = [
            Erasure(erased, both, (*rewritten[:-1], RewrittenEvent(support, last.version, spoiled)))
            for spoiled in (naive, _message_of_no_text(last.event))
        ]
        as_float = RewrittenEvent(support, cast(int, float(last.version)), last.event)
        unstorable.append(Erasure(erased, both, (*rewritten[:-1], as_float)))  # indexes nothing, once erased
        unstorable.append(  # events given once, as an iterator: read by the check, nothing left to rewrite
            Erasure(erased, both, cast(Any, iter(rewritten)))
        )

        for refused, error in (
            (stale, ConcurrencyConflict),
            (elsewhere, ConcurrencyConflict),
            (missing_email, ConcurrencyConflict),
            (unknown_event, InvalidInput),
            (unread, InvalidInput),
            (Erasure(Contact(ContactId("nobody"), ERASED)), InvalidInput),
            *((each, InvalidInput) for each in unstorable),
        ):
            with pytest.raises(error):
                store.commit(ChangeSet(erasure=refused))
            assert store.contact(story.contact) == contact
            assert store.events(support) == events
            assert store.conversation_emails([support]) == emails

        store.commit(ChangeSet(erasure=Erasure(erased, both, rewritten)))
        assert store.contact(story.contact) == erased
        assert store.conversation(support) == state  # a rewrite moves no version
        assert [erased_event(event) for event in store.events(support)] == [None] * len(events)

    def test_an_erasure_racing_with_messages_and_exports_leaves_no_half_state(self, store: Store) -> None:
        """A contact writes to two inboxes (its first message to each starts a conversation) from three
        threads, one of which also exports, while an admin erases it."""
        writers, messages = 3, 12
        desk = _desk(store, _TickingClock(T0))
        neo = desk.helpdesk.add_contact(name="Neo Quillon", phone="+15555550777").id
        erased: list[ContactErasure] = []

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle)
            if n == writers:  # the admin: erases once the race is under way
                while sum(each.version for each in handle.contact_conversations(neo)) < 3:
                    time.sleep(0.001)
                erased.append(helpdesk.erase_contact(neo, by=desk.admin))
                return
            inbox = (desk.support, desk.sales)[n % 2]
            for k in range(messages):
                body = f"Quillon race {n}-{k}"
                _tried(
                    f"message {n}-{k}",
                    functools.partial(_received, helpdesk, neo, inbox, body, f"r{n}-{k}"),
                )
                if n == 0 and k % 4 == 1:  # (exports racing each other wait on PostgreSQL's deadlock check)
                    conversation = handle.conversation_between(neo, inbox)
                    assert conversation is not None
                    _tried(f"export {n}-{k}", functools.partial(_exported, helpdesk, conversation, desk.ana))

        self.race(store, writers + 1, work)

        erased_at = erased[0].contact.erased_at
        assert erased_at is not None
        conversations = [each.id for each in store.contact_conversations(neo)]
        assert len(conversations) == 2
        bodies = 0
        for conversation in conversations:
            for event in store.events(conversation):
                if isinstance(event, MessageReceived | MessageSent):
                    bodies += 1
                    # Erased if and only if it was stored before the erasure: never a body half-kept.
                    assert (event.message.body == ERASED) == (event.at < erased_at), event
        assert bodies == writers * messages
        emails = store.conversation_emails(conversations)
        assert len(emails) == 3
        for email in emails:
            assert (email.message == ERASED_EMAIL) == (email.created_at < erased_at), email

    def test_conversations_are_walked_in_byte_order_a_batch_at_a_time(self, account: Store) -> None:
        names = ["b", "a", "z", "\u00e9t\u00e9", "B", "a-1"]  # byte order: B, a, a-1, b, z, été
        for n, name in enumerate(names):
            _start(account, name, SUPPORT, at(n))

        def walk(after: str | None, limit: int) -> list[str]:
            start = None if after is None else ConversationId(after)
            return [each.id.value for each in account.conversations_after(start, limit=limit)]

        assert walk(None, 4) == ["B", "a", "a-1", "b"]
        assert walk("b", 4) == ["z", "\u00e9t\u00e9"]
        assert walk("a", 1) == ["a-1"]
        assert walk("\u00e9t\u00e9", 10) == []
        assert walk("c", 10) == ["z", "\u00e9t\u00e9"]  # after any text, stored or not
        assert account.conversations_after(None, limit=10)[0] == account.conversation(ConversationId("B"))

    # ------------------------------------------------------------ retention

    def _retention_story(self, store: Store) -> tuple[_ErasureStory, _SettableClock]:
        clock = _SettableClock(T0)
        story = _erasure_story(store, clock)
        clock.now_at = T0.add(days=20)
        story.desk.helpdesk.receive(story.contact, story.desk.sales, "Quillon, twenty days on")
        story.desk.helpdesk.update_settings(
            by=story.desk.admin,
            retention=RetentionPolicy(
                message_bodies_after=CalendarDuration(days=30),
                closed_conversations_after=CalendarDuration(days=7),
            ),
        )
        return story, clock

    def _check_retained(self, store: Store, story: _ErasureStory) -> None:
        support, sales = story.conversations
        support_bodies = {
            e.message.body for e in store.events(support) if isinstance(e, MessageReceived | MessageSent)
        }
        assert support_bodies == {ERASED}  # closed for more than 7 days: reduced to counts and times
        sales_bodies = [
            e.message.body for e in store.events(sales) if isinstance(e, MessageReceived | MessageSent)
        ]
        assert sales_bodies == [ERASED, "Quillon, twenty days on"]  # open: only bodies past 30 days
        emails = {email.conversation_id: email for email in store.conversation_emails(story.conversations)}
        assert emails[support].message == ERASED_EMAIL
        assert emails[sales].message != ERASED_EMAIL  # an open conversation's export stays
        contact = store.contact(story.contact)
        assert contact is not None
        assert contact.erased_at is None
        for conversation_id in story.conversations:
            assert replay(store.events(conversation_id)) == store.conversation(conversation_id)

    def test_retention_erases_old_bodies_and_closed_conversations_text_and_keeps_the_figures(
        self, store: Store
    ) -> None:
        story, _ = self._retention_story(store)
        helpdesk, admin = story.desk.helpdesk, story.desk.admin
        figures = helpdesk.contact_info(story.contact, by=admin)
        day = T0.date()
        report = helpdesk.report(by=admin, inbox_id=story.desk.support, first_day=day, last_day=day)

        early = helpdesk.apply_retention(T0.add(days=6))
        assert (early.messages, early.emails, early.next_after) == (0, 0, None)
        sweep = helpdesk.apply_retention(T0.add(days=31))

        # Support's two bodies (closed for over 7 days), the first of sales and the bystander's (over 30
        # days old), and support's export.
        assert (sweep.conversations, sweep.erased_conversations, sweep.messages, sweep.emails) == (3, 3, 4, 1)
        self._check_retained(store, story)
        assert helpdesk.contact_info(story.contact, by=admin) == figures
        assert helpdesk.report(by=admin, inbox_id=story.desk.support, first_day=day, last_day=day) == report
        assert helpdesk.apply_retention(T0.add(days=31)).messages == 0  # once is enough

    def test_retention_walks_the_account_in_batches(self, store: Store) -> None:
        story, _ = self._retention_story(store)
        helpdesk = story.desk.helpdesk
        read, erased, after = 0, 0, None
        for _ in range(10):
            sweep = helpdesk.apply_retention(T0.add(days=31), batch=1, after=after)
            assert sweep.conversations <= 1
            read, erased, after = read + sweep.conversations, erased + sweep.messages, sweep.next_after
            if after is None:
                break
        assert (read, erased, after) == (3, 4, None)
        self._check_retained(store, story)

    def test_retention_without_a_policy_erases_nothing(self, store: Store) -> None:
        story = _erasure_story(store, _TickingClock(T0))
        assert self._traces(store, story) == list(_MARKS)
        sweep = story.desk.helpdesk.apply_retention(FAR_FUTURE)
        assert (sweep.conversations, sweep.messages, sweep.emails) == (3, 0, 0)
        assert self._traces(store, story) == list(_MARKS)

    def test_racing_retention_workers_erase_each_body_once(self, store: Store) -> None:
        workers = 4
        story, clock = self._retention_story(store)
        desk = story.desk
        sweeps: list[RetentionSweep] = []
        lock = threading.Lock()

        def work(n: int, handle: Store) -> None:
            helpdesk = desk.on(handle)
            after = None
            while True:
                sweep = helpdesk.apply_retention(T0.add(days=31), batch=1, after=after)
                with lock:
                    sweeps.append(sweep)
                after = sweep.next_after
                if after is None:
                    return

        self.race(store, workers, work)

        assert sum(sweep.messages for sweep in sweeps) == 4
        assert sum(sweep.emails for sweep in sweeps) == 1
        self._check_retained(store, story)
        assert clock.now_at == T0.add(days=20)


def _exported(helpdesk: Helpdesk, conversation_id: ConversationId, by: UserId) -> bool:
    try:
        helpdesk.export(conversation_id, by=by)
    except ConcurrencyConflict:
        return False
    return True


class StoreConformance(
    ErasureConformance,
    PortArgumentsConformance,
    AnalyticsConformance,
    DirectoryConformance,
    ConversationLogConformance,
    ViewsConformance,
    TimerQueueConformance,
    OutboxConformance,
    ConcurrencyConformance,
):
    """Every promise of the :class:`~convostate.Store` protocol: every role's suite, and the races.

    Subclass it in a test module (its name must start with ``Test`` for pytest to collect it) and implement
    :meth:`make_store`; override :meth:`another_handle` for a store that threads should reach through
    connections of their own.
    """

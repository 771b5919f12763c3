"""A conformance suite that any :class:`convostate.Store` runs against itself.

This module needs the ``test`` extra (``pip install "convostate[test]"``), which brings pytest; the rest of
convostate never imports it. A store adapter's test file subclasses :class:`StoreConformance` and says how
to make a new, empty store::

    from convostate import Store
    from convostate.testing import StoreConformance


    class TestMyStore(StoreConformance):
        def make_store(self) -> Store:
            return MyStore(connect_to_a_fresh_database())

Every ``test_*`` method then runs against that store, each on a store of its own. The suite uses only the
methods of the :class:`~convostate.Store` protocol, so it holds any implementation to the same promises the
memory store keeps: the directory (users, inboxes, contacts, settings), conversations appended atomically
with their events under optimistic concurrency, external message ids delivered once per inbox, the tab
pages and counts that listings and badges are built from, and the timers and rotations of rules.
Conversation states are made the way the application service makes them, by putting commands through the
core's ``decide`` and ``evolve``.

To clean up after each test (drop a database, close a connection), override the ``store`` fixture with a
``yield`` fixture that calls ``make_store()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from typing import Final

import attrs
import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    Assign,
    CalendarDuration,
    Close,
    Command,
    ConcurrencyConflict,
    Contact,
    ContactId,
    Conversation,
    ConversationId,
    DecisionContext,
    DueTimer,
    DuplicateDelivery,
    Event,
    Inbox,
    InboxId,
    InvalidInput,
    MarkRead,
    MessageId,
    OutgoingEmail,
    Position,
    ReadModel,
    ReceiveMessage,
    Role,
    RuleId,
    SendReply,
    Star,
    Store,
    Tab,
    TabCount,
    Timer,
    Unassign,
    User,
    UserId,
    decide,
    evolve,
)

__all__ = ["StoreConformance", "position_of"]

# ---------------------------------------------------------------- the account the tests use

ANA: Final = UserId("ana")
BEN: Final = UserId("ben")
CARA: Final = UserId("cara")

SUPPORT: Final = Inbox.multi_user(InboxId("support"), "Support", frozenset({ANA, BEN}))
"""A multi-user inbox of ana and ben."""
SALES: Final = Inbox.multi_user(InboxId("sales"), "Sales", frozenset({ANA, CARA}))
"""A multi-user inbox of ana and cara."""
ANA_LINE: Final = Inbox.single_user(InboxId("ana-line"), "Ana's line", ANA)
"""A single-user inbox: ana is the participant of each of its conversations."""

_INBOXES: Final = {inbox.id: inbox for inbox in (SUPPORT, SALES, ANA_LINE)}
_USERS: Final = (
    User(ANA, "Ana Lima", "ana@example.com", Role.ADMIN),
    User(BEN, "Ben Okafor", "ben@example.com"),
    User(CARA, "Cara Novak", "cara@example.com"),
)

T0: Final = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
SHARED: Final = AccountSettings()
PER_USER: Final = AccountSettings(read_model=ReadModel.PER_USER)


def at(minutes: int) -> pendulum.DateTime:
    """``minutes`` after a Monday morning in March 2026."""
    return T0.add(minutes=minutes)


def position_of(conversation: Conversation) -> Position:
    """Where ``conversation`` sits in its tabs, as the application service's cursors say it.

    ``newest_first`` is minus its last activity in microseconds since the epoch, so that positions sort in
    the order tabs list conversations: newest activity first, ties by id.
    """
    return Position.of(conversation)


def _add_account(store: Store) -> None:
    for user in _USERS:
        store.add_user(user)
    for inbox in _INBOXES.values():
        store.save_inbox(inbox)


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
        raise AssertionError(f"{command!r} changed nothing; the suite only appends changes")
    return new_state, events


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
) -> Conversation:
    """Decide ``command`` on ``state`` as the service does, append the result, and return the new state."""
    inbox = _INBOXES[state.inbox_id if state is not None else _inbox_of(command)]
    new_state, events = _decided(state, command, when, inbox, settings)
    expected = state.version if state is not None else 0
    store.append(new_state, events, expected_version=expected, external_id=external_id)
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
) -> Conversation:
    """Conversation ``name``: its own contact's first message to ``inbox`` at ``when`` (open, unread)."""
    command = _first_message(name, inbox)
    if store.contact(command.contact_id) is None:
        store.add_contact(Contact(command.contact_id, f"Contact of {name}"))
    return _save(store, None, command, when, settings=settings, external_id=external_id)


def _by(user: UserId = ANA) -> Actor:
    return Actor.user(user)


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


def _ids(conversations: Iterable[Conversation]) -> list[str]:
    return [conversation.id.value for conversation in conversations]


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


def _kept(store: Store, email_id: str) -> OutgoingEmail:
    email = store.outgoing_email(email_id)
    if email is None:
        raise AssertionError(f"the store lost email {email_id}")
    return email


def _pending(store: Store, limit: int = 100) -> list[str]:
    return [email.id for email in store.pending_emails(limit)]


def _snapshot(store: Store, conversation_ids: Sequence[ConversationId]) -> list[object]:
    """The states and events of these conversations, to prove that a refusal changed nothing."""
    return [(store.conversation(cid), tuple(store.events(cid))) for cid in conversation_ids]


class StoreConformance:
    """The promises of the :class:`~convostate.Store` protocol, as tests any store runs against itself.

    Subclass it in a test module (its name must start with ``Test`` for pytest to collect it) and implement
    :meth:`make_store`.
    """

    def make_store(self) -> Store:
        """A new, empty store. Subclasses must implement this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_store() to return an empty Store"
        )

    @pytest.fixture
    def store(self) -> Store:
        """A new, empty store for each test."""
        return self.make_store()

    @pytest.fixture
    def account(self, store: Store) -> Store:
        """A store holding the account the conversation tests use: three users and three inboxes."""
        _add_account(store)
        return store

    # ------------------------------------------------------------ the directory

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert list(store.users()) == []
        assert list(store.inboxes()) == []
        assert store.user(ANA) is None
        assert store.inbox(SUPPORT.id) is None
        assert store.contact(ContactId("maria")) is None
        assert store.conversation(ConversationId("c-1")) is None

    def test_an_added_user_is_found_by_id(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com", Role.ADMIN)
        store.add_user(ana)
        assert store.user(ANA) == ana

    def test_an_unknown_user_id_finds_nobody(self, store: Store) -> None:
        store.add_user(User(ANA, "Ana Lima", "ana@example.com"))
        assert store.user(BEN) is None

    def test_a_user_is_found_by_email_in_any_case(self, store: Store) -> None:
        ben = User(BEN, "Ben Okafor", "Ben.Okafor@Example.com")
        store.add_user(ben)
        assert store.user_by_email("ben.okafor@example.com") == ben
        assert store.user_by_email("BEN.OKAFOR@EXAMPLE.COM") == ben

    def test_an_unknown_email_finds_nobody(self, store: Store) -> None:
        store.add_user(User(ANA, "Ana Lima", "ana@example.com"))
        assert store.user_by_email("ben@example.com") is None

    def test_users_lists_every_user_added(self, store: Store) -> None:
        for user in _USERS:
            store.add_user(user)
        assert sorted(store.users(), key=lambda user: user.id.value) == list(_USERS)

    def test_a_taken_user_id_is_refused_and_nothing_changes(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com")
        store.add_user(ana)
        with pytest.raises(InvalidInput):
            store.add_user(User(ANA, "Another Ana", "another@example.com"))
        assert store.user(ANA) == ana
        assert store.user_by_email("another@example.com") is None
        assert list(store.users()) == [ana]

    def test_a_taken_email_in_another_case_is_refused_and_nothing_changes(self, store: Store) -> None:
        ana = User(ANA, "Ana Lima", "ana@example.com")
        store.add_user(ana)
        with pytest.raises(InvalidInput):
            store.add_user(User(BEN, "Ben Okafor", "ANA@Example.COM"))
        assert store.user(BEN) is None
        assert store.user_by_email("ana@example.com") == ana
        assert list(store.users()) == [ana]

    def test_a_saved_inbox_is_found_by_id(self, store: Store) -> None:
        store.save_inbox(SUPPORT)
        assert store.inbox(SUPPORT.id) == SUPPORT
        assert store.inbox(SALES.id) is None

    def test_saving_an_inbox_again_updates_it(self, store: Store) -> None:
        store.save_inbox(SUPPORT)
        grown = attrs.evolve(SUPPORT, members=SUPPORT.members | {CARA})
        store.save_inbox(grown)
        assert store.inbox(SUPPORT.id) == grown
        assert list(store.inboxes()) == [grown]

    def test_inboxes_lists_every_saved_inbox(self, store: Store) -> None:
        for inbox in (SUPPORT, SALES, ANA_LINE):
            store.save_inbox(inbox)
        listed = sorted(store.inboxes(), key=lambda inbox: inbox.id.value)
        assert listed == [ANA_LINE, SALES, SUPPORT]

    def test_an_added_contact_is_found_by_id(self, store: Store) -> None:
        maria = Contact(ContactId("maria"), "Maria Lopez", phone="+15551234567")
        store.add_contact(maria)
        assert store.contact(maria.id) == maria
        assert store.contact(ContactId("omar")) is None

    def test_settings_default_to_the_account_defaults(self, store: Store) -> None:
        assert store.settings() == AccountSettings()

    def test_saved_settings_are_returned(self, store: Store) -> None:
        settings = AccountSettings(
            timezone="America/New_York",
            reopen_window=CalendarDuration(days=3),
            read_model=ReadModel.PER_USER,
            exports_enabled=False,
        )
        store.save_settings(settings)
        assert store.settings() == settings

    # ------------------------------------------------------------ appending conversations

    def test_a_new_conversation_is_appended_at_expected_version_zero(self, account: Store) -> None:
        command = _first_message("c-1", SUPPORT, contact=ContactId("maria"))
        account.add_contact(Contact(ContactId("maria"), "Maria"))
        state, events = _decided(None, command, at(0), SUPPORT, SHARED)
        account.append(state, events, expected_version=0)
        assert account.conversation(state.id) == state

    def test_the_events_of_an_append_are_read_back_in_order(self, account: Store) -> None:
        account.add_contact(Contact(ContactId("maria"), "Maria"))
        state, events = _decided(
            None, _first_message("c-1", SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED
        )
        account.append(state, events, expected_version=0)
        assert tuple(account.events(state.id)) == events

    def test_a_new_conversation_is_found_between_its_contact_and_inbox(self, account: Store) -> None:
        state = _start(account, "c-1", SUPPORT, at(0))
        assert account.conversation_between(state.contact_id, SUPPORT.id) == state.id
        assert account.conversation_between(state.contact_id, SALES.id) is None
        assert account.conversation_between(ContactId("nobody"), SUPPORT.id) is None

    def test_a_later_append_adds_its_events_after_the_earlier_ones(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        first = tuple(account.events(started.id))
        closed, closing = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        account.append(closed, closing, expected_version=started.version)
        assert tuple(account.events(started.id)) == first + closing
        assert account.conversation(started.id) == closed

    def test_an_unknown_conversation_has_no_state_and_no_events(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0))
        assert account.conversation(ConversationId("c-2")) is None
        assert tuple(account.events(ConversationId("c-2"))) == ()

    def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        _close(account, started, at(1))  # someone else saved first
        before = _snapshot(account, [started.id])
        assigned, events = _decided(started, Assign(started.id, BEN, _by()), at(2), SUPPORT, SHARED)
        with pytest.raises(ConcurrencyConflict):
            account.append(assigned, events, expected_version=started.version)
        assert _snapshot(account, [started.id]) == before

    def test_expecting_a_version_a_conversation_does_not_have_yet_is_a_conflict(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        before = _snapshot(account, [started.id])
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        ahead = attrs.evolve(closed, version=closed.version + 5)
        with pytest.raises(ConcurrencyConflict):
            account.append(ahead, events, expected_version=started.version + 5)
        assert _snapshot(account, [started.id]) == before

    def test_a_second_new_conversation_between_a_contact_and_an_inbox_is_a_conflict(
        self, account: Store
    ) -> None:
        winner = _start(account, "c-1", SUPPORT, at(0))
        rival = _first_message("c-2", SUPPORT, contact=winner.contact_id)
        state, events = _decided(None, rival, at(1), SUPPORT, SHARED)
        before = _snapshot(account, [winner.id, state.id])
        with pytest.raises(ConcurrencyConflict):
            account.append(state, events, expected_version=0)
        assert _snapshot(account, [winner.id, state.id]) == before
        assert account.conversation_between(winner.contact_id, SUPPORT.id) == winner.id

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
        with pytest.raises(ConcurrencyConflict):
            account.append(state, events, expected_version=0)
        assert account.conversation_between(first.contact_id, SUPPORT.id) == newer.id
        assert account.conversation(state.id) is None

    def test_the_same_contact_may_start_a_conversation_in_another_inbox(self, account: Store) -> None:
        in_support = _start(account, "c-1", SUPPORT, at(0))
        command = _first_message("c-2", SALES, contact=in_support.contact_id)
        in_sales = _save(account, None, command, at(1))
        assert account.conversation_between(in_support.contact_id, SALES.id) == in_sales.id
        assert account.conversation_between(in_support.contact_id, SUPPORT.id) == in_support.id

    def test_a_version_that_does_not_follow_expected_plus_events_is_invalid(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        before = _snapshot(account, [started.id])
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        skipped = attrs.evolve(closed, version=closed.version + 1)
        with pytest.raises(InvalidInput):
            account.append(skipped, events, expected_version=started.version)
        assert _snapshot(account, [started.id]) == before

    def test_a_new_conversation_whose_version_is_not_its_event_count_is_invalid(self, account: Store) -> None:
        account.add_contact(Contact(ContactId("maria"), "Maria"))
        state, events = _decided(
            None, _first_message("c-1", SUPPORT, contact=ContactId("maria")), at(0), SUPPORT, SHARED
        )
        with pytest.raises(InvalidInput):
            account.append(state, events[:1], expected_version=0)
        assert account.conversation(state.id) is None
        assert account.conversation_between(ContactId("maria"), SUPPORT.id) is None

    def test_a_redelivered_external_id_is_a_duplicate_and_stores_nothing(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        before = _snapshot(account, [started.id])
        again = ReceiveMessage(started.id, SUPPORT.id, started.contact_id, MessageId("m-2"), "Hi", "SM1")
        state, events = _decided(started, again, at(1), SUPPORT, SHARED)
        with pytest.raises(DuplicateDelivery) as refused:
            account.append(state, events, expected_version=started.version, external_id="SM1")
        assert refused.value.conversation_id == started.id
        assert _snapshot(account, [started.id]) == before

    def test_a_redelivered_first_message_does_not_start_a_second_conversation(self, account: Store) -> None:
        first = _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        command = _first_message("c-2", SUPPORT)
        account.add_contact(Contact(command.contact_id, "Omar"))
        state, events = _decided(None, command, at(1), SUPPORT, SHARED)
        with pytest.raises(DuplicateDelivery) as refused:
            account.append(state, events, expected_version=0, external_id="SM1")
        assert refused.value.conversation_id == first.id
        assert account.conversation(state.id) is None
        assert account.conversation_between(command.contact_id, SUPPORT.id) is None
        assert account.conversation(first.id) == first

    def test_the_same_external_id_in_another_inbox_is_delivered(self, account: Store) -> None:
        _start(account, "c-1", SUPPORT, at(0), external_id="SM1")
        in_sales = _start(account, "c-2", SALES, at(1), external_id="SM1")
        assert account.conversation(in_sales.id) == in_sales

    def test_a_refused_append_does_not_use_up_its_external_id(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        closed = _close(account, started, at(1))
        late = ReceiveMessage(started.id, SUPPORT.id, started.contact_id, MessageId("m-2"), "Hi", "SM2")
        stale, events = _decided(started, late, at(2), SUPPORT, SHARED)
        with pytest.raises(ConcurrencyConflict):
            account.append(stale, events, expected_version=started.version, external_id="SM2")
        fresh = _save(account, closed, late, at(3), external_id="SM2")
        assert account.conversation(started.id) == fresh

    # ------------------------------------------------------------ tab pages

    def test_a_tab_lists_newest_activity_first(self, account: Store) -> None:
        for minute, name in enumerate(["c-1", "c-2", "c-3"]):
            _start(account, name, SUPPORT, at(minute))
        assert _listed(account, Tab.ALL_OPEN, BEN) == ["c-3", "c-2", "c-1"]

    def test_a_page_gives_each_conversations_current_state(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        assigned = _assign(account, started, BEN, when=at(1))
        assert list(account.tab_page(Tab.ALL_OPEN, BEN, [SUPPORT.id], after=None, limit=10)) == [assigned]

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

    # ------------------------------------------------------------ timers of time rules

    def test_a_timer_appended_with_a_conversation_is_due_from_its_time_on(self, account: Store) -> None:
        reminder = RuleId("remind")
        started = _start(account, "c-1", SUPPORT, at(0))
        account.append(started, (), expected_version=started.version, timers=[Timer(reminder, at(60))])
        assert list(account.due(at(59), limit=10)) == []
        assert list(account.due(at(60), limit=10)) == [DueTimer(at(60), started.id, reminder)]
        assert list(account.due(at(61), limit=10)) == [DueTimer(at(60), started.id, reminder)]

    def test_an_append_with_no_events_changes_only_the_timers(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        events = tuple(account.events(started.id))
        account.append(started, (), expected_version=started.version, timers=[Timer(RuleId("remind"), at(5))])
        assert account.conversation(started.id) == started
        assert tuple(account.events(started.id)) == events
        assert len(account.due(at(5), limit=10)) == 1

    def test_an_append_replaces_the_conversations_timers(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        first, second = RuleId("first"), RuleId("second")
        account.append(started, (), expected_version=started.version, timers=[Timer(first, at(5))])
        closed, events = _decided(started, Close(started.id, _by()), at(1), SUPPORT, SHARED)
        account.append(closed, events, expected_version=started.version, timers=[Timer(second, at(7))])
        assert list(account.due(at(10), limit=10)) == [DueTimer(at(7), started.id, second)]
        _save(account, closed, Assign(closed.id, BEN, _by()), at(2))  # no timers: none left
        assert list(account.due(at(10), limit=10)) == []

    def test_a_refused_append_keeps_the_timers_it_had(self, account: Store) -> None:
        started = _start(account, "c-1", SUPPORT, at(0))
        kept = Timer(RuleId("remind"), at(5))
        account.append(started, (), expected_version=started.version, timers=[kept])
        with pytest.raises(ConcurrencyConflict):
            account.append(started, (), expected_version=started.version + 1, timers=[])
        assert list(account.due(at(5), limit=10)) == [DueTimer(at(5), started.id, kept.rule_id)]

    def test_due_timers_are_listed_oldest_first_and_paged_after_the_last_one(self, account: Store) -> None:
        rule = RuleId("remind")
        for n, minutes in enumerate([30, 10, 20]):
            state = _start(account, f"c-{n}", SUPPORT, at(n))
            account.append(state, (), expected_version=state.version, timers=[Timer(rule, at(minutes))])
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
            timers = [Timer(rule, at(30)) for rule in rules]
            account.append(state, (), expected_version=state.version, timers=timers)
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

    def test_rotations_start_at_zero_and_are_saved_with_the_state_one_rule_at_a_time(
        self, account: Store
    ) -> None:
        first, second = RuleId("round-robin"), RuleId("another")
        assert account.rotation(first) == 0
        state = _start(account, "c-1", SUPPORT, at(0))
        account.append(state, (), expected_version=state.version, rotations={first: 3})
        assert account.rotation(first) == 3
        assert account.rotation(second) == 0

    def test_a_refused_append_records_no_turn_of_a_rotation(self, account: Store) -> None:
        rule = RuleId("round-robin")
        state = _start(account, "c-1", SUPPORT, at(0))
        with pytest.raises(ConcurrencyConflict):
            account.append(state, (), expected_version=state.version + 1, rotations={rule: 1})
        assert account.rotation(rule) == 0

    # ------------------------------------------------------------ the outbox

    def test_a_new_store_has_no_emails(self, store: Store) -> None:
        assert list(store.pending_emails(10)) == []
        assert store.outgoing_email("email-1") is None

    def test_an_enqueued_email_is_kept_whole_and_pending(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        account.enqueue_email(email)
        kept = account.outgoing_email("email-1")
        assert kept == email
        assert kept.message == email.message
        assert kept.parsed()["Message-ID"] == "<email-1.convostate@example.com>"
        assert list(account.pending_emails(10)) == [email]

    def test_pending_emails_are_listed_oldest_first_up_to_the_limit(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        for email_id, minutes in [("e-a", 30), ("e-b", 10), ("e-c", 20), ("e-d", 10)]:
            account.enqueue_email(_outgoing(email_id, conversation, at(minutes)))
        assert _pending(account) == ["e-b", "e-d", "e-c", "e-a"]  # e-b and e-d: in the order enqueued
        assert _pending(account, limit=2) == ["e-b", "e-d"]

    def test_an_email_id_is_enqueued_once_even_after_it_was_sent(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        first = _outgoing("email-1", conversation, at(1))
        account.enqueue_email(first)
        with pytest.raises(InvalidInput):
            account.enqueue_email(_outgoing("email-1", conversation, at(2)))
        assert account.outgoing_email("email-1") == first
        assert list(account.pending_emails(10)) == [first]
        account.email_sent("email-1", at(3))
        with pytest.raises(InvalidInput):
            account.enqueue_email(first)
        assert _pending(account) == []

    def test_a_sent_email_leaves_the_pending_emails_for_good(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        account.enqueue_email(email := _outgoing("email-1", conversation, at(1)))
        account.enqueue_email(_outgoing("email-2", conversation, at(2)))
        account.email_sent("email-1", at(5))
        sent = account.outgoing_email("email-1")
        assert sent == attrs.evolve(email, attempts=1, last_attempt_at=at(5), sent_at=at(5))
        assert sent.is_sent
        assert _pending(account) == ["email-2"]
        account.email_failed("email-1", at(6), "a late failure from a worker whose claim had ended")
        account.email_sent("email-1", at(7))
        assert account.claim_email("email-1", at(8), at(18)) is None
        assert account.outgoing_email("email-1") == sent
        assert _pending(account) == ["email-2"]

    def test_a_failed_email_stays_pending_with_its_attempts_and_last_error(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        account.enqueue_email(email)
        account.email_failed("email-1", at(2), "ConnectionRefusedError: no mail server")
        account.email_failed("email-1", at(3), "TimeoutError: timed out")
        failed = attrs.evolve(email, attempts=2, last_error="TimeoutError: timed out", last_attempt_at=at(3))
        assert account.outgoing_email("email-1") == failed
        assert list(account.pending_emails(10)) == [failed]
        account.email_sent("email-1", at(4))
        assert account.outgoing_email("email-1") == attrs.evolve(
            failed, attempts=3, last_attempt_at=at(4), sent_at=at(4)
        )
        assert _pending(account) == []

    def test_a_claimed_email_is_not_claimed_again_until_the_claim_ends(self, account: Store) -> None:
        email = _outgoing("email-1", _start(account, "c-1", SUPPORT, at(0)), at(1))
        account.enqueue_email(email)
        assert account.claim_email("email-1", at(2), at(12)) == attrs.evolve(email, claimed_until=at(12))
        assert account.claim_email("email-1", at(5), at(15)) is None
        assert _pending(account) == ["email-1"]  # claimed, and still pending until it is sent
        assert account.claim_email("email-1", at(12), at(22)) == attrs.evolve(email, claimed_until=at(22))

    def test_an_attempt_releases_the_claim(self, account: Store) -> None:
        conversation = _start(account, "c-1", SUPPORT, at(0))
        account.enqueue_email(_outgoing("email-1", conversation, at(1)))
        account.claim_email("email-1", at(2), at(12))
        account.email_failed("email-1", at(3), "TimeoutError: timed out")
        assert _kept(account, "email-1").claimed_until is None
        assert account.claim_email("email-1", at(4), at(14)) is not None
        account.email_sent("email-1", at(5))
        assert _kept(account, "email-1").claimed_until is None

    def test_an_unknown_email_cannot_be_claimed_or_marked(self, account: Store) -> None:
        assert account.claim_email("email-1", at(0), at(10)) is None
        with pytest.raises(InvalidInput):
            account.email_sent("email-1", at(0))
        with pytest.raises(InvalidInput):
            account.email_failed("email-1", at(0), "TimeoutError: timed out")
        assert account.outgoing_email("email-1") is None
        assert _pending(account) == []

"""The conformance suite of the :class:`~convostate.ports.Accounts` role: many accounts in one store.

A store that holds many accounts (the memory store, the SQL store) runs :class:`AccountsConformance`
against itself, as it runs :class:`~convostate.testing.conformance.StoreConformance`::

    class TestMyStoreAccounts(AccountsConformance):
        def make_store(self) -> Store:
            return MyStore(connect_to_a_fresh_database())

It proves the boundary from both sides: two accounts holding the very same ids keep apart; every read of
every port, and every method of the facade, given another account's ids finds nothing or is refused, and
changes nothing there; and the sweeps across accounts are fair and hand each timer and email to one worker.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any, Final, cast

import attrs
import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    Availability,
    ContactId,
    ConversationId,
    ConvostateError,
    EmailStatus,
    Helpdesk,
    InboxId,
    InvalidInput,
    Role,
    RuleId,
    Store,
    Tab,
    Unsnoozed,
    UserId,
)
from convostate.analytics import Scope
from convostate.core import DecisionContext, Star, decide, evolve, tab_changes
from convostate.ports import AccountStore, ChangeSet, ConversationChange, DueTimer
from convostate.testing import SequentialIds
from convostate.testing.conformance import _ATTEMPTS, _Races, _SettableClock, _SharedMailer

_START: Final = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
_LATER: Final = _START.add(days=2)
_MARCH: Final = (date(2026, 3, 1), date(2026, 3, 31))


@attrs.frozen
class _Account:
    """One account's helpdesk, filled through the facade, and the ids in it."""

    helpdesk: Helpdesk
    admin: UserId
    agent: UserId
    inbox: InboxId
    contact: ContactId
    conversation: ConversationId

    @property
    def store(self) -> AccountStore:
        return cast(AccountStore, self.helpdesk.store)


def _filled(
    store: AccountStore, clock: _SettableClock, *, ids: Any = None, phone: str = "+15555550100"
) -> _Account:
    """An admin, an agent, an inbox, a contact, a conversation assigned, snoozed (a timer due at
    ``_LATER``) and exported (an email in the outbox), and account settings of its own."""
    desk = Helpdesk(store=store, clock=clock, ids=ids or SequentialIds(), attempts=_ATTEMPTS)
    admin = desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    agent = desk.add_user("Ana Lima", "ana@example.com", by=admin).id
    inbox = desk.add_inbox("Support", members=[agent], by=admin).id
    contact = desk.add_contact(name="Maria", phone=phone, email="maria@example.com").id
    conversation = desk.receive(
        contact, inbox, "My order never arrived", external_id="wamid.1"
    ).conversation.id
    desk.assign(conversation, agent, by=agent)
    desk.reply(conversation, "On its way", by=agent)
    desk.star(conversation, by=agent)
    desk.snooze(conversation, _LATER, by=agent)
    desk.export(conversation, by=agent)
    desk.update_settings(by=admin, exports_enabled=False)
    return _Account(desk, admin, agent, inbox, contact, conversation)


def _seen(account: _Account) -> dict[str, Any]:
    """Everything the account's store and facade show of it: what another account's calls must not move."""
    store, desk = account.store, account.helpdesk
    return {
        "users": list(store.users()),
        "inboxes": list(store.inboxes()),
        "settings": store.settings(),
        "directory_version": store.directory_version(),
        "contact": store.contact(account.contact),
        "conversation": store.conversation(account.conversation),
        "events": list(store.events(account.conversation)),
        "due": list(store.due(_LATER, limit=100)),
        "emails": list(store.pending_emails(100)),
        "badges": desk.badges(account.agent),
        "tab": desk.tab(account.agent, Tab.ASSIGNED_TO_YOU),
        "totals": dict(store.contact_totals(account.contact)),
        "samples": sorted(map(repr, store.contact_durations(account.contact))),
        "report": sorted(map(repr, store.daily_totals(Scope.INBOX, [account.inbox.value], *_MARCH))),
    }


class AccountsConformance(_Races):
    """Many accounts in one store (the :class:`~convostate.ports.Accounts` role): kept apart whatever their
    ids, no call reaching across, and sweeps across accounts that are fair and safe from several workers."""

    def accounts(self, store: Store) -> AccountStore:
        if not callable(getattr(store, "for_account", None)):
            pytest.fail(f"{type(store).__name__} does not play the Accounts role (for_account)")
        return cast(AccountStore, store)

    # ------------------------------------------------------------------ apart

    def test_two_accounts_hold_the_same_ids_apart(self, store: Store) -> None:
        clock = _SettableClock(_START)
        acme = _filled(self.accounts(store).for_account("acme"), clock)
        globex = _filled(self.accounts(store).for_account("globex"), clock)
        assert (acme.conversation, acme.contact, acme.agent) == (
            globex.conversation,
            globex.contact,
            globex.agent,
        )
        before = _seen(globex)
        acme.helpdesk.close(acme.conversation, by=acme.agent)
        acme.helpdesk.update_settings(by=acme.admin, exports_enabled=True)
        acme.helpdesk.add_user("Ben Okafor", "ben@example.com", by=acme.admin)
        acme.helpdesk.erase_contact(acme.contact, by=acme.admin)  # the same id, the same phone in globex
        assert acme.helpdesk.conversation(acme.conversation).is_open is False
        assert _seen(globex) == before
        assert globex.helpdesk.conversation(globex.conversation).is_open
        assert globex.helpdesk.account == "globex"
        assert acme.store.for_account("globex").conversation(globex.conversation) == (
            globex.store.conversation(globex.conversation)
        )

    def test_the_same_phone_and_message_id_in_two_accounts(self, store: Store) -> None:
        clock = _SettableClock(_START)
        acme = _filled(self.accounts(store).for_account("acme"), clock)
        globex = _filled(self.accounts(store).for_account("globex"), clock)
        # One phone number is a contact in each account; one provider message id is delivered to each.
        assert acme.helpdesk.find_contact(phone="+15555550100") is not None
        assert globex.helpdesk.find_contact(phone="+15555550100") is not None
        outcome = globex.helpdesk.receive(globex.contact, globex.inbox, "again", external_id="wamid.2")
        assert outcome.changed
        redelivered = acme.helpdesk.receive(acme.contact, acme.inbox, "again", external_id="wamid.2")
        assert redelivered.changed  # a first delivery in acme, whatever globex got
        assert len(acme.store.events(acme.conversation)) == len(globex.store.events(globex.conversation))

    # ------------------------------------------------------------------ no call reaches across

    def test_no_port_read_reaches_another_account(self, store: Store) -> None:
        clock = _SettableClock(_START)
        acme = _filled(self.accounts(store).for_account("acme"), clock, ids=_Prefixed("acme"))
        other = self.accounts(store).for_account("globex")
        email = acme.store.pending_emails(1)[0]
        assert other.user(acme.agent) is None
        assert other.user_by_email("ana@example.com") is None
        assert other.users() == []
        assert other.inboxes() == []
        assert other.inbox(acme.inbox) is None
        assert other.contact(acme.contact) is None
        assert other.contact_by_phone("+15555550100") is None
        assert other.contact_by_email("maria@example.com") is None
        assert other.settings() == AccountSettings()
        assert other.directory_version() == 0
        assert other.conversation(acme.conversation) is None
        assert other.conversation_between(acme.contact, acme.inbox) is None
        assert list(other.events(acme.conversation)) == []
        assert list(other.conversations_assigned_to(acme.agent, acme.inbox)) == []
        assert set(other.rotations([RuleId("round-robin")]).values()) <= {0}
        assert list(other.tab_page(Tab.ALL_OPEN, acme.agent, [acme.inbox], after=None, limit=10)) == []
        assert all(count.total == 0 for count in other.tab_counts(acme.agent, [acme.inbox]).values())
        assert list(other.due(_LATER, limit=10)) == []
        assert list(other.claim_due(_LATER, limit=10, until=_LATER.add(minutes=1))) == []
        assert list(other.pending_emails(10)) == []
        assert all(list(other.emails(status, limit=10)) == [] for status in EmailStatus)
        assert other.outgoing_email(email.id) is None
        assert other.claim_email(email.id, _START, _START.add(minutes=1)) is None
        assert list(other.contact_conversations(acme.contact)) == []
        assert dict(other.contact_totals(acme.contact)) == {}
        assert list(other.contact_durations(acme.contact)) == []
        days = (date(2026, 3, 1), date(2026, 3, 31))
        assert list(other.daily_totals(Scope.INBOX, [acme.inbox.value], *days)) == []
        assert list(other.daily_buckets(Scope.USER, [acme.agent.value], *days)) == []

    def test_no_port_write_reaches_another_account(self, store: Store) -> None:
        clock = _SettableClock(_START)
        acme = _filled(self.accounts(store).for_account("acme"), clock, ids=_Prefixed("acme"))
        other = self.accounts(store).for_account("globex")
        before = _seen(acme)
        email = acme.store.pending_emails(1)[0]
        timer = acme.store.due(_LATER, limit=1)[0]
        with pytest.raises(InvalidInput, match="no email"):
            other.email_sent(email.id, _START)
        with pytest.raises(InvalidInput, match="no email"):
            other.email_failed(email.id, _START, "refused", retry_at=None)
        other.release([DueTimer(timer.due_at, timer.conversation_id, timer.rule_id)])
        state = acme.store.conversation(acme.conversation)
        inbox = acme.store.inbox(acme.inbox)
        assert state is not None
        assert inbox is not None
        command = Star(state.id, acme.admin, Actor.user(acme.admin))
        events = decide(state, command, DecisionContext(_START, acme.store.settings(), inbox=inbox))
        starred = functools.reduce(evolve, events, state)
        change = ConversationChange(starred, events, state.version, (), tab_changes(state, starred, inbox))
        with pytest.raises(ConvostateError):  # globex holds no such conversation at that version
            other.commit(ChangeSet(conversations=(change,)))
        assert _seen(acme) == before
        assert acme.store.outgoing_email(email.id) == email

    def test_no_facade_call_reaches_another_account(self, store: Store) -> None:
        clock = _SettableClock(_START)
        acme = _filled(self.accounts(store).for_account("acme"), clock, ids=_Prefixed("acme"))
        globex = Helpdesk(
            store=self.accounts(store).for_account("globex"), clock=clock, ids=_Prefixed("globex")
        )
        admin = globex.add_user("Gia Admin", "gia@example.com", role=Role.ADMIN).id
        before = _seen(acme)
        conversation, contact, inbox, agent = acme.conversation, acme.contact, acme.inbox, acme.agent
        calls: dict[str, Callable[[], object]] = {
            "user": lambda: globex.user(agent),
            "inbox": lambda: globex.inbox(inbox),
            "contact": lambda: globex.contact(contact),
            "conversation": lambda: globex.conversation(conversation),
            "set_availability": lambda: globex.set_availability(agent, Availability.AWAY),
            "add_member": lambda: globex.add_member(inbox, agent, by=admin),
            "remove_member": lambda: globex.remove_member(inbox, agent, by=admin),
            "set_business_hours": lambda: globex.set_business_hours(inbox, None, by=admin),
            "contact_info": lambda: globex.contact_info(contact, by=admin),
            "report (inbox)": lambda: globex.report(
                by=admin, inbox_id=inbox, first_day=date(2026, 3, 1), last_day=date(2026, 3, 2)
            ),
            "report (user)": lambda: globex.report(
                by=admin, user_id=agent, first_day=date(2026, 3, 1), last_day=date(2026, 3, 2)
            ),
            "receive": lambda: globex.receive(contact, inbox, "hello"),
            "reply": lambda: globex.reply(conversation, "hi", by=admin),
            "assign": lambda: globex.assign(conversation, admin, by=admin),
            "unassign": lambda: globex.unassign(conversation, agent, by=admin),
            "close": lambda: globex.close(conversation, by=admin),
            "reopen": lambda: globex.reopen(conversation, by=admin),
            "snooze": lambda: globex.snooze(conversation, _LATER, by=admin),
            "unsnooze": lambda: globex.unsnooze(conversation, by=admin),
            "star": lambda: globex.star(conversation, by=admin),
            "unstar": lambda: globex.unstar(conversation, by=admin),
            "mark_read": lambda: globex.mark_read(conversation, by=admin),
            "mark_unread": lambda: globex.mark_unread(conversation, by=admin),
            "participants": lambda: globex.participants(conversation),
            "tab": lambda: globex.tab(agent, Tab.ALL_OPEN),
            "badges": lambda: globex.badges(agent),
            "history": lambda: globex.history(conversation),
            "explain": lambda: globex.explain(conversation),
            "export": lambda: globex.export(conversation, by=admin),
            "erase_contact": lambda: globex.erase_contact(contact, by=admin),
            "update_settings (as acme's admin)": lambda: globex.update_settings(
                by=acme.admin, exports_enabled=True
            ),
        }
        for name, call in calls.items():
            try:
                call()
            except ConvostateError:
                continue
            pytest.fail(f"globex's {name} reached acme's data")
        assert globex.find_contact(phone="+15555550100") is None
        assert globex.search_users("Ana") == []
        assert globex.due(_LATER) == []
        assert globex.run_due(_LATER).acted == ()
        assert globex.emails() == ()
        assert _seen(acme) == before

    # ------------------------------------------------------------------ opening

    def test_opening_an_account_twice_gives_the_same_data(self, store: Store) -> None:
        clock = _SettableClock(_START)
        shared = self.accounts(store)
        acme = _filled(shared.for_account("acme"), clock)
        again = shared.for_account("globex").for_account("acme")
        assert again.account == "acme"
        assert again.conversation(acme.conversation) == acme.store.conversation(acme.conversation)
        assert shared.for_account(shared.account).account == shared.account

    @pytest.mark.parametrize("name", ["", 7, None, b"acme"])
    def test_an_account_must_be_named(self, store: Store, name: object) -> None:
        with pytest.raises(InvalidInput):
            self.accounts(store).for_account(name)  # type: ignore[arg-type]

    def test_the_sweeps_refuse_bad_arguments(self, store: Store) -> None:
        desk = Helpdesk(store=store, clock=_SettableClock(_START))
        shared = self.accounts(store)
        for call in (
            lambda: shared.accounts_due(_START.naive(), limit=10),
            lambda: shared.accounts_due(_START, limit=0),
            lambda: shared.accounts_with_mail(_START, limit=-1),
            lambda: desk.run_due_everywhere(batch=0),
            lambda: desk.run_due_everywhere(accounts=0),
            lambda: desk.run_due_everywhere(_START.naive()),
            lambda: desk.for_account("acme", rules=cast(Any, "strict")),
        ):
            with pytest.raises(InvalidInput):
                call()

    # ------------------------------------------------------------------ sweeps across accounts

    def test_a_pass_serves_every_account_and_the_busy_one_its_share(self, store: Store) -> None:
        clock = _SettableClock(_START)
        shared = self.accounts(store)
        busy = _filled(shared.for_account("busy"), clock)
        for n in range(2, 12):  # ten more snoozed conversations: eleven timers due at _LATER
            contact = busy.helpdesk.add_contact(phone=f"+1555555{n:04d}").id
            opened = busy.helpdesk.receive(contact, busy.inbox, "hello").conversation.id
            busy.helpdesk.snooze(opened, _LATER, by=busy.agent)
        quiet = [_filled(shared.for_account(f"quiet-{n}"), clock) for n in range(3)]
        clock.now_at = _LATER
        desk = busy.helpdesk
        assert shared.accounts_due(_LATER, limit=10) == ["busy", "quiet-0", "quiet-1", "quiet-2"]
        first = desk.run_due_everywhere(batch=4)
        assert {account: len(sweep.acted) for account, sweep in first.items()} == {
            "busy": 4,
            "quiet-0": 1,
            "quiet-1": 1,
            "quiet-2": 1,
        }
        assert shared.accounts_due(_LATER, limit=10) == ["busy"]
        assert len(desk.run_due_everywhere(batch=4)["busy"].acted) == 4
        assert len(desk.run_due_everywhere(batch=4)["busy"].acted) == 3
        assert desk.run_due_everywhere(batch=4) == {}
        for account in (busy, *quiet):
            assert account.helpdesk.due(_LATER) == []
        assert desk.run_due_everywhere(batch=4, accounts=1) == {}

    def test_workers_sweeping_every_account_fire_each_timer_once(self, store: Store) -> None:
        clock = _SettableClock(_START)
        shared = self.accounts(store)
        names = [f"account-{n}" for n in range(4)]
        filled = [_filled(shared.for_account(name), clock) for name in names]
        for account in filled:
            for n in range(2, 5):
                contact = account.helpdesk.add_contact(phone=f"+1555555{n:04d}").id
                opened = account.helpdesk.receive(contact, account.inbox, "hi").conversation.id
                account.helpdesk.snooze(opened, _LATER, by=account.agent)
        clock.now_at = _LATER

        def sweep(_: int, handle: Store) -> None:
            desk = Helpdesk(store=handle, clock=clock, attempts=_ATTEMPTS)
            while desk.run_due_everywhere(batch=2, accounts=2):
                pass

        self.race(store, 4, sweep)
        for account in filled:
            woken: Counter[ConversationId] = Counter()
            for conversation in _conversations(account):
                events = account.store.events(conversation)
                woken[conversation] = sum(isinstance(event, Unsnoozed) for event in events)
            assert set(woken.values()) == {1}, woken
            assert account.helpdesk.due(_LATER) == []

    def test_workers_deliver_every_accounts_mail_once(self, store: Store) -> None:
        clock = _SettableClock(_START)
        shared = self.accounts(store)
        filled = [_filled(shared.for_account(f"account-{n}"), clock) for n in range(4)]
        for account in filled:
            account.helpdesk.update_settings(by=account.admin, exports_enabled=True)
            account.helpdesk.export(account.conversation, by=account.admin)
        assert len(shared.accounts_with_mail(_START, limit=10)) == 4
        mailer = _SharedMailer()

        def deliver(_: int, handle: Store) -> None:
            desk = Helpdesk(store=handle, clock=clock, mailer=mailer, attempts=_ATTEMPTS)
            while desk.deliver_pending_everywhere(limit=1, accounts=3):
                pass

        self.race(store, 4, deliver)
        assert len(mailer.message_ids) == 8
        assert len(set(mailer.message_ids)) == 8
        for account in filled:
            assert account.helpdesk.emails(EmailStatus.PENDING) == ()
            assert len(account.helpdesk.emails(EmailStatus.SENT)) == 2
        assert shared.accounts_with_mail(_START, limit=10) == []

    def test_a_store_of_one_account_says_so(self, store: Store) -> None:
        class OneAccount:
            def __init__(self, inner: Store) -> None:
                self._inner = inner

            def __getattr__(self, name: str) -> Any:
                if name in {"for_account", "accounts_due", "accounts_with_mail"}:
                    raise AttributeError(name)
                return getattr(self._inner, name)

        desk = Helpdesk(store=cast(Store, OneAccount(store)), clock=_SettableClock(_START))
        with pytest.raises(InvalidInput, match="holds one account"):
            desk.for_account("acme")
        with pytest.raises(InvalidInput, match="holds one account"):
            desk.run_due_everywhere()


class _Prefixed:
    """Ids unique to one account (``acme-conversation-1``), so that another account cannot hold them."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._ids = SequentialIds()

    def new_id(self, kind: str) -> str:
        return f"{self._prefix}-{self._ids.new_id(kind)}"


def _conversations(account: _Account) -> list[ConversationId]:
    found = []
    for contact in range(1, 5):
        conversation = account.store.conversation_between(ContactId(f"contact-{contact}"), account.inbox)
        if conversation is not None:
            found.append(conversation)
    return found


__all__ = ["AccountsConformance"]

"""The facade a host app calls, and the composition root that wires it.

``Helpdesk`` is thin: each method hands over to the service that does that job (directory, conversation
actions, views, timers, exports). This module is the one place that knows the default adapters; the
services only see ports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

from convostate._adapters.clocks import SystemClock
from convostate._adapters.ids import RandomIds
from convostate._adapters.memory_store import MemoryStore
from convostate._batch import Batch
from convostate._core.business_hours import BusinessHours
from convostate._core.commands import Command
from convostate._core.errors import DuplicateContact, InvalidInput, MailerNotConfigured
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._core.model import AccountSettings, Availability, Contact, Conversation, Inbox, Role, User
from convostate._core.rules.defaults import DEFAULT_RULES
from convostate._core.rules.engine import DEFAULT_MAX_DEPTH, Verdict
from convostate._core.rules.model import RuleSet
from convostate._core.tabs import Tab
from convostate._core.validate import at_least_one, aware_datetime, check_type
from convostate._ports.records import DueTimer, EmailStatus, OutgoingEmail
from convostate._ports.roles import DEFAULT_ACCOUNT, AccountStore, Clock, IdGenerator, Mailer, Store
from convostate._service.access import Access
from convostate._service.analytics_results import ContactInfo, Report
from convostate._service.contacts import ContactService
from convostate._service.conversations import ConversationService
from convostate._service.directory import DirectoryService
from convostate._service.erasure import ContactErasure, ErasureService, RetentionSweep
from convostate._service.export_email import DEFAULT_SENDER
from convostate._service.exports import NO_MAILER, ExportService
from convostate._service.pipeline import Pipeline
from convostate._service.results import Badges, Delivery, ExportResult, HistoryEntry, Outcome, Page, Sweep
from convostate._service.retries import DEFAULT_RETRIES, RetryPolicy
from convostate._service.timers import TimerService
from convostate._service.unit_of_work import DEFAULT_ATTEMPTS, UnitOfWork
from convostate._service.views import ViewService


class Helpdesk:
    """One account's conversations, users, inboxes and contacts.

    ``Helpdesk()`` works with no arguments: a memory store (thread-safe), the system clock, random ids and
    the default rules (the seed product's). Pass your own to change any of them. Without a ``mailer``,
    exports stay queued in the outbox (the result says so) until a helpdesk with one delivers them.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        ids: IdGenerator | None = None,
        rules: RuleSet | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        max_rule_depth: int = DEFAULT_MAX_DEPTH,
        sender: str = DEFAULT_SENDER,
        retries: RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.mailer: Mailer | None = mailer
        self.ids: IdGenerator = ids if ids is not None else RandomIds()
        self._rules: RuleSet = (
            check_type("rules", rules, RuleSet, "DEFAULT_RULES") if rules is not None else DEFAULT_RULES
        )
        self._attempts = at_least_one("attempts", attempts, "5")
        self._max_rule_depth = at_least_one("max_rule_depth", max_rule_depth, "8")
        self.sender = sender
        """The ``From`` address of the emails convostate sends (exports)."""
        self._retries = check_type("retries", retries, RetryPolicy, "RetryPolicy()")
        self._wire()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        account: str = "default",
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        ids: IdGenerator | None = None,
        rules: RuleSet | None = None,
    ) -> Helpdesk:
        """A helpdesk on the database at ``url`` (``sqlite:///helpdesk.db``, ``postgresql+psycopg://...``):
        everything it holds survives a restart. An empty database (a new SQLite file) gets the schema.
        Needs the ``sql`` extra; see :class:`convostate.sql.SqlStore` for the other ways to open a store.

        Raises:
            SchemaMismatch: the database holds another application's tables, or an older or newer schema
                (the message says what to run).
            StorageError: the database cannot be read or written.
        """
        try:
            from convostate._adapters.sql.store import SqlStore  # noqa: PLC0415 (SQLAlchemy when used)
        except ImportError as missing:
            raise ImportError("Helpdesk.open needs the sql extra: pip install 'convostate[sql]'") from missing

        store = SqlStore.open(url, account=account)
        try:
            return cls(store=store, clock=clock, mailer=mailer, ids=ids, rules=rules)
        except BaseException:
            store.close()
            raise

    def disconnect(self) -> None:
        """Close the store's connections, if it has any (a SQL store opened on a URL); the memory store has
        none. A helpdesk is also a context manager that disconnects on leaving. (``close`` closes a
        conversation.)"""
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    @property
    def account(self) -> str:
        """The account this helpdesk serves: its store's (``"default"`` unless the host names one)."""
        return str(getattr(self.store, "account", DEFAULT_ACCOUNT))

    def for_account(self, account: str, *, rules: RuleSet | None = None) -> Helpdesk:
        """The helpdesk of ``account`` on the same store (one database, many customers): the same clock,
        mailer, ids, retries and rules (unless ``rules`` says otherwise), its own users, inboxes, contacts,
        conversations, timers and outbox, which no call of another account's helpdesk can reach. Cheap
        enough to call per request: it opens no connection and checks no schema.

        Raises:
            InvalidInput: the store holds one account only (a store of the host's without
                ``for_account``: see the ``Accounts`` port role), or ``account`` is not a name.
        """
        return Helpdesk(
            store=self._accounts().for_account(account),
            clock=self.clock,
            mailer=self.mailer,
            ids=self.ids,
            rules=self._rules if rules is None else rules,
            attempts=self._attempts,
            max_rule_depth=self._max_rule_depth,
            sender=self.sender,
            retries=self._retries,
        )

    def _accounts(self) -> AccountStore:
        if not callable(getattr(self.store, "for_account", None)):
            raise InvalidInput(
                f"the store {type(self.store).__name__} holds one account: it does not play the Accounts "
                "role (for_account, accounts_due, accounts_with_mail); MemoryStore and SqlStore do"
            )
        return cast(AccountStore, self.store)

    def __enter__(self) -> Helpdesk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()

    @property
    def rules(self) -> RuleSet:
        """The rules every action is decided with (``DEFAULT_RULES`` unless given); settable."""
        return self._rules

    @rules.setter
    def rules(self, value: RuleSet) -> None:
        self._rules = check_type("rules", value, RuleSet, "DEFAULT_RULES")
        self._wire()

    @property
    def retries(self) -> RetryPolicy:
        """When :meth:`deliver_pending` tries a failed email again, and when it gives up; settable."""
        return self._retries

    @retries.setter
    def retries(self, value: RetryPolicy) -> None:
        self._retries = check_type("retries", value, RetryPolicy, "RetryPolicy()")
        self._wire()

    @property
    def attempts(self) -> int:
        """How many times an action is decided again on fresh state after losing a race."""
        return self._attempts

    @attempts.setter
    def attempts(self, value: int) -> None:
        self._attempts = at_least_one("attempts", value, "5")
        self._wire()

    @property
    def max_rule_depth(self) -> int:
        """How many rounds of rules may follow one action before it is refused as a loop."""
        return self._max_rule_depth

    @max_rule_depth.setter
    def max_rule_depth(self, value: int) -> None:
        self._max_rule_depth = at_least_one("max_rule_depth", value, "8")
        self._wire()

    def _wire(self) -> None:
        """The composition root: the services, each given only the ports and collaborators it needs."""
        store, clock, ids = self.store, self.clock, self.ids
        work = UnitOfWork(store, self._attempts)
        access = Access(store)
        pipeline = Pipeline(self.rules, self._max_rule_depth)
        self._pipeline = pipeline
        self._access = access
        self._conversations = ConversationService(
            store=store, work=work, clock=clock, ids=ids, access=access, pipeline=pipeline
        )
        self._contacts = ContactService(store, access)
        self._directory = DirectoryService(
            store=store,
            work=work,
            ids=ids,
            access=access,
            conversations=self._conversations,
            contacts=self._contacts,
        )
        self._views = ViewService(store, clock, access, self.rules)
        self._erasure = ErasureService(store=store, work=work, clock=clock, access=access)
        self._timers = TimerService(
            store=store,
            work=work,
            clock=clock,
            access=access,
            pipeline=pipeline,
            conversations=self._conversations,
        )
        self._exports = ExportService(
            store=store,
            work=work,
            clock=clock,
            ids=ids,
            access=access,
            views=self._views,
            mailer=self.mailer,
            sender=self.sender,
            retries=self.retries,
            account=self.account,
        )

    # ------------------------------------------------------------------ the account directory

    def add_user(self, name: str, email: str, *, role: Role = Role.AGENT, by: UserId | None = None) -> User:
        """Add a user. The account's first user must be an admin and is added with no ``by``; after that,
        only an admin may add users."""
        return self._directory.add_user(name, email, role=role, by=by)

    def set_availability(self, user_id: UserId, availability: Availability) -> User:
        """Say whether a user is at work (from the host's presence system, a status menu, a rota): a
        contact who writes back to a closed conversation returns to its available assignees only."""
        return self._directory.set_availability(user_id, availability)

    def add_inbox(
        self,
        name: str,
        *,
        members: Iterable[UserId] = (),
        by: UserId,
        business_hours: BusinessHours | None = None,
    ) -> Inbox:
        """Add a multi-user inbox, whose members can be assigned to its conversations. ``business_hours``
        overrides the account's calendar for its business durations."""
        return self._directory.add_inbox(name, members=members, by=by, business_hours=business_hours)

    def add_single_user_inbox(
        self, name: str, *, owner: UserId, by: UserId, business_hours: BusinessHours | None = None
    ) -> Inbox:
        """Add a single-user inbox: ``owner`` is the only participant of each of its conversations."""
        return self._directory.add_single_user_inbox(name, owner=owner, by=by, business_hours=business_hours)

    def set_business_hours(
        self, inbox_id: InboxId, business_hours: BusinessHours | None, *, by: UserId
    ) -> Inbox:
        """Give an inbox its own calendar (admins only), or None to use the account's. Timers already set
        keep their instants until their conversation next changes."""
        return self._directory.set_business_hours(inbox_id, business_hours, by=by)

    def add_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        return self._directory.add_member(inbox_id, user_id, by=by)

    def remove_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        """Remove a member; they are unassigned from the inbox's conversations, by ``by``, in the same
        commit."""
        return self._directory.remove_member(inbox_id, user_id, by=by)

    def add_contact(
        self,
        *,
        name: str = "",
        phone: str | None = None,
        email: str | None = None,
        tags: Iterable[str] = (),
    ) -> Contact:
        """Add a contact, as the host's channel integration meets a new phone number or address. ``tags``
        (``vip``, ``wholesale``) are for rules to test.

        ``phone`` is stored in E.164: ``"+1 (555) 555-0100"`` becomes ``"+15555550100"``; with the
        ``phone`` extra and the account's ``phone_region`` set, national spellings are understood too.

        Raises:
            DuplicateContact: another contact has this phone or email (its id is ``existing``).
            InvalidInput: the phone is not a phone number, or the email not an address.
        """
        return self._directory.add_contact(name=name, phone=phone, email=email, tags=tags)

    def contact_for(self, *, phone: str | None = None, email: str | None = None, name: str = "") -> Contact:
        """The contact who wrote from ``phone`` or ``email``: the one with that phone, else the one with
        that email, else a new contact with both (and ``name``). What an inbound webhook calls before
        :meth:`receive`: two webhooks racing on a new number add it once, and both get that contact.

        Raises:
            InvalidInput: neither a phone nor an email, or one that is not a phone number or an address.
        """
        if phone is None and email is None:
            raise InvalidInput("contact_for takes the phone or the email (or both) the message came from")
        for found in (
            None if phone is None else self.find_contact(phone=phone),
            None if email is None else self.find_contact(email=email),
        ):
            if found is not None:
                return found
        try:
            return self.add_contact(name=name, phone=phone, email=email)
        except DuplicateContact as duplicate:  # another webhook added it since we looked
            return self._access.contact(duplicate.existing)

    def find_contact(self, *, phone: str | None = None, email: str | None = None) -> Contact | None:
        """The contact with this phone (any spelling :meth:`add_contact` accepts) or email (any case), or
        None: what a host's webhook calls to know who wrote."""
        return self._contacts.find(phone=phone, email=email)

    def contact_info(self, contact_id: ContactId, *, by: UserId) -> ContactInfo:
        """The contact's details, its conversations (in the inboxes ``by`` can see, with their unread state
        for ``by``) and its analytics: what the "Contact Info" sidebar shows. Admins and members of an
        inbox the contact has written to may see it. The figures are defined in docs/analytics.md."""
        return self._contacts.info(contact_id, by=by)

    def report(
        self,
        *,
        by: UserId,
        first_day: date,
        last_day: date,
        inbox_id: InboxId | None = None,
        user_id: UserId | None = None,
    ) -> Report:
        """An inbox's or a user's figures for each day from ``first_day`` to ``last_day`` (both included,
        days in the account's time zone), and their total. Admins see every report, members their inboxes'
        and users their own."""
        return self._contacts.report(
            by=by, inbox_id=inbox_id, user_id=user_id, first_day=first_day, last_day=last_day
        )

    def erase_contact(self, contact_id: ContactId, *, by: UserId) -> ContactErasure:
        """Erase a contact's personal data (admins only), in one unit of work: its name becomes
        ``[erased]``, its phone, email and tags go, every message body of its conversations becomes
        ``[erased]`` and every export of them in the outbox is replaced by a tombstone (a pending one is
        never sent). What happened and when stays: the contact (marked ``erased_at`` and ``erased_by``),
        its conversations, their events, tabs, counts and reports. See docs/privacy.md.

        Erasing an erased contact erases what was stored since (a message that came after), and
        otherwise changes nothing (``changed`` is False).

        Raises:
            PermissionDenied: ``by`` is not an admin.
            UnknownContact: there is no such contact.
        """
        return self._erasure.erase_contact(contact_id, by=by)

    def apply_retention(
        self,
        now: datetime | None = None,
        *,
        batch: int = 100,
        after: ConversationId | None = None,
    ) -> RetentionSweep:
        """Erase what the account's retention policy (``AccountSettings.retention``) says has been kept
        long enough at ``now`` (default: the clock's now), in the next ``batch`` conversations after
        ``after``: call it from the host's scheduler, like :meth:`run_due`, passing back the result's
        ``next_after`` (None: start again from the first). Each call reads at most ``batch``
        conversations and commits one unit of work; several workers may run it at once."""
        return self._erasure.apply_retention(now, batch=batch, after=after)

    def user(self, user_id: UserId) -> User:
        return self._access.user(user_id)

    def inbox(self, inbox_id: InboxId) -> Inbox:
        return self._access.inbox(inbox_id)

    def contact(self, contact_id: ContactId) -> Contact:
        return self._access.contact(contact_id)

    def conversation(self, conversation_id: ConversationId) -> Conversation:
        return self._access.conversation(conversation_id)

    def settings(self) -> AccountSettings:
        return self.store.settings()

    def update_settings(self, *, by: UserId, **changes: Any) -> AccountSettings:
        """Change account settings (admins only): ``timezone``, ``reopen_window`` (a CalendarDuration, or
        a BusinessDuration when ``business_hours`` is set), ``read_model``, ``exports_enabled``,
        ``business_hours``, ``retention`` (a ``convostate.privacy.RetentionPolicy``, or None)."""
        return self._directory.update_settings(by=by, **changes)

    # ------------------------------------------------------------------ conversation actions

    def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        """The contact wrote to the inbox: start their conversation, add to it, or reopen it.

        ``external_id`` is the provider's message id: a message delivered twice with the same one changes
        nothing the second time.
        """
        return self._conversations.receive(
            contact_id, inbox_id, body, external_id=external_id, sent_at=sent_at
        )

    def reply(
        self, conversation_id: ConversationId, body: str, *, by: UserId, external_id: str | None = None
    ) -> Outcome:
        return self._conversations.reply(conversation_id, body, by=by, external_id=external_id)

    def assign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        return self._conversations.assign(conversation_id, user_id, by=by)

    def unassign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        return self._conversations.unassign(conversation_id, user_id, by=by)

    def close(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.close(conversation_id, by=by)

    def reopen(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.reopen(conversation_id, by=by)

    def snooze(self, conversation_id: ConversationId, until: datetime, *, by: UserId) -> Outcome:
        """Put it aside until ``until``; the default rules wake it, unread, then or when the contact
        writes."""
        return self._conversations.snooze(conversation_id, until, by=by)

    def unsnooze(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.unsnooze(conversation_id, by=by)

    def star(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        """Star it for ``by`` (stars are per user)."""
        return self._conversations.star(conversation_id, by=by)

    def unstar(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.unstar(conversation_id, by=by)

    def mark_read(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.mark_read(conversation_id, by=by)

    def mark_unread(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._conversations.mark_unread(conversation_id, by=by)

    def execute(self, command: Command) -> Outcome:
        """Run any core command, after checking that a user actor may act on the conversation."""
        return self._conversations.execute(command)

    def batch(self) -> Batch:
        """Conversation actions decided one by one, as these methods decide them, and committed as one unit
        of work: for importing history (each action takes ``at=``, when it happened) or simulating
        traffic. On a database it is several times faster than one commit per action; on the memory store
        it is not (docs/batch.md). See :class:`~convostate.Batch`.

        ``with helpdesk.batch() as batch: batch.receive(...); batch.close(...)`` commits on leaving.
        """
        return Batch(
            store=self.store,
            clock=self.clock,
            ids=self.ids,
            pipeline=self._pipeline,
            attempts=self._attempts,
        )

    # ------------------------------------------------------------------ queries

    def search_users(self, text: str, *, inbox_id: InboxId | None = None) -> list[User]:
        """Users whose name matches ``text`` (any case, accents ignored), members of ``inbox_id`` if given."""
        return self._views.search_users(text, inbox_id=inbox_id)

    def participants(self, conversation_id: ConversationId) -> list[User]:
        return self._views.participants(conversation_id)

    def tab(self, user_id: UserId, tab: Tab, *, cursor: str | None = None, limit: int = 25) -> Page:
        """A page of ``user_id``'s tab, newest activity first, across every inbox the user can see."""
        return self._views.tab(user_id, tab, cursor=cursor, limit=limit)

    def badges(self, user_id: UserId) -> Badges:
        """For each of the user's tabs, how many conversations it lists and how many are unread for them."""
        return self._views.badges(user_id)

    def history(self, conversation_id: ConversationId) -> list[HistoryEntry]:
        """Every change to the conversation, oldest first, with who or what caused it."""
        return self._views.history(conversation_id)

    def explain(self, conversation_id: ConversationId, event: Event | None = None) -> tuple[Verdict, ...]:
        """Which rules ``event`` (by default the conversation's latest) would trigger now, which not, and
        why."""
        return self._views.explain(conversation_id, event)

    # ------------------------------------------------------------------ timers

    def due(self, now: datetime | None = None, *, limit: int = 100) -> list[DueTimer]:
        """The time rules due at ``now`` (default: the clock's now), oldest first, at most ``limit``."""
        return self._timers.due(now, limit=limit)

    def run_due(self, now: datetime | None = None, *, batch: int = 100) -> Sweep:
        """Run every time rule due at ``now`` (default: the clock's now): call it from the host's scheduler.

        Each acts at the instant it was due, so a late sweep records what a punctual one would. Running it
        twice, or from several workers at once, acts once: a sweep claims the timers it fires (``batch``
        at a time, oldest first), and each firing commits at the version it read, so a worker that loses a
        race re-checks the fresh state. A rule that does not settle is reported as stuck.
        """
        return self._timers.run_due(now, batch=batch)

    def run_due_everywhere(
        self, now: datetime | None = None, *, batch: int = 100, accounts: int = 1_000
    ) -> dict[str, Sweep]:
        """One pass of :meth:`run_due` over every account of the store that has a timer due: what a SaaS
        host's scheduler calls once a minute for all its customers (see docs/tenancy.md).

        The pass is fair: each account gets one claim of at most ``batch`` timers, the account waiting
        longest first, at most ``accounts`` accounts, so one busy account cannot starve the others; what
        is left waits for the next pass. Workers may run it at once: each claims other timers. Returns
        each served account's sweep.

        Raises:
            InvalidInput: the store holds one account only (it has no ``for_account``).
        """
        at = aware_datetime(now) if now is not None else aware_datetime(self.clock.now())
        at_least_one("batch", batch, "100")
        at_least_one("accounts", accounts, "1000")
        return {
            account: self.for_account(account)._timers.run_due(at, batch=batch, rounds=1)
            for account in self._accounts().accounts_due(at, limit=accounts)
        }

    # ------------------------------------------------------------------ exports

    def export(self, conversation_id: ConversationId, *, by: UserId) -> ExportResult:
        """Email the conversation to ``by``'s address, as a CSV attachment named ``<conversation id>.csv``.

        Members of the conversation's inbox and admins may export it; when an admin has turned exports off
        (``exports_enabled=False``) it raises :class:`ExportDisabled` (a :class:`PermissionDenied`), and
        nothing is queued. The email is queued in the store's outbox first, so it is never lost, then sent
        at once if the helpdesk has a mailer. A failed send does not raise: the result says it was not
        delivered, and :meth:`deliver_pending` retries it.
        """
        return self._exports.export(conversation_id, by=by)

    def deliver_pending(self, limit: int = 100) -> Delivery:
        """Send the emails of the outbox that are due, oldest first, at most ``limit``: call it from the
        host's scheduler, like :meth:`run_due` (convostate starts no thread). Each is tried once per call.

        A temporary failure (the mailer raised anything but :class:`PermanentDeliveryFailure`: a 4xx
        reply, a dropped connection, a timeout) leaves the email pending until its ``next_attempt_at``,
        backing off as :attr:`retries` says, until the policy gives up. A permanent failure (a 5xx reply,
        every recipient refused), or giving up, marks it failed for good: it is not retried, and
        :meth:`emails` with ``EmailStatus.FAILED`` lists it, with its ``last_error`` and the user who
        asked for it (``requested_by``), so the host can tell them.

        convostate never sends an email twice: a worker claims an email before sending it (so several
        workers can run this at once), and marks it sent as soon as the mailer accepts it. One window is
        left, as with any outbox: if the process dies, or the store fails, after the mail server accepted
        an email and before it is marked sent, the email is sent again once the claim ends (``SEND_CLAIM``,
        ten minutes): at most one duplicate, with the same ``Message-ID``, so a receiving server or mail
        client can drop it.

        Raises:
            MailerNotConfigured: the helpdesk was built without a mailer.
        """
        return self._exports.deliver_pending(limit)

    def deliver_pending_everywhere(self, limit: int = 100, *, accounts: int = 1_000) -> dict[str, Delivery]:
        """One pass of :meth:`deliver_pending` over every account that has an email to send now, at most
        ``limit`` emails each, the account waiting longest first, at most ``accounts`` accounts: fair, and
        safe from several workers at once, as :meth:`run_due_everywhere` is. Returns each served account's
        delivery.

        Raises:
            MailerNotConfigured: the helpdesk was built without a mailer.
            InvalidInput: the store holds one account only.
        """
        at_least_one("limit", limit, "100")
        at_least_one("accounts", accounts, "1000")
        if self.mailer is None:
            raise MailerNotConfigured(NO_MAILER)
        now = aware_datetime(self.clock.now())
        return {
            account: self.for_account(account).deliver_pending(limit)
            for account in self._accounts().accounts_with_mail(now, limit=accounts)
        }

    def emails(
        self, status: EmailStatus = EmailStatus.PENDING, *, limit: int = 100, after: str | None = None
    ) -> tuple[OutgoingEmail, ...]:
        """The outbox's emails in ``status``, oldest first, at most ``limit``: what is waiting, what was
        sent, what failed for good (and why: ``last_error``). For the next page, pass the last email's id
        as ``after``."""
        return self._exports.emails(status, limit=limit, after=after)

"""The asyncio facade: every method of :class:`~convostate.Helpdesk`, awaitable, on the same services.

``AsyncHelpdesk`` holds one sync ``Helpdesk`` (the same pipeline, unit of work and rules: nothing is decided
twice in two ways) and runs each call where it cannot block the event loop:

- on a SQL store over an asyncio engine (aiosqlite, psycopg async), inside a greenlet on the loop
  (SQLAlchemy's ``greenlet_spawn``, the mechanism behind ``AsyncConnection.run_sync``): the pipeline runs
  as it always does, and each time the driver waits for the database the loop runs other coroutines. The
  host's mailer, the one other thing that waits, is sent in a worker thread the greenlet awaits;
- on any other store (the memory store, a sync SQL store), in a worker thread (``asyncio.to_thread``): a
  store's lock held by another caller, or a sync driver's wait, keeps that thread waiting, never the loop.

The methods are written out one by one, with the sync facade's signatures, so type checkers and editors see
them; tests/test_async_helpdesk.py compares the two classes so they cannot drift apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from convostate._async_batch import AsyncBatch
from convostate._core.business_hours import BusinessHours
from convostate._core.commands import Command
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._core.model import AccountSettings, Availability, Contact, Conversation, Inbox, Role, User
from convostate._core.rules.engine import DEFAULT_MAX_DEPTH, Verdict
from convostate._core.rules.model import RuleSet
from convostate._core.tabs import Tab
from convostate._helpdesk import Helpdesk
from convostate._ports.records import DueTimer, EmailStatus, OutgoingEmail
from convostate._ports.roles import Clock, IdGenerator, Mailer, Store
from convostate._service.analytics_results import ContactInfo, Report
from convostate._service.erasure import ContactErasure, RetentionSweep
from convostate._service.export_email import DEFAULT_SENDER
from convostate._service.results import Badges, Delivery, ExportResult, HistoryEntry, Outcome, Page, Sweep
from convostate._service.retries import DEFAULT_RETRIES, RetryPolicy
from convostate._service.unit_of_work import DEFAULT_ATTEMPTS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from convostate._adapters.sql.store import SqlStore

T = TypeVar("T")

_NEEDS_ASYNC = "AsyncHelpdesk on a database needs the async extra: pip install 'convostate[async]'"


def _on_the_loop(store: Store) -> bool:
    try:
        from convostate._adapters.sql.async_engine import runs_on_the_loop  # noqa: PLC0415 (SQLAlchemy)
    except ImportError:  # no SQLAlchemy, or no greenlet: then no store can be an asyncio one
        return False
    return runs_on_the_loop(store)


class AsyncHelpdesk:
    """:class:`~convostate.Helpdesk` for asyncio hosts: the same methods, arguments, results and errors,
    each awaited.

    ``AsyncHelpdesk()`` works with no arguments (a memory store, run in worker threads); ``await
    AsyncHelpdesk.open(url)`` opens a database through SQLAlchemy's asyncio extension
    (``sqlite+aiosqlite:///helpdesk.db``, ``postgresql+psycopg://...``). Use it from one event loop: a
    database helpdesk's connections belong to the loop that opened them. Leave ``async with`` or call
    :meth:`disconnect` to close them.
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
        self._greenlets = store is not None and _on_the_loop(store)
        self._mailer = mailer
        inner_mailer = mailer
        if self._greenlets and mailer is not None:
            from convostate._adapters.sql.async_engine import MailerOffTheLoop  # noqa: PLC0415

            inner_mailer = MailerOffTheLoop(mailer)
        self._desk = Helpdesk(
            store=store,
            clock=clock,
            mailer=inner_mailer,
            ids=ids,
            rules=rules,
            attempts=attempts,
            max_rule_depth=max_rule_depth,
            sender=sender,
            retries=retries,
        )

    @classmethod
    async def open(
        cls,
        url: str | AsyncEngine,
        *,
        account: str = "default",
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        ids: IdGenerator | None = None,
        rules: RuleSet | None = None,
    ) -> AsyncHelpdesk:
        """A helpdesk on the database at ``url`` (``sqlite+aiosqlite:///helpdesk.db``,
        ``postgresql+psycopg://...``), or on the host's own ``AsyncEngine`` (whose schema must be there:
        see docs/async.md; the host disposes of it). An empty database on a URL gets the schema. Needs the
        ``async`` extra; :func:`convostate.aio.open_sql_store` takes the store's own options.

        Raises:
            InvalidInput: the URL names a sync driver (``sqlite:///``, ``postgresql+psycopg2://``) or an
                in-memory SQLite database.
            SchemaMismatch: the database holds another application's tables, or an older or newer schema.
            StorageError: the database cannot be read or written.
        """
        try:
            from convostate._adapters.sql.async_engine import on_the_loop, open_store  # noqa: PLC0415
        except ImportError as missing:
            raise ImportError(_NEEDS_ASYNC) from missing

        store = await open_store(url, account=account)
        try:
            return cls(store=store, clock=clock, mailer=mailer, ids=ids, rules=rules)
        except BaseException:
            await on_the_loop(store.close)
            raise

    @property
    def account(self) -> str:
        """The account this helpdesk serves (see docs/tenancy.md)."""
        return self._desk.account

    async def for_account(self, account: str, *, rules: RuleSet | None = None) -> AsyncHelpdesk:
        """The helpdesk of ``account`` on the same store, as :meth:`Helpdesk.for_account
        <convostate.Helpdesk.for_account>` gives it: cheap enough to call per request."""
        inner = await self._call(self._desk.for_account, account, rules=rules)
        sibling = object.__new__(AsyncHelpdesk)
        sibling._greenlets, sibling._mailer, sibling._desk = self._greenlets, self._mailer, inner
        return sibling

    async def _call(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        if self._greenlets:
            from convostate._adapters.sql.async_engine import on_the_loop  # noqa: PLC0415

            return await on_the_loop(function, *args, **kwargs)
        return await asyncio.to_thread(function, *args, **kwargs)

    async def disconnect(self) -> None:
        """Close the store's connections, if it has any (a store opened on a URL); the memory store has
        none. ``async with`` disconnects on leaving. (``close`` closes a conversation.)"""
        await self._call(self._desk.disconnect)

    async def __aenter__(self) -> AsyncHelpdesk:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    # ------------------------------------------------------------------ what the helpdesk is made of

    @property
    def store(self) -> Store:
        return self._desk.store

    @property
    def clock(self) -> Clock:
        return self._desk.clock

    @property
    def mailer(self) -> Mailer | None:
        """The mailer given (on a database, the helpdesk sends through it in a worker thread)."""
        return self._mailer

    @property
    def ids(self) -> IdGenerator:
        return self._desk.ids

    @property
    def sender(self) -> str:
        """The ``From`` address of the emails convostate sends (exports)."""
        return self._desk.sender

    @property
    def rules(self) -> RuleSet:
        """The rules every action is decided with (``DEFAULT_RULES`` unless given); settable."""
        return self._desk.rules

    @rules.setter
    def rules(self, value: RuleSet) -> None:
        self._desk.rules = value

    @property
    def retries(self) -> RetryPolicy:
        """When :meth:`deliver_pending` tries a failed email again, and when it gives up; settable."""
        return self._desk.retries

    @retries.setter
    def retries(self, value: RetryPolicy) -> None:
        self._desk.retries = value

    @property
    def attempts(self) -> int:
        """How many times an action is decided again on fresh state after losing a race; settable."""
        return self._desk.attempts

    @attempts.setter
    def attempts(self, value: int) -> None:
        self._desk.attempts = value

    @property
    def max_rule_depth(self) -> int:
        """How many rounds of rules may follow one action before it is refused as a loop; settable."""
        return self._desk.max_rule_depth

    @max_rule_depth.setter
    def max_rule_depth(self, value: int) -> None:
        self._desk.max_rule_depth = value

    # ------------------------------------------------------------------ the account directory

    async def add_user(
        self, name: str, email: str, *, role: Role = Role.AGENT, by: UserId | None = None
    ) -> User:
        """See :meth:`Helpdesk.add_user <convostate.Helpdesk.add_user>`."""
        return await self._call(self._desk.add_user, name, email, role=role, by=by)

    async def set_availability(self, user_id: UserId, availability: Availability) -> User:
        return await self._call(self._desk.set_availability, user_id, availability)

    async def add_inbox(
        self,
        name: str,
        *,
        members: Iterable[UserId] = (),
        by: UserId,
        business_hours: BusinessHours | None = None,
    ) -> Inbox:
        return await self._call(
            self._desk.add_inbox, name, members=members, by=by, business_hours=business_hours
        )

    async def add_single_user_inbox(
        self, name: str, *, owner: UserId, by: UserId, business_hours: BusinessHours | None = None
    ) -> Inbox:
        return await self._call(
            self._desk.add_single_user_inbox, name, owner=owner, by=by, business_hours=business_hours
        )

    async def set_business_hours(
        self, inbox_id: InboxId, business_hours: BusinessHours | None, *, by: UserId
    ) -> Inbox:
        return await self._call(self._desk.set_business_hours, inbox_id, business_hours, by=by)

    async def add_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        return await self._call(self._desk.add_member, inbox_id, user_id, by=by)

    async def remove_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        return await self._call(self._desk.remove_member, inbox_id, user_id, by=by)

    async def add_contact(
        self,
        *,
        name: str = "",
        phone: str | None = None,
        email: str | None = None,
        tags: Iterable[str] = (),
    ) -> Contact:
        return await self._call(self._desk.add_contact, name=name, phone=phone, email=email, tags=tags)

    async def contact_for(
        self, *, phone: str | None = None, email: str | None = None, name: str = ""
    ) -> Contact:
        return await self._call(self._desk.contact_for, phone=phone, email=email, name=name)

    async def find_contact(self, *, phone: str | None = None, email: str | None = None) -> Contact | None:
        return await self._call(self._desk.find_contact, phone=phone, email=email)

    async def erase_contact(self, contact_id: ContactId, *, by: UserId) -> ContactErasure:
        """Erase the contact's personal data in one unit of work (docs/privacy.md)."""
        return await self._call(self._desk.erase_contact, contact_id, by=by)

    async def apply_retention(
        self,
        now: datetime | None = None,
        *,
        batch: int = 100,
        after: ConversationId | None = None,
    ) -> RetentionSweep:
        """One batch of the account's retention policy: pass ``next_after`` back for the next one."""
        return await self._call(self._desk.apply_retention, now, batch=batch, after=after)

    async def contact_info(self, contact_id: ContactId, *, by: UserId) -> ContactInfo:
        return await self._call(self._desk.contact_info, contact_id, by=by)

    async def report(
        self,
        *,
        by: UserId,
        first_day: date,
        last_day: date,
        inbox_id: InboxId | None = None,
        user_id: UserId | None = None,
    ) -> Report:
        return await self._call(
            self._desk.report,
            by=by,
            first_day=first_day,
            last_day=last_day,
            inbox_id=inbox_id,
            user_id=user_id,
        )

    async def user(self, user_id: UserId) -> User:
        return await self._call(self._desk.user, user_id)

    async def inbox(self, inbox_id: InboxId) -> Inbox:
        return await self._call(self._desk.inbox, inbox_id)

    async def contact(self, contact_id: ContactId) -> Contact:
        return await self._call(self._desk.contact, contact_id)

    async def conversation(self, conversation_id: ConversationId) -> Conversation:
        return await self._call(self._desk.conversation, conversation_id)

    async def settings(self) -> AccountSettings:
        return await self._call(self._desk.settings)

    async def update_settings(self, *, by: UserId, **changes: Any) -> AccountSettings:
        return await self._call(self._desk.update_settings, by=by, **changes)

    # ------------------------------------------------------------------ conversation actions

    async def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        """The contact wrote to the inbox. ``external_id`` is the provider's message id: a message
        delivered twice with the same one changes nothing the second time."""
        return await self._call(
            self._desk.receive, contact_id, inbox_id, body, external_id=external_id, sent_at=sent_at
        )

    async def reply(
        self, conversation_id: ConversationId, body: str, *, by: UserId, external_id: str | None = None
    ) -> Outcome:
        return await self._call(self._desk.reply, conversation_id, body, by=by, external_id=external_id)

    async def assign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.assign, conversation_id, user_id, by=by)

    async def unassign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.unassign, conversation_id, user_id, by=by)

    async def close(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.close, conversation_id, by=by)

    async def reopen(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.reopen, conversation_id, by=by)

    async def snooze(self, conversation_id: ConversationId, until: datetime, *, by: UserId) -> Outcome:
        return await self._call(self._desk.snooze, conversation_id, until, by=by)

    async def unsnooze(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.unsnooze, conversation_id, by=by)

    async def star(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.star, conversation_id, by=by)

    async def unstar(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.unstar, conversation_id, by=by)

    async def mark_read(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.mark_read, conversation_id, by=by)

    async def mark_unread(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return await self._call(self._desk.mark_unread, conversation_id, by=by)

    async def execute(self, command: Command) -> Outcome:
        return await self._call(self._desk.execute, command)

    def batch(self) -> AsyncBatch:
        """:meth:`Helpdesk.batch <convostate.Helpdesk.batch>`, awaitable: ``async with desk.batch() as
        batch: await batch.receive(..., at=...)``. Making one reads nothing, so it is not awaited."""
        return AsyncBatch(self._desk.batch(), self._call)

    # ------------------------------------------------------------------ queries

    async def search_users(self, text: str, *, inbox_id: InboxId | None = None) -> list[User]:
        return await self._call(self._desk.search_users, text, inbox_id=inbox_id)

    async def participants(self, conversation_id: ConversationId) -> list[User]:
        return await self._call(self._desk.participants, conversation_id)

    async def tab(self, user_id: UserId, tab: Tab, *, cursor: str | None = None, limit: int = 25) -> Page:
        return await self._call(self._desk.tab, user_id, tab, cursor=cursor, limit=limit)

    async def badges(self, user_id: UserId) -> Badges:
        return await self._call(self._desk.badges, user_id)

    async def history(self, conversation_id: ConversationId) -> list[HistoryEntry]:
        return await self._call(self._desk.history, conversation_id)

    async def explain(
        self, conversation_id: ConversationId, event: Event | None = None
    ) -> tuple[Verdict, ...]:
        return await self._call(self._desk.explain, conversation_id, event)

    # ------------------------------------------------------------------ timers

    async def due(self, now: datetime | None = None, *, limit: int = 100) -> list[DueTimer]:
        return await self._call(self._desk.due, now, limit=limit)

    async def run_due(self, now: datetime | None = None, *, batch: int = 100) -> Sweep:
        """Run every time rule due at ``now``: call it from the host's scheduler (a task that sleeps a
        minute between sweeps, a cron job); several workers at once fire each timer once."""
        return await self._call(self._desk.run_due, now, batch=batch)

    async def run_due_everywhere(
        self, now: datetime | None = None, *, batch: int = 100, accounts: int = 1_000
    ) -> dict[str, Sweep]:
        """One fair pass of :meth:`run_due` over every account with a timer due (docs/tenancy.md)."""
        return await self._call(self._desk.run_due_everywhere, now, batch=batch, accounts=accounts)

    # ------------------------------------------------------------------ exports

    async def export(self, conversation_id: ConversationId, *, by: UserId) -> ExportResult:
        return await self._call(self._desk.export, conversation_id, by=by)

    async def deliver_pending(self, limit: int = 100) -> Delivery:
        """Send the outbox's due emails (see :meth:`Helpdesk.deliver_pending
        <convostate.Helpdesk.deliver_pending>`); the mailer's sends run in a worker thread."""
        return await self._call(self._desk.deliver_pending, limit)

    async def deliver_pending_everywhere(
        self, limit: int = 100, *, accounts: int = 1_000
    ) -> dict[str, Delivery]:
        """One fair pass of :meth:`deliver_pending` over every account with an email to send now."""
        return await self._call(self._desk.deliver_pending_everywhere, limit, accounts=accounts)

    async def emails(
        self, status: EmailStatus = EmailStatus.PENDING, *, limit: int = 100, after: str | None = None
    ) -> tuple[OutgoingEmail, ...]:
        return await self._call(self._desk.emails, status, limit=limit, after=after)


async def open_sql_store(
    bind: str | AsyncEngine,
    *,
    account: str = "default",
    prefix: str = "convostate_",
    create: bool = True,
    busy_timeout: float = 5.0,
    synchronous: str = "NORMAL",
) -> SqlStore:
    """A SQL store through SQLAlchemy's asyncio extension, with the store's own options, for
    ``AsyncHelpdesk(store=...)``: the asyncio counterpart of :meth:`SqlStore.open
    <convostate.sql.SqlStore.open>` (same arguments). On a URL it makes its own engine, and the schema in an
    empty database if ``create``; on the host's ``AsyncEngine`` the schema must be there. The store's calls
    must run in a greenlet on the loop, which ``AsyncHelpdesk`` does: hand it to one, and close it with
    :meth:`AsyncHelpdesk.disconnect`.

    Raises:
        InvalidInput: a URL with a sync driver, or an in-memory SQLite database.
        SchemaMismatch: the database holds another schema, or an older or newer one.
        StorageError: the database cannot be read or written.
    """
    try:
        from convostate._adapters.sql.async_engine import open_store  # noqa: PLC0415
    except ImportError as missing:
        raise ImportError(_NEEDS_ASYNC) from missing
    return await open_store(
        bind,
        account=account,
        prefix=prefix,
        create=create,
        busy_timeout=busy_timeout,
        synchronous=synchronous,
    )

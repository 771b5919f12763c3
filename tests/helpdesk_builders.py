"""Builders for the facade tests: a small account set up through ``Helpdesk`` the way a host would.

Plain functions, not fixtures: each test says what it builds. Time stands still unless a test (or
``open_conversation``) moves the manual clock, and ids are sequential, so failures are repeatable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pendulum

from convostate import (
    ConcurrencyConflict,
    ContactId,
    Conversation,
    ConversationId,
    Helpdesk,
    InboxId,
    MemoryStore,
    Role,
    Store,
    Tab,
    UserId,
)
from convostate.ports import ChangeSet
from convostate.testing import CollectingMailer, ManualClock, SequentialIds


class InterceptingStore(MemoryStore):
    """A memory store with a hook before every commit, for tests that make a save lose a race or fail; it
    counts the conflicts its commits raise."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts_raised = 0

    def before_append(self) -> None:
        """Runs just before each commit of a conversation's change; subclasses override it."""

    def commit(self, changes: ChangeSet) -> None:
        if changes.conversations:
            self.before_append()
        try:
            super().commit(changes)
        except ConcurrencyConflict:
            self.conflicts_raised += 1
            raise


class RacingStore(InterceptingStore):
    """Runs ``rival`` (once) just before the next append, as if another writer saved between this one's load
    and its save, so that append is stale."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Callable[[], object] | None = None

    def before_append(self) -> None:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()


START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
"""A Monday morning in UTC, the account's default time zone."""


@dataclass(frozen=True)
class Account:
    """A helpdesk and the ids of what is in it.

    - ``admin`` (Alex Morgan) is an admin and a member of no inbox;
    - ``ana`` (Ana Lima) and ``ben`` (Ben Okafor) are agents, members of ``support``;
    - ``ana`` is also the only member of ``sales`` and the owner of ``ana_line``;
    - ``outsider`` (Olga Petrova) is an agent who is a member of no inbox;
    - ``contact`` (Maria Lopez) has not written yet.
    """

    helpdesk: Helpdesk
    clock: ManualClock
    admin: UserId
    ana: UserId
    ben: UserId
    outsider: UserId
    support: InboxId
    sales: InboxId
    ana_line: InboxId
    contact: ContactId

    @property
    def agents(self) -> tuple[UserId, ...]:
        return (self.ana, self.ben, self.outsider)

    @property
    def users(self) -> tuple[UserId, ...]:
        return (self.admin, *self.agents)


def build_account(*, store: Store | None = None, attempts: int = 5) -> Account:
    """The account described on :class:`Account`, on ``store`` (default: a new memory store)."""
    clock = ManualClock(START)
    helpdesk = Helpdesk(
        store=store, clock=clock, ids=SequentialIds(), attempts=attempts, mailer=CollectingMailer()
    )
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    outsider = helpdesk.add_user("Olga Petrova", "olga@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana, ben], by=admin).id
    sales = helpdesk.add_inbox("Sales", members=[ana], by=admin).id
    ana_line = helpdesk.add_single_user_inbox("Ana's line", owner=ana, by=admin).id
    contact = helpdesk.add_contact(name="Maria Lopez", phone="+15551234567").id
    return Account(helpdesk, clock, admin, ana, ben, outsider, support, sales, ana_line, contact)


def open_conversation(
    account: Account,
    inbox: InboxId | None = None,
    *,
    contact: ContactId | None = None,
    minutes: int = 1,
    body: str = "Hello, my order has not arrived",
) -> ConversationId:
    """``minutes`` later, a contact writes to ``inbox`` (default Support): a new contact unless given."""
    if minutes:
        account.clock.advance(minutes=minutes)
    if contact is None:
        contact = account.helpdesk.add_contact(name="A new contact").id
    outcome = account.helpdesk.receive(contact, inbox if inbox is not None else account.support, body)
    return outcome.conversation.id


def list_tab(account: Account, user: UserId, tab: Tab, *, page_size: int = 500) -> list[Conversation]:
    """Everything ``user``'s ``tab`` lists, following cursors page by page."""
    listed: list[Conversation] = []
    cursor: str | None = None
    for _ in range(1000):
        page = account.helpdesk.tab(user, tab, cursor=cursor, limit=page_size)
        listed += page.conversations
        if page.next_cursor is None:
            return listed
        cursor = page.next_cursor
    raise AssertionError(f"{tab} of {user} still had a next page after 1000 pages: its cursors go round")


def tab_ids(account: Account, user: UserId, tab: Tab) -> list[ConversationId]:
    return [conversation.id for conversation in list_tab(account, user, tab)]

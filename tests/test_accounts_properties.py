"""Two accounts sharing one store behave exactly as two stores: a property over random scripts.

Each account runs its own random script of facade calls with ids of its own counting (so both hold the
very same ids), interleaved at random on one shared store; then each script runs alone on a store of its
own, at the same instants. Every call must end the same way in both runs, and every read of each account
(conversations, their events, tabs and badges, contact info, the report) must be the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convostate import (
    ConversationId,
    ConvostateError,
    Helpdesk,
    MemoryStore,
    Role,
    Store,
    Tab,
)
from convostate.testing import ManualClock, SequentialIds
from tests.sql_stores import heavy

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
ACCOUNTS = ("acme", "globex")
ACTIONS = ("receive", "reply", "assign", "close", "star", "read", "snooze", "sweep")

Step = tuple[int, str, int, int]
"""(account, action, contact or conversation number, user number)"""

steps = st.lists(
    st.tuples(
        st.integers(0, len(ACCOUNTS) - 1),
        st.sampled_from(ACTIONS),
        st.integers(1, 3),
        st.integers(0, 1),
    ),
    max_size=30,
)


class _Account:
    def __init__(self, store: Store, clock: ManualClock) -> None:
        self.desk = Helpdesk(store=store, clock=clock, ids=SequentialIds())
        self.admin = self.desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
        self.agent = self.desk.add_user("Ana Lima", "ana@example.com", by=self.admin).id
        self.inbox = self.desk.add_inbox("Support", members=[self.admin, self.agent], by=self.admin).id
        self.contacts = [self.desk.add_contact(phone=f"+1555555{n:04d}").id for n in range(1, 4)]

    def run(self, action: str, number: int, user: int, now: pendulum.DateTime) -> str:
        """What the call did: its outcome's events, or the error it raised."""
        desk, by = self.desk, (self.admin, self.agent)[user]
        conversation = ConversationId(f"conversation-{number}")
        calls: dict[str, Callable[[], Any]] = {
            "receive": lambda: desk.receive(self.contacts[number - 1], self.inbox, f"message at {now}"),
            "reply": lambda: desk.reply(conversation, "On it", by=by),
            "assign": lambda: desk.assign(conversation, by, by=by),
            "close": lambda: desk.close(conversation, by=by),
            "star": lambda: desk.star(conversation, by=by),
            "read": lambda: desk.mark_read(conversation, by=by),
            "snooze": lambda: desk.snooze(conversation, now.add(minutes=2), by=by),
            "sweep": lambda: desk.run_due(now),
        }
        try:
            result = calls[action]()
        except ConvostateError as error:
            return type(error).__name__
        return repr(getattr(result, "events", None) if action != "sweep" else len(result.acted))

    def reads(self) -> dict[str, Any]:
        desk, store = self.desk, self.desk.store
        ids = [ConversationId(f"conversation-{n}") for n in range(1, 4)]
        conversations = {
            each: (store.conversation(each), desk.history(each))
            for each in ids
            if store.conversation(each) is not None
        }
        return {
            "conversations": conversations,
            "badges": [desk.badges(user) for user in (self.admin, self.agent)],
            "tabs": [desk.tab(user, tab) for user in (self.admin, self.agent) for tab in Tab],
            "contacts": [repr(desk.contact_info(contact, by=self.admin)) for contact in self.contacts],
            "report": repr(
                desk.report(
                    by=self.admin, inbox_id=self.inbox, first_day=date(2026, 3, 2), last_day=date(2026, 3, 3)
                )
            ),
        }


def _ran(script: list[Step], open_store: Callable[[str], Store]) -> tuple[list[str], list[dict[str, Any]]]:
    clock = ManualClock(START)
    accounts = [_Account(open_store(name), clock) for name in ACCOUNTS]
    ended = []
    for minute, (account, action, number, user) in enumerate(script, start=1):
        now = clock.set(START.add(minutes=minute))
        ended.append(accounts[account].run(action, number, user, now))
    return ended, [account.reads() for account in accounts]


def _alone(script: list[Step], open_store: Callable[[str], Store]) -> tuple[list[str], list[dict[str, Any]]]:
    """Each account's script on a store of its own, each step at the instant it had when interleaved."""
    ended: dict[int, str] = {}
    reads = []
    for index, name in enumerate(ACCOUNTS):
        clock = ManualClock(START)
        account = _Account(open_store(name), clock)
        for minute, (owner, action, number, user) in enumerate(script, start=1):
            if owner == index:
                ended[minute] = account.run(action, number, user, clock.set(START.add(minutes=minute)))
        reads.append(account.reads())
    return [ended[minute] for minute in range(1, len(script) + 1)], reads


def _check(script: list[Step], shared: Callable[[str], Store], own: Callable[[str], Store]) -> None:
    together = _ran(script, shared)
    apart = _alone(script, own)
    assert together[0] == apart[0]
    assert together[1] == apart[1]


@given(script=steps)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_two_accounts_in_one_memory_store_are_two_stores(script: list[Step]) -> None:
    shared = MemoryStore()
    _check(script, shared.for_account, lambda name: MemoryStore(account=name))


@pytest.fixture
def databases() -> Iterator[Callable[[str], Store]]:
    pytest.importorskip("sqlalchemy")
    from convostate.sql import SqlStore  # noqa: PLC0415 (the sql extra)

    opened: list[SqlStore] = []

    def open_database(_: str) -> Store:
        store = SqlStore.open("sqlite://")  # in memory: the same SQL, without the disk's cost
        opened.append(store)
        return store

    yield open_database
    for store in opened:
        store.close()


@heavy
@given(script=steps)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_two_accounts_in_one_sqlite_database_are_two_databases(
    script: list[Step], databases: Callable[[str], Store]
) -> None:
    shared = databases("shared")

    def account_of_shared(name: str) -> Store:
        return shared.for_account(name)  # type: ignore[attr-defined,no-any-return]

    def own_database(name: str) -> Store:
        return databases(name).for_account(name)  # type: ignore[attr-defined,no-any-return]

    _check(script, account_of_shared, own_database)

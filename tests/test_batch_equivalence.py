"""A batch leaves exactly what the same calls, one by one, leave: a property over random scripts.

Each script is run twice on fresh helpdesks with the same ids: once through the facade, one commit per call
at the instant the clock is set to, and once through ``Helpdesk.batch()``, each call with that instant as
``at=`` and a commit wherever the script says (and at the end). Every call must end the same way (the same
events, or the same error), and every read must then be the same: conversations and their histories, tabs
and badges of every user, the timers due, contact info and the report. This is what lets the batch fold
each conversation's timers, tab rows and facts into one write: the specification is the facade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convostate import ConversationId, ConvostateError, Helpdesk, MemoryStore, Role, RuleId, Store, Tab
from convostate.rules import DEFAULT_RULES, Action, OnEvent, Rule, RuleSet
from convostate.testing import ManualClock, SequentialIds
from tests.sql_stores import heavy

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
ACTIONS = (
    "receive",
    "reply",
    "assign",
    "unassign",
    "close",
    "reopen",
    "star",
    "unstar",
    "read",
    "unread",
    "snooze",
    "unsnooze",
)
GAPS = (0, 1, 7, 60, 3 * 24 * 60, 8 * 24 * 60)
"""Minutes between steps: at once, soon, after an hour, within and after the 7-day reopen window."""

Step = tuple[str, int, int, int, str | None, bool]
"""(action, contact or conversation number, user number, minutes since the last step, the message's
provider id, commit the batch after it)"""

steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(1, 4),
        st.integers(0, 2),
        st.sampled_from(GAPS),
        st.sampled_from((None, None, "SM1", "SM2")),
        st.booleans(),
    ),
    max_size=40,
)


def _rules() -> RuleSet:
    """The default rules and a round-robin over the two members for every new conversation, so that
    rotation counts go through the batch too."""
    return DEFAULT_RULES.with_rules(
        Rule(
            RuleId("round-robin"),
            OnEvent("ConversationStarted"),
            (Action.assign_round_robin(["user-1", "user-2"]),),
        )
    )


class _Desk:
    def __init__(self, store: Store) -> None:
        self.clock = ManualClock(START)
        self.desk = Helpdesk(store=store, clock=self.clock, ids=SequentialIds(), rules=_rules())
        desk = self.desk
        self.admin = desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
        self.agent = desk.add_user("Ana Lima", "ana@example.com", by=self.admin).id
        self.outsider = desk.add_user("Omar Diaz", "omar@example.com", by=self.admin).id
        self.users = (self.admin, self.agent, self.outsider)
        self.inboxes = (
            desk.add_inbox("Support", members=[self.admin, self.agent], by=self.admin).id,
            desk.add_inbox("Sales", members=[self.admin, self.agent], by=self.admin).id,
        )
        self.contacts = [desk.add_contact(phone=f"+1555555{n:04d}").id for n in range(1, 4)]

    def call(self, actor: Any, step: Step, now: pendulum.DateTime, **at: Any) -> str:
        """What the call did: its outcome's events, or the error it raised."""
        action, number, user, _, external_id, _ = step
        by = self.users[user]
        conversation = ConversationId(f"conversation-{number}")
        calls: dict[str, Callable[[], Any]] = {
            "receive": lambda: actor.receive(
                self.contacts[(number - 1) % 3],
                self.inboxes[number % 2],
                f"message at {now}",
                external_id=external_id,
                **at,
            ),
            "reply": lambda: actor.reply(conversation, "On it", by=by, **at),
            "assign": lambda: actor.assign(conversation, self.agent, by=by, **at),
            "unassign": lambda: actor.unassign(conversation, self.agent, by=by, **at),
            "close": lambda: actor.close(conversation, by=by, **at),
            "reopen": lambda: actor.reopen(conversation, by=by, **at),
            "star": lambda: actor.star(conversation, by=by, **at),
            "unstar": lambda: actor.unstar(conversation, by=by, **at),
            "read": lambda: actor.mark_read(conversation, by=by, **at),
            "unread": lambda: actor.mark_unread(conversation, by=by, **at),
            "snooze": lambda: actor.snooze(conversation, now.add(hours=2), by=by, **at),
            "unsnooze": lambda: actor.unsnooze(conversation, by=by, **at),
        }
        try:
            outcome = calls[action]()
        except ConvostateError as error:
            return type(error).__name__
        return repr((outcome.conversation, outcome.events, outcome.follow_ups))

    def _scopes(self) -> list[dict[str, Any]]:
        return [{"inbox_id": inbox} for inbox in self.inboxes] + [{"user_id": user} for user in self.users]

    def reads(self, until: pendulum.DateTime) -> dict[str, Any]:
        desk, store = self.desk, self.desk.store
        ids = [ConversationId(f"conversation-{n}") for n in range(1, 8)]
        return {
            "conversations": {
                each: (store.conversation(each), desk.history(each))
                for each in ids
                if store.conversation(each) is not None
            },
            "badges": [desk.badges(user) for user in self.users],
            "tabs": [desk.tab(user, tab, limit=50) for user in self.users for tab in Tab],
            "due": desk.due(until.add(days=30), limit=100),
            "contacts": [repr(desk.contact_info(contact, by=self.admin)) for contact in self.contacts],
            "reports": [
                repr(desk.report(by=self.admin, first_day=date(2026, 3, 1), last_day=date(2026, 6, 1), **of))
                for of in self._scopes()
            ],
        }


def _instants(script: list[Step]) -> list[pendulum.DateTime]:
    instants, now = [], START
    for step in script:
        now = now.add(minutes=step[3])
        instants.append(now)
    return instants


def one_by_one(script: list[Step], store: Store) -> tuple[list[str], dict[str, Any]]:
    desk = _Desk(store)
    ended = []
    for step, now in zip(script, _instants(script), strict=True):
        desk.clock.set(now)
        ended.append(desk.call(desk.desk, step, now))
    return ended, desk.reads(desk.clock.now())


def batched(script: list[Step], store: Store) -> tuple[list[str], dict[str, Any]]:
    desk = _Desk(store)
    ended = []
    batch = desk.desk.batch()
    instants = _instants(script)
    for step, now in zip(script, instants, strict=True):
        ended.append(desk.call(batch, step, now, at=now))
        if step[5]:
            batch.commit()
    batch.commit()
    desk.clock.set(instants[-1] if instants else START)
    return ended, desk.reads(desk.clock.now())


def _check(script: list[Step], new_store: Callable[[], Store]) -> None:
    expected = one_by_one(script, new_store())
    found = batched(script, new_store())
    assert found[0] == expected[0]
    assert found[1] == expected[1]


@given(script=steps)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_batch_on_the_memory_store_leaves_what_the_calls_one_by_one_leave(script: list[Step]) -> None:
    _check(script, MemoryStore)


@pytest.fixture
def sqlite_stores() -> Iterator[Callable[[], Store]]:
    from convostate.sql import SqlStore  # noqa: PLC0415 (the sql extra)

    opened: list[SqlStore] = []

    def open_store() -> Store:
        store = SqlStore.open("sqlite://")
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@heavy
@given(script=steps)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_batch_on_sqlite_leaves_what_the_calls_one_by_one_leave(
    script: list[Step], sqlite_stores: Callable[[], Store]
) -> None:
    _check(script, sqlite_stores)

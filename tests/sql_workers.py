"""What the heavy SQL tests run in threads and in other processes, and the invariants they check after.

A worker opens its own store on the database (as another app server would) and runs random actions on a few
hot conversations, each retried on a conflict; it counts the messages it added, so that a lost update shows
as a message missing from the histories.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

import pendulum
import sqlalchemy as sa

from convostate import (
    ConcurrencyConflict,
    ContactId,
    Conversation,
    ConversationId,
    Helpdesk,
    InboxId,
    MessageReceived,
    MessageSent,
    Role,
    Tab,
    UserId,
)
from convostate.core import replay
from convostate.sql import SqlStore
from convostate.testing import ManualClock, SequentialIds

CHAT_START: Final = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
HOT: Final = 5
"""How many conversations every worker acts on: few, so that workers collide all the time."""
_ATTEMPTS: Final = 200


def open_store(url: str, account: str, prefix: str) -> SqlStore:
    return SqlStore.open(url, account=account, prefix=prefix, create=False, busy_timeout=30.0)


def set_up(store: SqlStore) -> tuple[list[UserId], InboxId, list[tuple[ConversationId, ContactId]]]:
    """An admin, two agents in one inbox, and ``HOT`` conversations, one per contact."""
    helpdesk = Helpdesk(store=store, ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana, ben], by=admin).id
    hot = []
    for n in range(HOT):
        contact = helpdesk.add_contact(name=f"Contact {n}").id
        hot.append((helpdesk.receive(contact, support, "Hi").conversation.id, contact))
    return [admin, ana, ben], support, hot


def act(
    helpdesk: Helpdesk,
    chance: random.Random,
    users: Sequence[UserId],
    support: InboxId,
    hot: Sequence[tuple[ConversationId, ContactId]],
) -> int:
    """One random action, retried until it is not in conflict; the messages it added (0 or 1)."""
    conversation, contact = chance.choice(hot)
    user = chance.choice(users[1:])
    action = chance.choice(
        [
            "receive",
            "reply",
            "close",
            "reopen",
            "mark_read",
            "mark_unread",
            "star",
            "unstar",
            "assign",
            "unassign",
        ]
    )
    for _ in range(_ATTEMPTS):
        try:
            if action == "receive":
                helpdesk.receive(contact, support, "Any news?")
                return 1
            if action == "reply":
                helpdesk.reply(conversation, "On it", by=user)
                return 1
            if action in ("assign", "unassign"):
                getattr(helpdesk, action)(conversation, chance.choice(users[1:]), by=user)
            else:
                getattr(helpdesk, action)(conversation, by=user)
            return 0
        except ConcurrencyConflict:
            continue
    raise AssertionError(f"{action} on {conversation} kept conflicting")


def hammer(url: str, account: str, prefix: str, seed: int, commands: int) -> int:
    """Run ``commands`` random actions on the hot conversations; the messages they added."""
    store = open_store(url, account, prefix)
    try:
        helpdesk = Helpdesk(store=store, attempts=_ATTEMPTS)
        users = [user.id for user in store.users()]
        support = store.inboxes()[0].id
        hot = hot_conversations(store)
        chance = random.Random(seed)
        return sum(act(helpdesk, chance, users, support, hot) for _ in range(commands))
    finally:
        store.close()


def first_messages(url: str, account: str, prefix: str, contact: str, count: int) -> list[str]:
    """``count`` first messages from one contact to the inbox, each a new delivery: the conversations
    they went to."""
    store = open_store(url, account, prefix)
    try:
        helpdesk = Helpdesk(store=store, attempts=_ATTEMPTS)
        support = store.inboxes()[0].id
        return [
            helpdesk.receive(ContactId(contact), support, f"Hello {n}").conversation.id.value
            for n in range(count)
        ]
    finally:
        store.close()


def set_up_chat(store: SqlStore, contacts: int) -> list[str]:
    """An admin, an agent in one inbox, and ``contacts`` contacts: one for each chatting worker."""
    helpdesk = Helpdesk(store=store, ids=SequentialIds(), clock=ManualClock(CHAT_START))
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    helpdesk.add_inbox("Support", members=[ana], by=admin)
    return [helpdesk.add_contact(name=f"Contact {n}").id.value for n in range(contacts)]


def chat(url: str, account: str, prefix: str, contact: str, rounds: int) -> None:
    """``rounds`` messages from ``contact`` to the inbox, each answered by the agent, all on one day: every
    worker adds to the same day counters of the inbox and the agent."""
    store = open_store(url, account, prefix)
    try:
        clock = ManualClock(CHAT_START)
        helpdesk = Helpdesk(store=store, clock=clock, attempts=_ATTEMPTS)
        support = store.inboxes()[0].id
        agent = next(user.id for user in store.users() if user.role is not Role.ADMIN)
        for _ in range(rounds):
            clock.advance(seconds=30)
            conversation = helpdesk.receive(ContactId(contact), support, "Hello?").conversation.id
            clock.advance(seconds=20)
            helpdesk.reply(conversation, "Hello!", by=agent)
    finally:
        store.close()


def hot_conversations(store: SqlStore) -> list[tuple[ConversationId, ContactId]]:
    between = store.tables.between.c
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(between.conversation_id, between.contact_id)
            .where(between.account == store.account)
            .order_by(between.conversation_id)
        ).all()
    return [(ConversationId(row.conversation_id), ContactId(row.contact_id)) for row in rows]


def messages(store: SqlStore) -> int:
    """Every message in every conversation's history."""
    return sum(
        isinstance(event, (MessageReceived, MessageSent))
        for conversation, _ in hot_conversations(store)
        for event in store.events(conversation)
    )


def assert_invariants(store: SqlStore) -> None:
    """Replaying each conversation's events rebuilds its state; each user's badge counters equal what
    their tabs list, read page by page."""
    helpdesk = Helpdesk(store=store)
    for conversation, _ in hot_conversations(store):
        state = store.conversation(conversation)
        assert state is not None
        assert replay(store.events(conversation)) == state, f"{conversation}: replay differs from the state"
    for user in store.users():
        if user.role is Role.ADMIN:
            continue
        badges = helpdesk.badges(user.id)
        for tab in Tab:
            listed = whole_tab(helpdesk, user.id, tab)
            assert badges[tab].total == len(listed), f"{user.name}'s {tab} badge"
            unread = sum(conversation.is_unread_for(user.id) for conversation in listed)
            assert badges[tab].unread == unread, f"{user.name}'s {tab} unread badge"


def whole_tab(helpdesk: Helpdesk, user: UserId, tab: Tab) -> list[Conversation]:
    listed: list[Conversation] = []
    cursor: str | None = None
    while True:
        page = helpdesk.tab(user, tab, cursor=cursor, limit=3)
        listed += page.conversations
        if page.next_cursor is None:
            return listed
        cursor = page.next_cursor

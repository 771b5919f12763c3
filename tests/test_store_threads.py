"""The memory store under racing writers, beyond the conformance suite's races: after any interleaving of
actions, the tab rows and counters it kept commit by commit are exactly those it would hold had it stored
each conversation's final state at once, with no row or counter left behind; and a known write skew between
removing a member and assigning them."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Final

import pendulum
import pytest

from convostate import (
    ConcurrencyConflict,
    ContactId,
    ConversationId,
    Helpdesk,
    InboxId,
    MemoryStore,
    ReadModel,
    Role,
    UserId,
)
from convostate.core import replay, tab_changes
from convostate.ports import ChangeSet, ConversationChange, DirectoryChange
from convostate.testing import SequentialIds

START: Final = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
THREADS: Final = 8
ACTIONS_EACH: Final = 40


class YieldingStore(MemoryStore):
    """A memory store that lets the other threads run just before each commit, between an action's reads
    and its write, so that racing actions interleave and conflict (some 150 conflicts a run)."""

    def commit(self, changes: ChangeSet) -> None:
        time.sleep(0)
        super().commit(changes)


class TickingClock:
    """Shared by the threads; each reading is a second later than the one before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = START

    def now(self) -> pendulum.DateTime:
        with self._lock:
            now, self._next = self._next, self._next.add(seconds=1)
            return now


def _act(
    helpdesk: Helpdesk,
    chance: random.Random,
    hot: tuple[ConversationId, ContactId, InboxId],
    user: UserId,
    assignable: tuple[UserId, ...],
) -> None:
    """One action chosen at random, by ``user`` (or the contact), retried until it is not in conflict."""
    conversation_id, contact, inbox = hot
    choices = ["receive", "reply", "close", "reopen", "mark_read", "mark_unread", "star", "unstar", "snooze"]
    choices += ["assign", "unassign"] if assignable else []
    assignee = chance.choice(assignable) if assignable else user
    action = chance.choice(choices)
    for _ in range(100):
        try:
            if action == "receive":
                helpdesk.receive(contact, inbox, "Any news?")
            elif action == "reply":
                helpdesk.reply(conversation_id, "On it", by=user)
            elif action == "snooze":
                helpdesk.snooze(conversation_id, helpdesk.clock.now().add(days=1), by=user)
            elif action in ("assign", "unassign"):
                getattr(helpdesk, action)(conversation_id, assignee, by=user)
            else:
                getattr(helpdesk, action)(conversation_id, by=user)
        except ConcurrencyConflict:
            continue
        return
    raise AssertionError(f"{action} on {conversation_id} kept conflicting")


@pytest.mark.parametrize("read_model", list(ReadModel), ids=lambda model: model.value)
def test_after_racing_actions_the_tab_index_is_what_storing_the_final_states_builds(
    read_model: ReadModel,
) -> None:
    store, clock = YieldingStore(), TickingClock()
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana, ben], by=admin).id
    line = helpdesk.add_single_user_inbox("Ana's line", owner=ana, by=admin).id
    helpdesk.update_settings(by=admin, read_model=read_model)
    members = {support: (ana, ben, admin), line: (ana, admin)}
    hot: list[tuple[ConversationId, ContactId, InboxId]] = []
    for inbox in (support, support, support, line, line):
        contact = helpdesk.add_contact(name="A contact").id
        hot.append((helpdesk.receive(contact, inbox, "Hi").conversation.id, contact, inbox))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        racer = Helpdesk(store=store, clock=clock, attempts=20)
        chance = random.Random(n)
        try:
            for _ in range(ACTIONS_EACH):
                conversation = chance.choice(hot)
                user = chance.choice(members[conversation[2]])
                assignable = (ana, ben) if conversation[2] == support else ()
                _act(racer, chance, conversation, user, assignable)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(THREADS)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
    finally:
        sys.setswitchinterval(switch_interval)
    assert not any(thread.is_alive() for thread in threads), "a racing thread is still running"
    assert errors == []

    fresh = MemoryStore()
    directory = DirectoryChange(tuple(store.users()), tuple(store.inboxes()), store.settings())
    fresh.commit(ChangeSet(directory=directory))
    for conversation_id, contact, inbox_id in hot:
        state, events = store.conversation(conversation_id), tuple(store.events(conversation_id))
        where, known = store.inbox(inbox_id), store.contact(contact)
        assert state is not None
        assert where is not None
        assert known is not None
        assert replay(events) == state
        change = ConversationChange(state, events, 0, (), tab_changes(None, state, where))
        fresh.commit(ChangeSet((change,), contacts=(known,)))
    assert store.dump()["index"] == fresh.dump()["index"]


class AssignsBeforeTheDirectoryCommit(MemoryStore):
    """Runs ``rival`` once, just before the next commit of a directory change: as if another server's action
    committed between that change's reads and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Callable[[], object] | None = None

    def commit(self, changes: ChangeSet) -> None:
        rival, self.rival = (self.rival, None) if changes.directory is not None else (None, self.rival)
        if rival is not None:
            rival()
        super().commit(changes)


def test_a_member_assigned_while_being_removed_is_unassigned_too() -> None:
    store = AssignsBeforeTheDirectoryCommit()
    helpdesk = Helpdesk(store=store, ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ben], by=admin).id
    contact = helpdesk.add_contact(name="Maria Lopez").id
    conversation = helpdesk.receive(contact, support, "Hi").conversation.id
    store.rival = lambda: helpdesk.assign(conversation, ben, by=admin)

    helpdesk.remove_member(support, ben, by=admin)

    assert ben not in helpdesk.inbox(support).members
    assert helpdesk.conversation(conversation).assignees == frozenset()
    assert list(store.conversations_assigned_to(ben, support)) == []

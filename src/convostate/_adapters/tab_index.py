"""The in-memory projection behind tabs and badges, updated on every save and never by a scan.

For each inbox it keeps one sorted list per shared tab and one per (personal tab, user), newest activity
first, so a tab page is a bisect and a short merge across the user's inboxes. Counts are the lists'
lengths; unread counts are counters kept beside them. In the per-user read model a user's unread count
in a shared tab is the conversation-level unread count corrected by that user's read overrides, so it
needs no list per user. Query cost depends on the number of inboxes a user sees, not on the number of
conversations.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Collection, Iterator
from typing import Any, TypeAlias

from sortedcontainers import SortedList

from convostate._core.ids import ConversationId, InboxId, UserId
from convostate._core.model import Conversation, Inbox
from convostate._core.tabs import Tab, listing
from convostate._ports import Position, TabCount

_Key: TypeAlias = tuple[InboxId, Tab, UserId | None]
"""A list of a tab in an inbox: ``None`` for the shared tabs, the user for the personal ones."""
_Entry: TypeAlias = tuple[int, str]
"""A conversation's place in a list: (minus its activity in microseconds, its id)."""


def position_of(conversation: Conversation) -> _Entry:
    activity = conversation.last_activity_at
    return (-(activity.int_timestamp * 1_000_000 + activity.microsecond), conversation.id.value)


class TabIndex:
    def __init__(self) -> None:
        self._lists: dict[_Key, Any] = {}  # each a SortedList of _Entry
        self._unread: dict[_Key, int] = {}
        self._assigned: dict[tuple[UserId, InboxId], set[ConversationId]] = {}

    def update(self, old: Conversation | None, new: Conversation, inbox: Inbox) -> None:
        """Move ``new`` into the lists and counters that ``old`` (its previous state) was in."""
        old_keys, old_unread = self._contributions(old, inbox) if old is not None else ({}, {})
        new_keys, new_unread = self._contributions(new, inbox)
        old_entry, new_entry = (position_of(old) if old else None), position_of(new)
        for key in old_keys.keys() - new_keys.keys() if old_entry == new_entry else old_keys:
            self._lists[key].remove(old_entry)
        for key in new_keys.keys() - old_keys.keys() if old_entry == new_entry else new_keys:
            self._lists.setdefault(key, SortedList()).add(new_entry)
        for key, count in old_unread.items():
            self._unread[key] -= count
        for key, count in new_unread.items():
            self._unread[key] = self._unread.get(key, 0) + count
        for user in (old.assignees if old else frozenset()) - new.assignees:
            self._assigned[(user, new.inbox_id)].discard(new.id)
        for user in new.assignees:
            self._assigned.setdefault((user, new.inbox_id), set()).add(new.id)

    @staticmethod
    def _contributions(conversation: Conversation, inbox: Inbox) -> tuple[dict[_Key, None], dict[_Key, int]]:
        where = listing(conversation, inbox)
        keys: dict[_Key, None] = {}
        unread: dict[_Key, int] = {}
        for tab in where.shared:
            keys[(inbox.id, tab, None)] = None
            if conversation.unread:
                unread[(inbox.id, tab, None)] = 1
            for user in conversation.read_overrides:
                unread[(inbox.id, tab, user)] = -1 if conversation.unread else 1
        for tab, users in where.personal:
            for user in users:
                keys[(inbox.id, tab, user)] = None
                if conversation.is_unread_for(user):
                    unread[(inbox.id, tab, user)] = 1
        return keys, unread

    def counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]:
        result = {}
        for tab in Tab:
            total = unread = 0
            for inbox_id in inbox_ids:
                if tab.is_personal:
                    key: _Key = (inbox_id, tab, user_id)
                    total += len(self._lists.get(key, ()))
                    unread += self._unread.get(key, 0)
                else:
                    shared: _Key = (inbox_id, tab, None)
                    total += len(self._lists.get(shared, ()))
                    unread += self._unread.get(shared, 0) + self._unread.get((inbox_id, tab, user_id), 0)
            result[tab] = TabCount(total, unread)
        return result

    def page(
        self, tab: Tab, user_id: UserId, inbox_ids: Collection[InboxId], after: Position | None, limit: int
    ) -> list[ConversationId]:
        """Up to ``limit`` conversations of the tab, newest activity first, after the ``after`` position."""
        owner = user_id if tab.is_personal else None
        start = (after.newest_first, after.conversation_id) if after is not None else None
        runs: list[Iterator[_Entry]] = []
        for inbox_id in inbox_ids:
            entries = self._lists.get((inbox_id, tab, owner))
            if entries:
                first = entries.bisect_right(start) if start is not None else 0
                runs.append(entries.islice(first, first + limit))
        merged = itertools.islice(heapq.merge(*runs), limit)
        return [ConversationId(conversation_id) for _, conversation_id in merged]

    def assigned(self, user_id: UserId, inbox_id: InboxId) -> list[ConversationId]:
        return sorted(self._assigned.get((user_id, inbox_id), ()), key=lambda cid: cid.value)

    def dump(self) -> dict[str, Any]:
        """Everything the index holds, as plain comparable values (for tests that check nothing changed)."""
        return {
            "lists": {key: list(entries) for key, entries in self._lists.items() if entries},
            "unread": {key: count for key, count in self._unread.items() if count},
            "assigned": {key: set(ids) for key, ids in self._assigned.items() if ids},
        }

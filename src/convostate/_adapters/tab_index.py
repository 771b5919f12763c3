"""The in-memory projection behind tabs and badges, updated on every save and never by a scan.

For each inbox it keeps one sorted list per shared tab and one per (personal tab, user), newest activity
first, so a tab page is a bisect and a short merge across the user's inboxes. Counts are the lists'
lengths; unread counts are counters kept beside them. In the per-user read model a user's unread count
in a shared tab is the conversation-level unread count corrected by that user's read overrides, so it
needs no list per user. Query cost depends on the number of inboxes a user sees, not on the number of
conversations.

Keys are plain strings (ids' text and tabs' values): this runs on every write, and hashing a string is a
fraction of the cost of hashing an id object or an enum member.
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
from convostate._core.timing import epoch_microseconds
from convostate._ports import Position, TabCount

_Key: TypeAlias = tuple[str, str, str]
"""A list of a tab in an inbox: (inbox id, tab, user id or "" for the shared tabs)."""
_Entry: TypeAlias = tuple[int, str]
"""A conversation's place in a list: (minus its activity in microseconds, its id)."""

_TABS = tuple(Tab)


def position_of(conversation: Conversation) -> _Entry:
    """``Position.of`` as a plain tuple: the index holds millions of these and compares them natively."""
    return (-epoch_microseconds(conversation.last_activity_at), conversation.id.value)


def _same_lists(old: Conversation, new: Conversation) -> bool:
    """Whether the two states are in the same lists, with the same unread counts (their places in them may
    differ): everything of a conversation that decides where it is listed and whether it counts as unread."""
    return (
        old.status is new.status
        and old.unread == new.unread
        and old.assignees == new.assignees
        and old.starred_by == new.starred_by
        and old.read_overrides == new.read_overrides
    )


class TabIndex:
    def __init__(self) -> None:
        self._lists: dict[_Key, Any] = {}  # each a SortedList of _Entry
        self._unread: dict[_Key, int] = {}
        self._assigned: dict[tuple[str, str], set[str]] = {}

    def update(self, old: Conversation | None, new: Conversation, inbox: Inbox) -> None:
        """Move ``new`` into the lists and counters that ``old`` (its previous state) was in."""
        if old is not None and _same_lists(old, new):
            if old.last_activity_at == new.last_activity_at:
                return  # a snooze, a star that changes nothing, a version bump: no tab shows a change
            # A message that leaves its lists and unread counts as they were (to a conversation already
            # unread, say): a newer place in each of the same lists.
            was, now = position_of(old), position_of(new)
            for key in self._contributions(new, inbox)[0]:
                entries = self._lists[key]
                entries.remove(was)
                entries.add(now)
            return
        old_keys, old_unread = self._contributions(old, inbox) if old is not None else ({}, {})
        new_keys, new_unread = self._contributions(new, inbox)
        old_entry, new_entry = (position_of(old) if old else None), position_of(new)
        lists = self._lists
        for key in old_keys.keys() - new_keys.keys() if old_entry == new_entry else old_keys:
            lists[key].remove(old_entry)
        for key in new_keys.keys() - old_keys.keys() if old_entry == new_entry else new_keys:
            entries = lists.get(key)
            if entries is None:
                entries = lists[key] = SortedList()
            entries.add(new_entry)
        unread_counts = self._unread
        for key, count in old_unread.items():
            unread_counts[key] -= count
        for key, count in new_unread.items():
            unread_counts[key] = unread_counts.get(key, 0) + count
        if old is None or old.assignees != new.assignees:
            inbox_id, conversation_id = new.inbox_id.value, new.id.value
            for user in (old.assignees if old else frozenset()) - new.assignees:
                self._assigned[(user.value, inbox_id)].discard(conversation_id)
            for user in new.assignees:
                self._assigned.setdefault((user.value, inbox_id), set()).add(conversation_id)

    @staticmethod
    def _contributions(conversation: Conversation, inbox: Inbox) -> tuple[dict[_Key, None], dict[_Key, int]]:
        where = listing(conversation, inbox)
        inbox_id, unread_flag = inbox.id.value, conversation.unread
        keys: dict[_Key, None] = {}
        unread: dict[_Key, int] = {}
        for tab in where.shared:
            key = (inbox_id, tab._value_, "")
            keys[key] = None
            if unread_flag:
                unread[key] = 1
            for user in conversation.read_overrides:
                unread[(inbox_id, tab._value_, user.value)] = -1 if unread_flag else 1
        for tab, users in where.personal:
            for user in users:
                key = (inbox_id, tab._value_, user.value)
                keys[key] = None
                if conversation.is_unread_for(user):
                    unread[key] = 1
        return keys, unread

    def counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]:
        result = {}
        user = user_id.value
        for tab in _TABS:
            total = unread = 0
            for inbox in inbox_ids:
                inbox_id = inbox.value
                if tab.is_personal:
                    key = (inbox_id, tab.value, user)
                    total += len(self._lists.get(key, ()))
                    unread += self._unread.get(key, 0)
                else:
                    shared = (inbox_id, tab.value, "")
                    total += len(self._lists.get(shared, ()))
                    unread += self._unread.get(shared, 0) + self._unread.get((inbox_id, tab.value, user), 0)
            result[tab] = TabCount(total, unread)
        return result

    def page(
        self, tab: Tab, user_id: UserId, inbox_ids: Collection[InboxId], after: Position | None, limit: int
    ) -> list[ConversationId]:
        """Up to ``limit`` conversations of the tab, newest activity first, after the ``after`` position."""
        owner = user_id.value if tab.is_personal else ""
        start = (after.newest_first, after.conversation_id) if after is not None else None
        runs: list[Iterator[_Entry]] = []
        for inbox_id in inbox_ids:
            entries = self._lists.get((inbox_id.value, tab.value, owner))
            if entries:
                first = entries.bisect_right(start) if start is not None else 0
                runs.append(entries.islice(first, first + limit))
        merged = itertools.islice(heapq.merge(*runs), limit)
        return [ConversationId(conversation_id) for _, conversation_id in merged]

    def assigned(self, user_id: UserId, inbox_id: InboxId) -> list[ConversationId]:
        return [
            ConversationId(cid) for cid in sorted(self._assigned.get((user_id.value, inbox_id.value), ()))
        ]

    def dump(self) -> dict[str, Any]:
        """Everything the index holds, as plain comparable values (for tests that check nothing changed)."""
        return {
            "lists": {key: list(entries) for key, entries in self._lists.items() if entries},
            "unread": {key: count for key, count in self._unread.items() if count},
            "assigned": {key: set(ids) for key, ids in self._assigned.items() if ids},
        }

"""The memory store's rows and counters behind tabs and badges: it applies the core's
:class:`~convostate._core.tab_changes.TabChanges` and answers pages and counts, and knows no tab rule.

For each inbox it keeps one sorted list per shared tab and one per (personal tab, user), newest activity
first, so a tab page is a bisect and a short merge across the user's inboxes. Counts are the lists'
lengths; unread counts are the counters the core moves. Query cost depends on the number of inboxes a user
sees, not on the number of conversations.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Collection, Iterator
from typing import Any

from sortedcontainers import SortedList

from convostate._core.errors import InvalidInput
from convostate._core.ids import ConversationId, InboxId, UserId
from convostate._core.tab_changes import RowKey, RowPlace, TabChanges
from convostate._core.tabs import Tab
from convostate._ports.records import Position, TabCount

_TABS = tuple(Tab)
_ADD_ROW, _REMOVE_ROW, _SUBTRACT, _ASSIGN, _UNASSIGN = range(5)
"""The steps :meth:`TabIndex.apply` writes down, by what undoes each."""


class TabIndex:
    def __init__(self) -> None:
        self._lists: dict[RowKey, Any] = {}  # each a SortedList of RowPlace
        self._unread: dict[RowKey, int] = {}
        self._assigned: dict[tuple[str, str], set[str]] = {}

    def apply(self, changes: list[tuple[ConversationId, InboxId, TabChanges]]) -> None:
        """Apply each conversation's tab changes, all or none: a change set made by hand can hold rows of
        the wrong types, which fail only when a sorted list compares them or a dict hashes them, so every
        step is written down as it is taken and undone, in reverse, if a later one fails (then the store
        refuses the change set with InvalidInput, having written nothing). A row to remove that is not
        there is left alone, as an SQL DELETE leaves it."""
        undo: list[tuple[int, Any, Any]] = []
        try:
            for conversation_id, inbox_id, tabs in changes:
                self._apply(conversation_id.value, inbox_id.value, tabs, undo)
        except Exception as error:
            self._undo(undo)
            raise InvalidInput(f"tab changes that no store can apply: {error!r}") from error

    def _apply(self, conversation_id: str, inbox_id: str, changes: TabChanges, undo: list[Any]) -> None:
        lists = self._lists
        for key, place in changes.removed:
            entries = lists.get(key)
            if entries is not None:
                try:
                    entries.remove(place)
                except ValueError:  # not there
                    continue
                undo.append((_ADD_ROW, key, place))
        for key, place in changes.added:
            entries = lists.get(key)
            if entries is None:
                entries = lists[key] = SortedList()
            entries.add(place)
            undo.append((_REMOVE_ROW, key, place))
        counters = self._unread
        for key, count in changes.unread:
            counters[key] = counters.get(key, 0) + count
            undo.append((_SUBTRACT, key, count))
        assigned = self._assigned
        for user in changes.unassigned:
            ids = assigned.get((user, inbox_id))
            if ids is not None and conversation_id in ids:
                ids.remove(conversation_id)
                undo.append((_ASSIGN, (user, inbox_id), conversation_id))
        for user in changes.assigned:
            ids = assigned.setdefault((user, inbox_id), set())
            if conversation_id not in ids:
                ids.add(conversation_id)
                undo.append((_UNASSIGN, (user, inbox_id), conversation_id))

    def _undo(self, undo: list[tuple[int, Any, Any]]) -> None:
        """Take back the steps taken, newest first (an emptied list or a zero counter shows as nothing)."""
        for step, key, value in reversed(undo):
            if step == _ADD_ROW:
                self._lists[key].add(value)
            elif step == _REMOVE_ROW:
                self._lists[key].remove(value)
            elif step == _SUBTRACT:
                self._unread[key] -= value
            elif step == _ASSIGN:
                self._assigned[key].add(value)
            else:
                self._assigned[key].discard(value)

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
        runs: list[Iterator[RowPlace]] = []
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

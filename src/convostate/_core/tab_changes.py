"""What one change of a conversation does to every user's tabs and badges: rows to remove and add, and
unread counters to move. Worked out here, once, from the tab rules in :mod:`convostate._core.tabs`, so that
a store only applies rows and counters and never re-derives a rule (per-user read overrides, the owner of a
single-user inbox).

A tab list is named by a :data:`RowKey`, ``(inbox id, tab value, owner)``: the owner is a user id for a
personal tab (Assigned to You, Starred) and ``""`` for a shared one (All open, Unassigned, Closed). A row is
a conversation's place in one list, :data:`RowPlace`, ``(minus its last activity in epoch microseconds,
its id)``, so rows sort newest activity first, ties by id. Keys and places are plain strings and ints: a
store holds millions of them and compares them natively (a SQL store keeps them as columns).

Unread counters are kept per key. In a shared tab the counter under the shared key counts the
conversations unread at the conversation level, and a counter under the same tab with a user as owner
holds that user's corrections in the per-user read model (``-1`` where they read an unread conversation,
``+1`` where they marked a read one unread), so a user's unread count is the sum of the two and no list is
kept per user for shared tabs.
"""

from __future__ import annotations

from typing import Final, NamedTuple, TypeAlias

from convostate._core.ids import UserId
from convostate._core.model import Conversation, Inbox
from convostate._core.tabs import Tab, placement
from convostate._core.timing import epoch_microseconds

RowKey: TypeAlias = tuple[str, str, str]
"""A tab list in an inbox: (inbox id, tab value, user id for a personal tab or "" for a shared one)."""
RowPlace: TypeAlias = tuple[int, str]
"""A conversation's place in a list: (minus its last activity in epoch microseconds, its id)."""
Row: TypeAlias = tuple[RowKey, RowPlace]


def place_of(conversation: Conversation) -> RowPlace:
    """Where ``conversation`` sorts in every list that holds it: newest activity first, ties by id."""
    return (-epoch_microseconds(conversation.last_activity_at), conversation.id.value)


class TabChanges(NamedTuple):
    """What a store applies, in one transaction with the state, to keep tabs and badges true. (An
    immutable named tuple: one is made on every write, and a tuple is the cheapest value to make.)

    ``removed`` rows go before ``added`` ones (a conversation that moves within a list is removed at its old
    place and added at its new one); ``unread`` adds to counters, none of them zero; ``assigned`` and
    ``unassigned`` are the users whose assignments to the conversation begin or end (for
    ``conversations_assigned_to``, open or closed).
    """

    removed: tuple[Row, ...] = ()
    added: tuple[Row, ...] = ()
    unread: tuple[tuple[RowKey, int], ...] = ()
    assigned: tuple[str, ...] = ()
    unassigned: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.removed or self.added or self.unread or self.assigned or self.unassigned)


NO_TAB_CHANGES: Final = TabChanges()
_STARRED: Final = Tab.STARRED.value
_ASSIGNED_TO_YOU: Final = Tab.ASSIGNED_TO_YOU.value


def tab_changes(old: Conversation | None, new: Conversation, inbox: Inbox) -> TabChanges:
    """What moving from ``old`` (None for a new conversation) to ``new`` does to the tabs of ``inbox``.

    The inbox's kind and owner never change, so ``old`` is placed with the same inbox as ``new``.
    """
    if old is None:
        keys, counters = _contributions(new, inbox)
        place = place_of(new)
        everyone = tuple(sorted([user.value for user in new.assignees]))
        return TabChanges((), tuple([(key, place) for key in keys]), tuple(counters.items()), everyone)
    same_place = old.last_activity_at == new.last_activity_at
    if (
        old.status is new.status
        and old.unread == new.unread
        and old.assignees == new.assignees
        and old.read_overrides == new.read_overrides
    ):
        if old.starred_by == new.starred_by:
            if same_place:
                return NO_TAB_CHANGES  # a snooze, a star that changes nothing, a version bump
            # The same lists and counters, a newer place in each (a message to a conversation already
            # unread, a reply).
            was, now = place_of(old), place_of(new)
            removed, added = [], []
            for key in _lists(new, inbox):
                removed.append((key, was))
                added.append((key, now))
            return TabChanges(tuple(removed), tuple(added))
        if same_place:
            return _star_changes(old, new, inbox)
    new_keys, counters = _contributions(new, inbox)
    old_keys, old_unread = _contributions(old, inbox)
    new_place = place_of(new)
    if same_place:  # a list the conversation stays in keeps its row
        removed = [(key, new_place) for key in old_keys if key not in new_keys]
        added = [(key, new_place) for key in new_keys if key not in old_keys]
    else:
        old_place = place_of(old)
        removed = [(key, old_place) for key in old_keys]
        added = [(key, new_place) for key in new_keys]
    for key, count in old_unread.items():
        counters[key] = counters.get(key, 0) - count
    assigned: tuple[str, ...] = ()
    unassigned: tuple[str, ...] = ()
    if old.assignees != new.assignees:
        assigned = tuple(sorted([user.value for user in new.assignees - old.assignees]))
        unassigned = tuple(sorted([user.value for user in old.assignees - new.assignees]))
    return TabChanges(
        tuple(removed),
        tuple(added),
        tuple([(key, count) for key, count in counters.items() if count]),
        assigned,
        unassigned,
    )


def _star_changes(old: Conversation, new: Conversation, inbox: Inbox) -> TabChanges:
    """A star or unstar, the commonest change that moves no other list: only the Starred lists of the users
    whose star changed (the same rows ``_contributions`` would give them)."""
    inbox_id, starred, place = inbox.id.value, _STARRED, place_of(new)
    removed = [((inbox_id, starred, user.value), place) for user in old.starred_by - new.starred_by]
    added = [((inbox_id, starred, user.value), place) for user in new.starred_by - old.starred_by]
    unread = [(key, -1) for key, _ in removed if old.is_unread_for(UserId(key[2]))]
    unread += [(key, 1) for key, _ in added if new.is_unread_for(UserId(key[2]))]
    return TabChanges(tuple(removed), tuple(added), tuple(unread))


def _lists(conversation: Conversation, inbox: Inbox) -> list[RowKey]:
    """The lists ``conversation`` is in: the keys of ``_contributions``, without its counters."""
    shared, participants = placement(conversation, inbox)
    inbox_id = inbox.id.value
    keys: list[RowKey] = []
    for tab in shared:
        keys.append((inbox_id, tab._value_, ""))
    for user in participants:
        keys.append((inbox_id, _ASSIGNED_TO_YOU, user.value))
    for user in conversation.starred_by:
        keys.append((inbox_id, _STARRED, user.value))
    return keys


def _contributions(conversation: Conversation, inbox: Inbox) -> tuple[dict[RowKey, None], dict[RowKey, int]]:
    """The lists ``conversation`` is in (ordered, as a dict) and what it adds to their unread counters."""
    shared, participants = placement(conversation, inbox)
    inbox_id, unread_flag = inbox.id.value, conversation.unread
    keys: dict[RowKey, None] = {}
    unread: dict[RowKey, int] = {}
    overrides = conversation.read_overrides
    for tab in shared:
        key = (inbox_id, tab._value_, "")
        keys[key] = None
        if unread_flag:
            unread[key] = 1
        for user in overrides:
            unread[(inbox_id, tab._value_, user.value)] = -1 if unread_flag else 1
    for personal, users in ((_ASSIGNED_TO_YOU, participants), (_STARRED, conversation.starred_by)):
        for user in users:
            key = (inbox_id, personal, user.value)
            keys[key] = None
            if unread_flag != (bool(overrides) and user in overrides):  # nearly always none: no hash
                unread[key] = 1
    return keys, unread

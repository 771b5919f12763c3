"""Which tabs list a conversation: the one definition that listings, badges and the indexes that maintain
them all use.

Some tabs are the same for everyone who can see the inbox (All open, Unassigned, Closed); the others are
personal (Assigned to You, Starred). In a single-user inbox the owner is the participant of every
conversation, so its open conversations are the owner's "Assigned to You" and it never has "Unassigned"
ones. Whether a user may see an inbox at all is the application service's concern, not this one's.
"""

from __future__ import annotations

import enum

import attrs

from convostate._core.ids import UserId
from convostate._core.model import Conversation, Inbox, Status


class Tab(enum.Enum):
    ASSIGNED_TO_YOU = "assigned_to_you"
    """Open conversations the user is a participant of."""
    UNASSIGNED = "unassigned"
    """Open conversations with no participant."""
    CLOSED = "closed"
    STARRED = "starred"
    """Conversations the user starred, whatever their status."""
    ALL_OPEN = "all_open"

    @property
    def is_personal(self) -> bool:
        """Personal tabs differ from user to user; the others are shared by everyone who sees the inbox."""
        return self in (Tab.ASSIGNED_TO_YOU, Tab.STARRED)


@attrs.frozen
class Listing:
    """Where a conversation is listed: its shared tabs, and per personal tab the users who see it there."""

    shared: frozenset[Tab]
    personal: tuple[tuple[Tab, frozenset[UserId]], ...]


_OPEN_WITH_PARTICIPANTS: frozenset[Tab] = frozenset({Tab.ALL_OPEN})
_OPEN_WITHOUT: frozenset[Tab] = frozenset({Tab.ALL_OPEN, Tab.UNASSIGNED})
_CLOSED: frozenset[Tab] = frozenset({Tab.CLOSED})
_NOBODY: frozenset[UserId] = frozenset()


def placement(conversation: Conversation, inbox: Inbox) -> tuple[frozenset[Tab], frozenset[UserId]]:
    """The rule itself: the shared tabs that list ``conversation``, and the users whose Assigned to You
    lists it (Starred lists it for ``conversation.starred_by``, whatever its status). ``listing`` says the
    same as a value; ``tab_changes`` calls this on every write, without building one."""
    if conversation.status is Status.OPEN:
        participants = conversation.participants(inbox)
        return (_OPEN_WITH_PARTICIPANTS if participants else _OPEN_WITHOUT), participants
    return _CLOSED, _NOBODY


def listing(conversation: Conversation, inbox: Inbox) -> Listing:
    shared, participants = placement(conversation, inbox)
    return Listing(shared, ((Tab.ASSIGNED_TO_YOU, participants), (Tab.STARRED, conversation.starred_by)))


def tabs_of(conversation: Conversation, inbox: Inbox, user_id: UserId) -> frozenset[Tab]:
    """The tabs of ``user_id`` that list ``conversation``."""
    where = listing(conversation, inbox)
    return where.shared | {tab for tab, users in where.personal if user_id in users}

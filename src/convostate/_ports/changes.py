"""A change set: everything one action changes, which a store commits as one unit of work or not at all.

The application service builds it with no I/O (the core decides, the rules run, the tab changes and timers
are worked out) and hands it to :meth:`Store.commit`. The store checks every expectation in it (versions,
rotation counts, ids not taken, a delivery not seen) before it writes anything, so a refused change set
leaves the store exactly as it was; two writers racing on the same data cannot both commit.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import attrs

from convostate._core.analytics.facts import Fact
from convostate._core.errors import InvalidInput
from convostate._core.events import Event
from convostate._core.ids import ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.rules.engine import Timer
from convostate._core.tab_changes import NO_TAB_CHANGES, TabChanges
from convostate._ports.records import OutgoingEmail


class ConversationChange(NamedTuple):
    """A conversation's new state and the events that led to it from ``expected_version``.

    ``timers`` replace the conversation's timers (any claim on them ends with them); ``tabs`` is what the
    change does to the tab lists and counters; ``facts`` what it adds to the analytics (a store adds them
    up: :class:`~convostate.ports.Analytics`). With no events, only the timers are replaced, and the
    stored version must still be ``expected_version``.
    """

    state: Conversation
    events: tuple[Event, ...]
    expected_version: int
    timers: tuple[Timer, ...] = ()
    tabs: TabChanges = NO_TAB_CHANGES
    facts: tuple[Fact, ...] = ()

    def check_follows(self) -> None:
        """Refuse a change that contradicts itself: its new version must be ``expected_version`` plus
        its events (every store, and a batch, checks this the same way)."""
        if self.state.version != self.expected_version + len(self.events):
            raise InvalidInput(
                f"version {self.state.version} does not follow {self.expected_version} plus "
                f"{len(self.events)} events"
            )


@attrs.frozen
class RotationTurns:
    """A round-robin rule gave turns: its count goes from ``expected`` (what the decision read) to
    ``count``. Stored as a compare-and-set, so two workers never hand out the same turn."""

    rule_id: RuleId
    expected: int
    count: int


@attrs.frozen
class DirectoryChange:
    """Users added, inboxes saved (new or changed), new settings and users whose availability changed, all
    under one directory version."""

    users: tuple[User, ...] = ()
    inboxes: tuple[Inbox, ...] = ()
    settings: AccountSettings | None = None
    availability: tuple[User, ...] = ()
    """Users already in the directory, saved again with a new ``availability``: the same id and email (a
    store refuses any other change, and an unknown id, with InvalidInput)."""


@attrs.frozen
class ExternalDelivery:
    """A provider's message id delivered to an inbox, recorded with the conversation it went to, so that a
    redelivered webhook is recognised (:class:`~convostate.DuplicateDelivery`) and changes nothing."""

    inbox_id: InboxId
    external_id: str
    conversation_id: ConversationId


@attrs.frozen
class AssignmentsSeen:
    """The conversations of an inbox a user was assigned to when the change was decided: the commit is
    refused if they are not the same any more. Removing a member rests on it, so an assignment that lands
    between the removal's read and its commit makes the removal decide again (and unassign that one too)."""

    user_id: UserId
    inbox_id: InboxId
    conversation_ids: frozenset[ConversationId]


@attrs.frozen
class RewrittenEvent:
    """A stored event replaced by its erased form: the ``version``-th event (from 1) of the conversation."""

    conversation_id: ConversationId
    version: int
    event: Event


@attrs.frozen
class Erasure:
    """What an erasure (or a retention sweep) rewrites of what is stored already, unlike every other change,
    which only appends: the erased contact record, events with their personal text replaced, and outbox
    emails replaced. The core says what the erased values are (``convostate.privacy``); a store only
    writes them, in the same transaction as the rest of the change set.

    ``conversations`` are the versions the erasure read: the commit is refused with
    :class:`~convostate.ConcurrencyConflict` if any of them moved on since (a message landed in between),
    or, with a ``contact``, if they are not all of the contact's conversations any more (its first message
    to another inbox started one), so the erasure is decided again and covers it. A rewrite leaves each
    conversation's version as it is.
    """

    contact: Contact | None = None
    """The contact's erased record, replacing the stored one (its phone and email no longer find it);
    None when no contact is erased (retention)."""
    conversations: tuple[tuple[ConversationId, int], ...] = ()
    events: tuple[RewrittenEvent, ...] = ()
    emails: tuple[OutgoingEmail, ...] = ()
    """Outbox emails saved over the stored ones of the same id, whatever their status."""
    emails_of: tuple[ConversationId, ...] = ()
    """The conversations whose emails the erasure read: ``emails`` must be every email of the outbox for
    them, or the commit is refused with :class:`~convostate.ConcurrencyConflict` (an export queued since
    the erasure read the outbox is erased too when it is decided again)."""


class ChangeSet(NamedTuple):
    """One action's whole change. (Like :class:`ConversationChange`, an immutable named tuple: one is made
    for every action, and a tuple is the cheapest value to make; change one with ``_replace``.)

    ``directory_version`` is the version of the directory (users, inboxes, settings) the change was
    decided on; None when it read none. The commit is refused with
    :class:`~convostate.ConcurrencyConflict` if the directory moved on since, so a decision never rests on a
    membership or a setting that has changed. A ``directory`` change moves the version on by one.
    ``conversations`` are applied in order (a rule's linked conversation after the one that opened it).
    """

    conversations: tuple[ConversationChange, ...] = ()
    directory_version: int | None = None
    directory: DirectoryChange | None = None
    contacts: tuple[Contact, ...] = ()
    rotations: tuple[RotationTurns, ...] = ()
    deliveries: tuple[ExternalDelivery, ...] = ()
    """The provider message ids the change delivers (one for a message; many for a batch), each to be
    recorded once: a store refuses the whole change set if any was delivered before."""
    emails: tuple[OutgoingEmail, ...] = ()
    assignments_seen: tuple[AssignmentsSeen, ...] = ()
    erasure: Erasure | None = None
    """Stored values rewritten in their erased form (:class:`Erasure`); None for every other action."""

    @property
    def is_empty(self) -> bool:
        """Whether committing it would change nothing at all (a no-op action commits nothing)."""
        return not (
            self.conversations
            or self.directory
            or self.contacts
            or self.rotations
            or self.deliveries
            or self.emails
            or self.erasure
        )


EMPTY_CHANGE_SET: Final = ChangeSet()

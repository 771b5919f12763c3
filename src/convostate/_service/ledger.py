"""The store a batch decides against: what the batch has decided so far, over what the real store held.

A batch runs every action through the same :class:`ConversationService` as the facade (the specification
of what an action does), but the service reads and commits through a ledger instead of the store. The
ledger reads each user, inbox, contact, conversation and the settings from the store once, answers every
later read from what it read or from what earlier actions of the batch committed, and keeps each
conversation's events. :meth:`Ledger.change_set` then folds them into one change set: per conversation
its events and analytics facts in order and its last state, with its timers, tab rows and counters worked
out once (:meth:`Pipeline.derived`): from the state it had before the batch to the state it has after,
which is what every action's would add up to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from convostate._core.analytics.facts import Fact
from convostate._core.errors import ConcurrencyConflict
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._ports.changes import ChangeSet, ConversationChange, ExternalDelivery, RotationTurns
from convostate._ports.roles import Store, already_delivered
from convostate._service.pipeline import DeferredPipeline

_UNREAD: Final = object()
"""Not read from the store yet (None is an answer: there is none)."""


class _Pending:
    """One conversation's changes in the batch so far."""

    __slots__ = ("before", "events", "expected_version", "facts", "state")

    def __init__(self, before: Conversation | None, expected_version: int) -> None:
        self.before = before
        self.expected_version = expected_version
        self.events: list[Event] = []
        self.facts: list[Fact] = []
        self.state: Conversation | None = None


class Ledger:
    """Implements the reads a conversation action makes and :meth:`commit`; a batch hands it to the
    service as its store. Not shared between threads: its batch holds a lock around every call."""

    def __init__(self, store: Store, pipeline: DeferredPipeline) -> None:
        self._store = store
        self._pipeline = pipeline
        self._directory_version: int | None = None
        """Read before anything else (:meth:`_begin`): every read of the batch rests on it."""
        self._users: dict[UserId, User | None] = {}
        self._inboxes: dict[InboxId, Inbox | None] = {}
        self._contacts: dict[ContactId, Contact | None] = {}
        self._settings: AccountSettings | None = None
        self._conversations: dict[ConversationId, Conversation | None] = {}
        self._between: dict[tuple[ContactId, InboxId], ConversationId | None] = {}
        self._rotations: dict[RuleId, int] = {}
        self._turns: dict[RuleId, RotationTurns] = {}
        self._deliveries: dict[tuple[InboxId, str], ExternalDelivery] = {}
        self._pending: dict[ConversationId, _Pending] = {}
        self.actions = 0
        """Actions that changed something, committed to this ledger."""

    # ------------------------------------------------------------------ reads

    def _begin(self) -> int:
        """The directory version, read first, on the batch's first read: so making a batch reads nothing
        (an async host makes one on the event loop)."""
        if self._directory_version is None:
            self._directory_version = self._store.directory_version()
        return self._directory_version

    def directory_version(self) -> int:
        return self._begin()

    def user(self, user_id: UserId) -> User | None:
        found = self._users.get(user_id, _UNREAD)
        if found is _UNREAD:
            self._begin()
            found = self._users[user_id] = self._store.user(user_id)
        return found  # type: ignore[return-value]

    def inbox(self, inbox_id: InboxId) -> Inbox | None:
        found = self._inboxes.get(inbox_id, _UNREAD)
        if found is _UNREAD:
            self._begin()
            found = self._inboxes[inbox_id] = self._store.inbox(inbox_id)
        return found  # type: ignore[return-value]

    def contact(self, contact_id: ContactId) -> Contact | None:
        found = self._contacts.get(contact_id, _UNREAD)
        if found is _UNREAD:
            self._begin()
            found = self._contacts[contact_id] = self._store.contact(contact_id)
        return found  # type: ignore[return-value]

    def settings(self) -> AccountSettings:
        if self._settings is None:
            self._begin()
            self._settings = self._store.settings()
        return self._settings

    def conversation(self, conversation_id: ConversationId) -> Conversation | None:
        found = self._conversations.get(conversation_id, _UNREAD)
        if found is _UNREAD:
            self._begin()
            found = self._conversations[conversation_id] = self._store.conversation(conversation_id)
        return found  # type: ignore[return-value]

    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None:
        pair = (contact_id, inbox_id)
        found = self._between.get(pair, _UNREAD)
        if found is _UNREAD:
            self._begin()
            found = self._between[pair] = self._store.conversation_between(contact_id, inbox_id)
        return found  # type: ignore[return-value]

    def rotations(self, rule_ids: Iterable[RuleId]) -> Mapping[RuleId, int]:
        wanted = list(rule_ids)
        unread = [rule_id for rule_id in wanted if rule_id not in self._rotations]
        if unread:
            self._begin()
            self._rotations.update(self._store.rotations(unread))
        return {rule_id: self._rotations.get(rule_id, 0) for rule_id in wanted}

    # ------------------------------------------------------------------ the one write

    def commit(self, changes: ChangeSet) -> None:
        """Keep an action's changes, after the checks the store would make of them against the batch."""
        if (
            changes.directory
            or changes.contacts
            or changes.emails
            or changes.assignments_seen
            or changes.erasure is not None
        ):
            raise AssertionError("a batch holds conversation actions only")
        if changes.directory_version not in (None, self._begin()):
            raise AssertionError("a batch's actions read the directory through the batch")
        for delivery in changes.deliveries:
            first = self._deliveries.get((delivery.inbox_id, delivery.external_id))
            went_to = (
                first.conversation_id
                if first is not None
                else self._store.delivered_to(delivery.inbox_id, delivery.external_id)
            )
            if went_to is not None:
                raise already_delivered(delivery, went_to)
        for change in changes.conversations:
            self._check(change)
        for change in changes.conversations:
            self._keep(change)
        for turns in changes.rotations:
            earlier = self._turns.get(turns.rule_id)
            expected = earlier.expected if earlier is not None else turns.expected
            self._turns[turns.rule_id] = RotationTurns(turns.rule_id, expected, turns.count)
            self._rotations[turns.rule_id] = turns.count
        for delivery in changes.deliveries:
            self._deliveries[(delivery.inbox_id, delivery.external_id)] = delivery
        self.actions += 1

    def _check(self, change: ConversationChange) -> None:
        state = change.state
        current = self.conversation(state.id)
        stored_version = 0 if current is None else current.version
        if stored_version != change.expected_version:
            raise ConcurrencyConflict(
                f"conversation {state.id} is at version {stored_version} in this batch, "
                f"not {change.expected_version}"
            )
        change.check_follows()
        if current is None:
            holder = self.conversation_between(state.contact_id, state.inbox_id)
            if holder is not None and state.linked_from != holder:
                raise ConcurrencyConflict(
                    f"{state.contact_id} already has a conversation in {state.inbox_id}: {holder}"
                )

    def _keep(self, change: ConversationChange) -> None:
        state = change.state
        pending = self._pending.get(state.id)
        if pending is None:
            before = self.conversation(state.id)
            pending = self._pending[state.id] = _Pending(before, change.expected_version)
        pending.events.extend(change.events)
        pending.facts.extend(change.facts)
        pending.state = state
        if change.expected_version == 0:
            self._between[(state.contact_id, state.inbox_id)] = state.id
        self._conversations[state.id] = state

    # ------------------------------------------------------------------ the batch's change set

    def change_set(self) -> ChangeSet:
        """Everything the batch decided, as one change set for the store: it commits whole or not at all,
        and is refused (:class:`~convostate.ConcurrencyConflict`) if any conversation it read, the
        directory or a rotation count moved on since."""
        conversations: list[ConversationChange] = []
        last = self._pipeline.last
        for conversation_id, pending in self._pending.items():
            state = pending.state
            assert state is not None
            loaded, context = last[conversation_id]
            timers, tabs = self._pipeline.derived(loaded._replace(state=pending.before), state, context)
            conversations.append(
                ConversationChange(
                    state,
                    tuple(pending.events),
                    pending.expected_version,
                    timers,
                    tabs,
                    tuple(pending.facts),
                )
            )
        return ChangeSet(
            tuple(conversations),
            self._begin(),
            rotations=tuple(self._turns.values()),
            deliveries=tuple(self._deliveries.values()),
        )

    @property
    def conversations(self) -> int:
        """Conversations the batch changed."""
        return len(self._pending)

    @property
    def events(self) -> int:
        return sum(len(pending.events) for pending in self._pending.values())

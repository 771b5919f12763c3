"""Many conversation actions, committed as one unit of work: for a host importing history from another
helpdesk, a nightly sync, or a notebook simulating traffic.

Each action is decided at once, by the same service and rules as :class:`~convostate.Helpdesk`, so it
returns the same :class:`~convostate.Outcome` and raises the same errors; what it changes waits in the
batch (:mod:`convostate._service.ledger`) until :meth:`Batch.commit`, which writes it all in one commit
(one transaction on a SQL store) with each conversation's rows written once, however many actions touched
it. The store holds exactly what the same calls on the helpdesk, one by one, would have left: a property
test checks states, histories, tabs, badges, timers and analytics on random streams.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar, cast

import attrs
import pendulum

from convostate._core.commands import Command
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._core.instants import PENDULUM_EPOCH
from convostate._core.validate import aware_datetime
from convostate._ports.roles import Clock, IdGenerator, Store
from convostate._service.access import Access
from convostate._service.conversations import ConversationService
from convostate._service.ledger import Ledger
from convostate._service.pipeline import DeferredPipeline, Pipeline
from convostate._service.results import Outcome
from convostate._service.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from types import TracebackType

T = TypeVar("T")


@attrs.frozen
class Committed:
    """What one :meth:`Batch.commit` wrote."""

    actions: int
    """The batch's actions that changed something."""
    conversations: int
    """The conversations they changed (each written once)."""
    events: int


class _ActionClock:
    """Reads the instant of the action being decided: ``at=``, or the helpdesk's clock when not given."""

    __slots__ = ("instant",)

    def __init__(self) -> None:
        self.instant = PENDULUM_EPOCH  # set before every action

    def now(self) -> pendulum.DateTime:
        return self.instant


class Batch:
    """Conversation actions decided now and committed together: :meth:`Helpdesk.batch`.

    Use it as a context manager, which commits on leaving (and discards everything if the block raises),
    or call :meth:`commit` every few thousand actions of a long import. Every action takes ``at=``, the
    instant it happened (an import's history), defaulting to the helpdesk's clock.

    Until it commits, nothing of the batch is in the store: the helpdesk's reads (tabs, history, badges)
    do not see it. The commit is refused whole, with :class:`~convostate.ConcurrencyConflict` and
    nothing written, when another writer changed one of the batch's conversations, the account's users,
    inboxes or settings, or a round-robin count since the batch read them; the batch then starts afresh and
    the host runs those actions again. A message delivered before (its ``external_id`` is in the store or
    earlier in the batch) changes nothing and returns the conversation it went to, as on the helpdesk, so
    an import can be run again from its start. A batch is used by one thread at a time (a lock makes sure);
    several threads or workers each run their own.
    """

    def __init__(
        self, *, store: Store, clock: Clock, ids: IdGenerator, pipeline: Pipeline, attempts: int
    ) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._pipeline = pipeline
        self._attempts = attempts
        self._lock = threading.Lock()
        self._action_clock = _ActionClock()
        self._start()

    def _start(self) -> None:
        pipeline = DeferredPipeline(self._pipeline.rules, self._pipeline.max_depth)
        ledger = Ledger(self._store, pipeline)
        as_store = cast(Store, ledger)  # the ledger implements the reads a conversation action makes
        access = Access(as_store)
        self._ledger = ledger
        self._service = ConversationService(
            store=as_store,
            work=UnitOfWork(as_store, self._attempts),
            clock=self._action_clock,
            ids=self._ids,
            access=access,
            pipeline=pipeline,
        )

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    @property
    def pending(self) -> int:
        """The actions decided since the last commit that changed something."""
        return self._ledger.actions

    def commit(self) -> Committed:
        """Write every action decided since the last commit, as one unit of work, and start afresh.

        Raises:
            ConcurrencyConflict: another writer changed what the batch read; nothing was written and the
                batch's actions since the last commit are dropped.
            DuplicateDelivery: another writer delivered one of the batch's messages since the batch
                decided it; nothing was written and the actions are dropped.
        """
        with self._lock:
            ledger = self._ledger
            committed = Committed(ledger.actions, ledger.conversations, ledger.events)
            try:
                if ledger.actions:
                    self._store.commit(ledger.change_set())
            finally:
                self._start()
            return committed

    def discard(self) -> None:
        """Drop every action decided since the last commit."""
        with self._lock:
            self._start()

    # ------------------------------------------------------------------ actions, as on Helpdesk

    def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        at: datetime | None = None,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        return self._decide(
            at,
            lambda: self._service.receive(
                contact_id, inbox_id, body, external_id=external_id, sent_at=sent_at
            ),
        )

    def reply(
        self,
        conversation_id: ConversationId,
        body: str,
        *,
        by: UserId,
        at: datetime | None = None,
        external_id: str | None = None,
    ) -> Outcome:
        return self._decide(
            at, lambda: self._service.reply(conversation_id, body, by=by, external_id=external_id)
        )

    def assign(
        self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return self._decide(at, lambda: self._service.assign(conversation_id, user_id, by=by))

    def unassign(
        self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return self._decide(at, lambda: self._service.unassign(conversation_id, user_id, by=by))

    def close(self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None) -> Outcome:
        return self._decide(at, lambda: self._service.close(conversation_id, by=by))

    def reopen(self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None) -> Outcome:
        return self._decide(at, lambda: self._service.reopen(conversation_id, by=by))

    def snooze(
        self, conversation_id: ConversationId, until: datetime, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return self._decide(at, lambda: self._service.snooze(conversation_id, until, by=by))

    def unsnooze(self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None) -> Outcome:
        return self._decide(at, lambda: self._service.unsnooze(conversation_id, by=by))

    def star(self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None) -> Outcome:
        return self._decide(at, lambda: self._service.star(conversation_id, by=by))

    def unstar(self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None) -> Outcome:
        return self._decide(at, lambda: self._service.unstar(conversation_id, by=by))

    def mark_read(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return self._decide(at, lambda: self._service.mark_read(conversation_id, by=by))

    def mark_unread(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return self._decide(at, lambda: self._service.mark_unread(conversation_id, by=by))

    def execute(self, command: Command, *, at: datetime | None = None) -> Outcome:
        """Run any core command, with the checks :meth:`Helpdesk.execute` makes."""
        return self._decide(at, lambda: self._service.execute(command))

    def _decide(self, at: datetime | None, action: Callable[[], T]) -> T:
        instant = self._clock.now() if at is None else aware_datetime(at)
        with self._lock:
            self._action_clock.instant = instant
            return action()

"""The asyncio face of :class:`~convostate.Batch`: each action awaitable, run where the helpdesk runs its
calls (a greenlet on the loop for an asyncio engine, a worker thread otherwise), so that an import does
not block the event loop while the batch reads what it has not read yet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from convostate._batch import Batch, Committed
from convostate._core.commands import Command
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._service.results import Outcome

if TYPE_CHECKING:
    from types import TracebackType

T = TypeVar("T")
Call = Callable[..., Awaitable[Any]]


class AsyncBatch:
    """``async with desk.batch() as batch: await batch.receive(...)``: commits on leaving, discards if the
    block raises. The same actions, results and errors as :class:`~convostate.Batch`."""

    def __init__(self, batch: Batch, call: Call) -> None:
        self._batch = batch
        self._call = call

    async def __aenter__(self) -> AsyncBatch:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            await self.commit()
        else:
            self.discard()

    @property
    def pending(self) -> int:
        return self._batch.pending

    async def commit(self) -> Committed:
        result: Committed = await self._call(self._batch.commit)
        return result

    def discard(self) -> None:
        self._batch.discard()

    async def _act(self, action: Callable[..., Outcome], /, *args: Any, **kwargs: Any) -> Outcome:
        outcome: Outcome = await self._call(action, *args, **kwargs)
        return outcome

    async def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        at: datetime | None = None,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        return await self._act(
            self._batch.receive, contact_id, inbox_id, body, at=at, external_id=external_id, sent_at=sent_at
        )

    async def reply(
        self,
        conversation_id: ConversationId,
        body: str,
        *,
        by: UserId,
        at: datetime | None = None,
        external_id: str | None = None,
    ) -> Outcome:
        return await self._act(
            self._batch.reply, conversation_id, body, by=by, at=at, external_id=external_id
        )

    async def assign(
        self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.assign, conversation_id, user_id, by=by, at=at)

    async def unassign(
        self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.unassign, conversation_id, user_id, by=by, at=at)

    async def close(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.close, conversation_id, by=by, at=at)

    async def reopen(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.reopen, conversation_id, by=by, at=at)

    async def snooze(
        self, conversation_id: ConversationId, until: datetime, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.snooze, conversation_id, until, by=by, at=at)

    async def unsnooze(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.unsnooze, conversation_id, by=by, at=at)

    async def star(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.star, conversation_id, by=by, at=at)

    async def unstar(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.unstar, conversation_id, by=by, at=at)

    async def mark_read(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.mark_read, conversation_id, by=by, at=at)

    async def mark_unread(
        self, conversation_id: ConversationId, *, by: UserId, at: datetime | None = None
    ) -> Outcome:
        return await self._act(self._batch.mark_unread, conversation_id, by=by, at=at)

    async def execute(self, command: Command, *, at: datetime | None = None) -> Outcome:
        return await self._act(self._batch.execute, command, at=at)

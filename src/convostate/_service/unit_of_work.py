"""The one place where an action is retried: load and decide, commit, and on a lost race do both again.

Every action of the facade is an ``attempt``: a function that loads what it needs, runs the pipeline (no
I/O) and returns the change set with the result to give back. The store commits the change set whole or
not at all; when someone else committed first (:class:`~convostate.ConcurrencyConflict`), the attempt is
run again on fresh state, so a retry keeps what the other writer saved and never records a change twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from convostate._core.errors import ConcurrencyConflict
from convostate._core.ids import ConversationId
from convostate._ports.changes import EMPTY_CHANGE_SET, ChangeSet
from convostate._ports.roles import DuplicateDelivery, Store

T = TypeVar("T")

DEFAULT_ATTEMPTS: Final = 5
"""How many times an action re-decides on fresh state after losing a race before it gives up."""

Attempt = Callable[[], tuple[ChangeSet, T]]


class UnitOfWork:
    def __init__(self, store: Store, attempts: int = DEFAULT_ATTEMPTS) -> None:
        self.store = store
        self.attempts = attempts

    def run(
        self,
        attempt: Attempt[T],
        what: object,
        *,
        duplicate: Callable[[ConversationId], T] | None = None,
    ) -> T:
        """Run ``attempt`` and commit its change set, again on fresh state after each lost race.

        ``duplicate`` gives the result when the store reports a message already delivered (a redelivered
        webhook): nothing was committed, and it is not an error.

        ``what`` names what is changed in the error (a conversation's id, or a description); its text is
        only made then, off the hot path.

        Raises:
            ConcurrencyConflict: ``what`` kept changing for ``attempts`` tries; nothing was committed.
        """
        for _ in range(self.attempts):
            changes, result = attempt()
            if changes is EMPTY_CHANGE_SET or (not changes.conversations and changes.is_empty):
                return result
            try:
                self.store.commit(changes)
            except ConcurrencyConflict:
                continue
            except DuplicateDelivery as delivered:
                if duplicate is None:
                    raise
                return duplicate(delivered.conversation_id)
            return result
        subject = f"conversation {what}" if isinstance(what, ConversationId) else str(what)
        raise ConcurrencyConflict(f"{subject} kept changing under us; gave up after {self.attempts} tries")

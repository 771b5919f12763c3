"""Time rules: what is due, and a sweep that fires each due timer once, however many workers sweep.

A worker claims the timers it fires (a lease, so a worker that dies leaves them to another after
``TIMER_CLAIM``), and each firing is one unit of work on the conversation, committed at the version it
read: two workers that fire the same timer cannot both act, and the loser re-checks the fresh state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import pendulum

from convostate._core.ids import ConversationId
from convostate._core.rules.engine import RuleLoop, Timer
from convostate._core.validate import at_least_one, aware_datetime
from convostate._ports.changes import EMPTY_CHANGE_SET, ChangeSet
from convostate._ports.records import DueTimer
from convostate._ports.roles import Clock, Store
from convostate._service.access import Access
from convostate._service.conversations import ConversationService
from convostate._service.pipeline import Pipeline
from convostate._service.results import Outcome, StuckTimer, Sweep
from convostate._service.unit_of_work import UnitOfWork

TIMER_CLAIM: Final = pendulum.duration(minutes=5)
"""How long a sweep holds the timers it claimed: past that, another worker may fire them."""


class TimerService:
    def __init__(
        self,
        *,
        store: Store,
        work: UnitOfWork,
        clock: Clock,
        access: Access,
        pipeline: Pipeline,
        conversations: ConversationService,
    ) -> None:
        self._store = store
        self._work = work
        self._clock = clock
        self._access = access
        self._pipeline = pipeline
        self._conversations = conversations

    def due(self, now: datetime | None = None, *, limit: int = 100) -> list[DueTimer]:
        at = aware_datetime(now) if now is not None else self._clock.now()
        at_least_one("limit", limit, "100")
        return list(self._store.due(at, limit=limit))

    def run_due(self, now: datetime | None = None, *, batch: int = 100, rounds: int | None = None) -> Sweep:
        """Fire what is due, ``batch`` claims at a time, until nothing is (or for at most ``rounds``
        claims: a sweep across accounts gives each its share and comes back on its next pass)."""
        at = aware_datetime(now) if now is not None else aware_datetime(self._clock.now())
        at_least_one("batch", batch, "100")
        left = rounds
        acted: list[Outcome] = []
        stuck: dict[DueTimer, StuckTimer] = {}
        firings: dict[ConversationId, int] = {}
        # Each round claims the oldest due timers nobody holds; a timer that acting makes due is claimed by
        # a later round. A stuck timer stays claimed by this sweep until it ends, so no round fires it again.
        while (left is None or left > 0) and (
            claimed := self._store.claim_due(at, limit=batch, until=at + TIMER_CLAIM)
        ):
            left = None if left is None else left - 1
            for timer in claimed:
                if timer in stuck:
                    continue
                firings[timer.conversation_id] = firings.get(timer.conversation_id, 0) + 1
                if firings[timer.conversation_id] > self._pipeline.max_depth:
                    reason = f"time rules fired {self._pipeline.max_depth} times on it in one sweep: a loop"
                    stuck[timer] = StuckTimer(timer, reason)
                    continue
                try:
                    outcome, still_due = self._fire(timer)
                except RuleLoop as loop:
                    stuck[timer] = StuckTimer(timer, str(loop))
                    continue
                if outcome is not None and outcome.changed:
                    acted.append(outcome)
                if still_due:
                    reason = f"rule {timer.rule_id} still matches after acting: it must change what it checks"
                    stuck[timer] = StuckTimer(timer, reason)
        self._store.release(list(stuck))  # reported by every sweep, not hidden until the claims end
        return Sweep(tuple(acted), tuple(stuck.values()))

    def _fire(self, due: DueTimer) -> tuple[Outcome | None, bool]:
        timer = Timer(due.rule_id, due.due_at)

        def attempt() -> tuple[ChangeSet, tuple[Outcome | None, bool]]:
            directory_version = self._store.directory_version()
            state = self._store.conversation(due.conversation_id)
            if state is None:
                return EMPTY_CHANGE_SET, (None, False)
            inbox = self._access.inbox(state.inbox_id)
            loaded = self._conversations.loaded(state, inbox, self._store.settings())
            turns = self._conversations.turns()
            outcome, changes, still_due = self._pipeline.timer(loaded, timer, turns)
            change_set = ChangeSet(tuple(changes), directory_version, rotations=turns.taken())
            return change_set, (outcome, still_due)

        return self._work.run(attempt, f"conversation {due.conversation_id} (firing {due.rule_id})")

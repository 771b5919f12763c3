"""Clocks: the system's, and a manual one for tests, notebooks and the quickstart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum

from convostate._core.errors import InvalidInput
from convostate._core.validate import aware_datetime


def _in_own_zone(value: datetime) -> pendulum.DateTime:
    """Checked like any input, but kept in its own zone, so ``advance(days=6)`` counts the days a person in
    that zone would (the core converts every instant to UTC when it reads the clock)."""
    aware_datetime(value)
    return value if isinstance(value, pendulum.DateTime) else pendulum.instance(value)


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


class ManualClock:
    """A clock that moves only when told to, so a test can land exactly on a reopen window's edge."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _in_own_zone(start) if start is not None else pendulum.datetime(2026, 1, 1, tz="UTC")

    def now(self) -> pendulum.DateTime:
        return self._now

    def set(self, instant: datetime) -> pendulum.DateTime:
        """Move to ``instant``. Time may not run backwards: an earlier instant raises InvalidInput."""
        moved = _in_own_zone(instant)
        if moved < self._now:
            raise InvalidInput(f"the clock is at {self._now}; it cannot go back to {moved}")
        self._now = moved
        return moved

    def advance(self, by: timedelta | None = None, **units: float) -> pendulum.DateTime:
        """Move forward by a timedelta or by pendulum units (``advance(days=6)``, ``advance(hours=1)``)."""
        if by is not None and units:
            raise InvalidInput("pass either a timedelta or units such as days=6, not both")
        if by is not None:
            if not isinstance(by, timedelta):
                raise InvalidInput(f"advance() takes a timedelta, got {type(by).__name__}")
            moved = self._now + by
        else:
            moved = self._now.add(**units)  # type: ignore[arg-type]
        return self.set(moved)

"""Instant arithmetic in C, for the paths every action takes.

pendulum's ``-`` builds an ``Interval`` and ``pendulum.instance`` works out offsets in Python, each a
hundred times the cost of the standard library's own operators. These are those operators, typed: they keep
the left operand's class and zone, so pendulum's UTC epoch plus a ``timedelta`` is a pendulum ``DateTime``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Final, cast

import pendulum

UTC_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
PENDULUM_EPOCH: Final = pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)

plus: Final = cast("Callable[[pendulum.DateTime, timedelta], pendulum.DateTime]", datetime.__add__)
"""``instant + duration`` as the standard library adds: a pendulum ``DateTime`` in, one out, in C."""
elapsed: Final = cast("Callable[[datetime, datetime], timedelta]", datetime.__sub__)
"""``later - earlier`` as a plain ``timedelta``, exact whatever the two zones."""


def utc_instant(microseconds: int) -> pendulum.DateTime:
    """The UTC instant ``microseconds`` after the epoch, exactly (no float on the way)."""
    return plus(PENDULUM_EPOCH, timedelta(microseconds=microseconds))

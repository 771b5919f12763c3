"""Count, mean, median and 90th percentile of measured durations: exact from samples (a contact's), and
within 1.6% from histogram buckets (a report's, which must not read every sample of a month).

A bucket keeps the count and the sum of its durations, and stands for their mean: always inside the
bucket, and exact when they are equal (one reply, or replies to the second).

Percentiles are nearest-rank: the p-th percentile of n durations is the smallest one that at least p% of
them do not exceed (the ``ceil(p/100 * n)``-th in order), so it is always a duration that was measured, and
needs no interpolation that a histogram could not reproduce.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import timedelta

import attrs

EXACT_BELOW_SECONDS = 64
"""Durations under this many seconds each have a bucket of their own, so they are reported exactly."""
_SUB_BUCKETS = 32
"""Buckets per doubling above that: a bucket is at most 1/32 of its lower bound wide, so any two durations
in it are within 3.2% of each other, and the mean of a bucket within 1/32 of each of them."""


def bucket_of(micros: int) -> int:
    """The histogram bucket of a duration: monotonic, exact per second below a minute, then 32 per
    doubling (1 h: 64-second buckets; 1 day: 34-minute buckets)."""
    seconds = micros // 1_000_000
    if seconds < EXACT_BELOW_SECONDS:
        return seconds
    shift = seconds.bit_length() - 6
    return _SUB_BUCKETS * shift + (seconds >> shift)


@attrs.frozen
class DurationStats:
    """How long something took, over ``count`` measurements (None each when there are none)."""

    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, samples: Iterable[int]) -> DurationStats:
        """Exact statistics of durations in microseconds."""
        ordered = sorted(samples)
        if not ordered:
            return NO_DURATIONS
        count = len(ordered)
        return cls(
            count,
            _delta(sum(ordered) // count),
            _delta(ordered[_rank(50, count)]),
            _delta(ordered[_rank(90, count)]),
        )

    @classmethod
    def of_histogram(
        cls, count: int, total_micros: int, buckets: Mapping[int, tuple[int, int]]
    ) -> DurationStats:
        """Statistics from a count, an exact sum and each bucket's count and sum: the mean is exact, each
        percentile the mean of the bucket that holds it."""
        if count == 0:
            return NO_DURATIONS
        median, p90 = _bucket_percentiles(buckets, _rank(50, count), _rank(90, count))
        return cls(count, _delta(total_micros // count), _delta(median), _delta(p90))


NO_DURATIONS = DurationStats(0, None, None, None)


def _rank(percent: int, count: int) -> int:
    """The 0-based index of the nearest-rank percentile."""
    return max(math.ceil(percent * count / 100), 1) - 1


def _bucket_percentiles(buckets: Mapping[int, tuple[int, int]], lower: int, upper: int) -> tuple[int, int]:
    """The values at two ranks (``lower <= upper``), in one walk up the buckets."""
    seen, found = 0, -1
    for bucket in sorted(buckets):
        count, total = buckets[bucket]
        seen += count
        if found < 0 and seen > lower:
            found = total // count
        if seen > upper:
            return found, total // count
    raise ValueError(f"the buckets hold {seen} durations, fewer than the count says")


def _delta(micros: int) -> timedelta:
    return timedelta(microseconds=micros)

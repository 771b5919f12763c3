"""The core's fast paths give exactly what the paths they skip give.

``CalendarDuration.end`` adds in C on UTC's wall clock and remembers every other zone's answers; both must
be the very instant (same value, zone object and fold) that the general path computes, or the same error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from convostate._core.timing import CalendarDuration

ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Etc/UTC")

durations = st.builds(
    CalendarDuration,
    years=st.sampled_from([0, 0, 0, 1]),
    months=st.sampled_from([0, 0, 0, 1, 13]),
    weeks=st.integers(0, 3),
    days=st.integers(0, 40),
    hours=st.integers(0, 72),
    minutes=st.integers(0, 120),
    seconds=st.integers(0, 4000),
)
starts = st.builds(
    lambda micros, fold: (
        pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC).add(microseconds=micros)
        if not fold
        else (pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC) + timedelta(microseconds=micros)).replace(
            fold=1
        )
    ),
    st.integers(0, 200 * 365 * 86_400 * 10**6),
    st.booleans(),
)


def _outcome(call: Callable[[], pendulum.DateTime]) -> object:
    try:
        result = call()
    except Exception as error:  # the error itself is what is compared
        return ("error", type(error), str(error))
    return ("instant", result, repr(result), type(result), result.tzinfo, result.fold)


@settings(max_examples=400)
@given(durations, starts, st.sampled_from(ZONES))
def test_calendar_end_fast_and_cached_paths_match_the_general_one(
    duration: CalendarDuration, start: pendulum.DateTime, zone: str
) -> None:
    general = _outcome(lambda: duration._end(start, zone))
    assert _outcome(lambda: duration.end(start, zone)) == general
    assert _outcome(lambda: duration.end(start, zone)) == general  # again: from the cache


@given(durations, st.sampled_from(ZONES))
def test_out_of_range_starts_fail_as_before(duration: CalendarDuration, zone: str) -> None:
    start = pendulum.DateTime(9000, 1, 1, tzinfo=pendulum.UTC)
    assert _outcome(lambda: duration.end(start, zone)) == _outcome(lambda: duration._end(start, zone))

"""CalendarDuration, the type of the reopen window.

DESIGN.md, "Reopen timing": "The window is a calendar duration in the account's time zone (a week
across a DST change is 167 or 169 hours), set per account". Calendar units (years, months, weeks,
days) move the wall clock of the time zone; exact units (hours, minutes, seconds) add elapsed time.
It reads and writes ISO 8601 durations of whole units.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import CalendarDuration, InvalidInput
from convostate._core.timing import epoch_microseconds

NEW_YORK = "America/New_York"
UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("P1W", CalendarDuration(weeks=1)),
        ("P2D", CalendarDuration(days=2)),
        ("PT48H", CalendarDuration(hours=48)),
        ("PT90M", CalendarDuration(minutes=90)),
        ("P1M", CalendarDuration(months=1)),
        ("P1DT1H", CalendarDuration(days=1, hours=1)),
        (
            "P1Y2M3W4DT5H6M7S",
            CalendarDuration(years=1, months=2, weeks=3, days=4, hours=5, minutes=6, seconds=7),
        ),
    ],
)
def test_an_iso_8601_duration_parses_and_round_trips_through_str(
    text: str, duration: CalendarDuration
) -> None:
    assert CalendarDuration.parse(text) == duration
    assert str(duration) == text
    assert CalendarDuration.parse(str(duration)) == duration


def test_the_empty_duration_is_written_pt0s_and_reads_back() -> None:
    assert str(CalendarDuration()) == "PT0S"
    assert CalendarDuration.parse("PT0S") == CalendarDuration()


def test_48_hours_and_2_days_are_different_durations() -> None:
    assert CalendarDuration.parse("PT48H") != CalendarDuration.parse("P2D")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "1W",
        "P1.5D",
        "P-1D",
        "P1DT",
        "p1w",
        "P1W ",
        "P1H",
        "PT1D",
        "P1D1W",
        "one week",
    ],
)
def test_a_string_that_is_not_an_iso_8601_duration_of_whole_units_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"not an ISO 8601 duration.*'P1W'"):
        CalendarDuration.parse(text)


def test_digits_other_than_ascii_are_not_iso_8601() -> None:
    # "P" + ARABIC-INDIC DIGIT ONE + "W": Python's \d matches it and int() reads it as 1.
    with pytest.raises(InvalidInput, match="not an ISO 8601 duration"):
        CalendarDuration.parse("P\u0661W")


def test_parse_refuses_what_is_not_a_string() -> None:
    value: Any = 7
    with pytest.raises(InvalidInput, match="not an ISO 8601 duration"):
        CalendarDuration.parse(value)


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("value", [-1, 1.5, "1", True, None], ids=repr)
def test_a_field_that_is_not_a_whole_number_from_zero_up_is_refused(unit: str, value: Any) -> None:
    with pytest.raises(InvalidInput, match=rf"CalendarDuration\.{unit} must be a whole number"):
        CalendarDuration(**{unit: value})


def test_invalid_input_from_a_duration_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="whole number"):
        CalendarDuration(days=-2)


# ---------------------------------------------------------------- end()


def test_a_week_across_spring_forward_ends_at_the_same_wall_clock_time_167_hours_later() -> None:
    start = pendulum.datetime(2026, 3, 5, 12, tz=NEW_YORK)

    end = CalendarDuration(weeks=1).end(start, NEW_YORK)

    assert end == pendulum.datetime(2026, 3, 12, 12, tz=NEW_YORK)
    assert end - start == timedelta(hours=167)


def test_a_week_across_fall_back_ends_at_the_same_wall_clock_time_169_hours_later() -> None:
    start = pendulum.datetime(2026, 10, 29, 12, tz=NEW_YORK)

    end = CalendarDuration(weeks=1).end(start, NEW_YORK)

    assert end == pendulum.datetime(2026, 11, 5, 12, tz=NEW_YORK)
    assert end - start == timedelta(hours=169)


def test_a_week_in_utc_is_168_hours() -> None:
    start = pendulum.datetime(2026, 3, 5, 12, tz="UTC")

    assert CalendarDuration(weeks=1).end(start, "UTC") - start == timedelta(hours=168)


@pytest.mark.parametrize(
    ("duration", "elapsed"),
    [
        (CalendarDuration(days=2), timedelta(hours=47)),
        (CalendarDuration(hours=48), timedelta(hours=48)),
        (CalendarDuration(days=1, hours=24), timedelta(hours=47)),
        (CalendarDuration(minutes=48 * 60), timedelta(hours=48)),
    ],
    ids=str,
)
def test_across_spring_forward_calendar_days_are_shorter_than_elapsed_hours(
    duration: CalendarDuration, elapsed: timedelta
) -> None:
    start = pendulum.datetime(2026, 3, 7, 12, tz=NEW_YORK)

    assert duration.end(start, NEW_YORK) - start == elapsed


def test_the_wall_clock_is_the_time_zones_not_the_start_instants() -> None:
    start = pendulum.datetime(2026, 3, 5, 12, tz=NEW_YORK)

    from_utc = CalendarDuration(weeks=1).end(start.in_timezone("UTC"), NEW_YORK)
    in_utc = CalendarDuration(weeks=1).end(start, "UTC")

    assert from_utc - start == timedelta(hours=167)
    assert in_utc - start == timedelta(hours=168)


@pytest.mark.parametrize("zone", [NEW_YORK, "UTC", "Asia/Kolkata"])
def test_end_returns_its_instant_in_utc_whatever_the_zones(zone: str) -> None:
    start = pendulum.datetime(2026, 3, 5, 12, tz="Europe/London")

    end = CalendarDuration(days=1, hours=1).end(start, zone)

    assert end.timezone_name == "UTC"
    assert end == start.in_timezone(zone).add(days=1).add(hours=1)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from([timezone.utc, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]),
    )
)
def test_epoch_microseconds_is_the_exact_instant_in_any_zone(instant: datetime) -> None:
    """The UTC fast path and the general path agree with exact integer arithmetic on the instant."""
    moment = pendulum.instance(instant)  # (a wall time in a DST gap is moved, so compare with the moment)
    exact = datetime.__sub__(moment, datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
    assert epoch_microseconds(moment) == exact
    assert epoch_microseconds(moment.in_timezone("UTC")) == exact

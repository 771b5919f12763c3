"""Business hours: a calendar of weekly opening hours with holidays and special days, in one time zone.

The two functions that carry its meaning, ``business_time_between`` and ``add_business_time``, are checked
against a brute-force reference that walks minute by minute and reads the wall clock of every minute:
a range opens at the first minute whose wall clock reads its start or later, and closes at the first
minute whose wall clock reads its end or later (docs/business-hours.md). Instants cluster around daylight-
saving changes, including Lord Howe's 30-minute one and Chatham's +12:45/+13:45.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convostate import InvalidInput
from convostate._core.business_hours import (
    MAX_DATES,
    MAX_RANGES_PER_DAY,
    WEEKDAYS,
    BusinessHours,
    add_business_time,
    business_time_between,
)

ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham")
MINUTE = timedelta(minutes=1)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _transitions(zone: str, year: int) -> list[int]:
    """The epoch minutes at which ``zone``'s offset changes in ``year`` (every half hour is checked: all
    the zones above change on the half hour)."""
    tz = ZoneInfo(zone)
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()) // 60
    found, previous = [], None
    for minute in range(start, start + 366 * 1_440, 30):
        offset = datetime.fromtimestamp(minute * 60, tz).utcoffset()
        if previous is not None and offset != previous:
            found.append(minute)
        previous = offset
    return found


TRANSITIONS = {zone: _transitions(zone, 2026) or [29_500_000] for zone in ZONES}


# ---------------------------------------------------------------- the reference


def _range(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    opens = int(start[:2]) * 60 + int(start[3:])
    closes = int(end[:2]) * 60 + int(end[3:])
    return opens, closes if closes > opens else closes + 1_440


def _ranges(calendar: BusinessHours, day: date) -> list[tuple[int, int]]:
    if day in calendar.holidays:
        return []
    special = dict(calendar.special)
    texts = special[day] if day in special else dict(calendar.hours).get(WEEKDAYS[day.weekday()], ())
    return [_range(text) for text in texts]


def working_minutes(calendar: BusinessHours, low: int, high: int) -> bytearray:
    """For each epoch minute from ``low`` to ``high``, whether it is working time: read the wall clock of
    every minute around them, and open each range at the first minute that reads its start or later."""
    tz = ZoneInfo(calendar.timezone)
    first_minute = low - 3 * 1_440

    def offset(minute: int) -> int:
        found = datetime.fromtimestamp(minute * 60, tz).utcoffset()
        assert found is not None
        return int(found.total_seconds()) // 60

    readings: list[int] = []
    for block in range(first_minute, high + 2 * 1_440, 30):
        # Read the clock of every minute of a half hour, except when it starts and ends on one offset
        # (no zone changes twice within 30 minutes): then every minute between has it too.
        first_offset = offset(block)
        if first_offset == offset(block + 29):
            readings.extend(range(block + first_offset, block + first_offset + 30))
        else:
            readings.extend(minute + offset(minute) for minute in range(block, block + 30))
    highest = list(itertools.accumulate(readings, max))

    def first(wall: int) -> int:
        return first_minute + bisect.bisect_left(highest, wall)

    working = bytearray(high - low)
    for ordinal in range(highest[0] // 1_440 + EPOCH_ORDINAL - 1, highest[-1] // 1_440 + EPOCH_ORDINAL + 1):
        midnight = (ordinal - EPOCH_ORDINAL) * 1_440
        for start, end in _ranges(calendar, date.fromordinal(ordinal)):
            opens, closes = max(first(midnight + start), low), min(first(midnight + end), high)
            if opens < closes:
                working[opens - low : closes - low] = b"\x01" * (closes - opens)
    return working


def instant(minute: int) -> pendulum.DateTime:
    return pendulum.from_timestamp(minute * 60, tz="UTC")


def minute_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


# ---------------------------------------------------------------- strategies


DST_MINUTES = (0, 60, 90, 105, 120, 135, 150, 165, 180, 210, 225, 1_410)
"""Wall times at which these zones' clocks change (01:00-03:45), and midnight: where ranges are hardest."""


def _range_text(start: int, end: tuple[str, int]) -> str:
    kind, value = end
    closes = start + value if kind == "for" else value if value > start else value + 1_440
    if closes - start in (0, 1_440):
        closes = start + 1
    shown = "24:00" if closes == 1_440 else f"{closes % 1_440 // 60:02d}:{closes % 60:02d}"
    return f"{start // 60:02d}:{start % 60:02d}-{shown}"


ranges = st.builds(
    _range_text,
    st.one_of(st.integers(0, 1_439), st.sampled_from(DST_MINUTES)),
    st.one_of(
        st.tuples(st.just("for"), st.integers(1, 1_439)),
        st.tuples(st.just("at"), st.sampled_from(DST_MINUTES)),
    ),
)
"""A range, often opening or closing just where a zone's clock changes (``at``) or lasting any time."""
day_hours = st.lists(ranges, max_size=3)
weeks = st.one_of(
    st.dictionaries(st.sampled_from(WEEKDAYS), day_hours),
    day_hours.map(lambda spans: dict.fromkeys(WEEKDAYS, spans)),
)


@st.composite
def scenarios(draw: st.DrawFn, *, days: int = 4) -> tuple[BusinessHours, int, int]:
    """A calendar, and two epoch minutes at most ``days`` apart near one of its zone's DST changes."""
    zone = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(TRANSITIONS[zone]))
    low = change + draw(st.integers(-4 * 1_440, 1_440))
    high = low + draw(st.integers(0, days * 1_440))
    base = instant(low).date()
    near = st.integers(-2, days + 1)
    holidays = {base + timedelta(days=n) for n in draw(st.sets(near, max_size=2))}
    special = {
        base + timedelta(days=n): spans
        for n, spans in draw(st.dictionaries(near, day_hours, max_size=2)).items()
        if base + timedelta(days=n) not in holidays
    }
    return BusinessHours(zone, draw(weeks), holidays=holidays, special=special), low, high


# ---------------------------------------------------------------- properties against the reference


@given(scenarios())
def test_business_time_between_counts_the_working_minutes(scenario: tuple[BusinessHours, int, int]) -> None:
    calendar, low, high = scenario
    expected = sum(working_minutes(calendar, low, high))
    assert business_time_between(calendar, instant(low), instant(high)) == expected * MINUTE


@given(scenarios(), st.data())
def test_add_business_time_ends_on_the_minute_the_reference_reaches(
    scenario: tuple[BusinessHours, int, int], data: st.DataObject
) -> None:
    calendar, low, high = scenario
    working = working_minutes(calendar, low, high)
    wanted = data.draw(st.integers(0, sum(working)))
    if wanted == 0:
        expected = low
    else:
        counted = itertools.accumulate(working)
        expected = low + next(n for n, total in enumerate(counted) if total == wanted) + 1
    assert add_business_time(calendar, instant(low), wanted * MINUTE) == instant(expected)


@given(scenarios(), st.data())
def test_adding_and_measuring_are_inverse_and_monotonic(
    scenario: tuple[BusinessHours, int, int], data: st.DataObject
) -> None:
    calendar, low, high = scenario
    start, end = instant(low), instant(high)
    middle = instant(data.draw(st.integers(low, high)))
    between = business_time_between(calendar, start, end)
    before_middle = business_time_between(calendar, start, middle)
    assert before_middle + business_time_between(calendar, middle, end) == between
    assert timedelta(0) <= before_middle <= between

    reached = add_business_time(calendar, start, between)
    assert start <= reached <= end
    assert business_time_between(calendar, start, reached) == between
    assert add_business_time(calendar, start, before_middle) <= reached
    if between > timedelta(0):  # the first instant to reach it: a minute earlier falls short
        assert business_time_between(calendar, start, reached - MINUTE) < between


@given(scenarios(days=1), st.integers(0, 150 * 24 * 60))
def test_long_durations_skip_weeks_and_still_agree_with_a_walk_day_by_day(
    scenario: tuple[BusinessHours, int, int], minutes: int
) -> None:
    """Spans of months take the week-skipping path; six-day pieces of them never can."""
    calendar, low, _ = scenario
    assume(any(spans for _, spans in calendar.hours))
    start = instant(low)
    try:
        end = add_business_time(calendar, start, timedelta(minutes=minutes))
    except InvalidInput as error:  # a calendar of a few minutes a week cannot hold months of work
        refused = str(error)
    else:
        refused = ""
    if refused:
        assert "within 100 years" in refused
        return
    assume(end <= start.add(days=500))
    assert business_time_between(calendar, start, end) == timedelta(minutes=minutes)
    pieces, at = timedelta(0), start
    while at < end:
        step = min(at.add(days=6), end)
        pieces += business_time_between(calendar, at, step)
        at = step
    assert pieces == timedelta(minutes=minutes)


# ---------------------------------------------------------------- examples, as the docs page tells them


LONDON = "Europe/London"
SHOP = BusinessHours(
    LONDON,
    dict.fromkeys(WEEKDAYS[:5], "09:00-17:30"),
    holidays=[date(2026, 12, 25), date(2026, 12, 28)],
    special={date(2026, 12, 24): "09:00-13:00"},
)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(year, month, day, hour, minute, tz=LONDON)


NAIVE = datetime(2026, 3, 9)  # noqa: DTZ001 - naive on purpose


def test_a_friday_evening_message_is_answered_on_monday_morning() -> None:
    friday_evening = london(2026, 3, 6, 19, 0)
    assert add_business_time(SHOP, friday_evening, timedelta(hours=2)) == london(2026, 3, 9, 11, 0)
    assert business_time_between(SHOP, friday_evening, london(2026, 3, 9, 11, 0)) == timedelta(hours=2)


def test_a_duration_that_ends_at_closing_gives_the_closing_not_the_next_opening() -> None:
    assert add_business_time(SHOP, london(2026, 3, 9, 9), timedelta(hours=8, minutes=30)) == london(
        2026, 3, 9, 17, 30
    )
    assert add_business_time(SHOP, london(2026, 3, 7, 12), timedelta(0)) == london(2026, 3, 7, 12)


def test_a_holiday_and_a_half_day_replace_their_weekdays() -> None:
    christmas_eve = london(2026, 12, 24, 8, 0)
    # 4 hours on the half day, Christmas and Boxing Day observed (Monday) closed, then Tuesday.
    assert add_business_time(SHOP, christmas_eve, timedelta(hours=5)) == london(2026, 12, 29, 10, 0)
    assert SHOP.ranges_on(date(2026, 12, 24)) == ("09:00-13:00",)
    assert SHOP.ranges_on(date(2026, 12, 25)) == ()
    assert SHOP.ranges_on(date(2026, 12, 23)) == ("09:00-17:30",)


def test_a_range_on_a_dst_night_is_as_long_as_the_clock_says() -> None:
    ny = "America/New_York"
    nights = BusinessHours(ny, {"sun": "01:00-03:00"})
    spring = pendulum.datetime(2026, 3, 8, tz=ny)
    fall = pendulum.datetime(2026, 11, 1, tz=ny)
    assert business_time_between(nights, spring, spring.add(days=1)) == timedelta(hours=1)
    assert business_time_between(nights, fall, fall.add(days=1)) == timedelta(hours=3)
    assert business_time_between(nights, spring.add(weeks=1), spring.add(weeks=1, days=1)) == timedelta(
        hours=2
    )


def test_a_range_that_opens_in_the_skipped_hour_opens_when_the_clock_comes_back() -> None:
    ny = "America/New_York"
    early = BusinessHours(ny, {"sun": "02:30-04:00"})
    spring = pendulum.datetime(2026, 3, 8, tz=ny)
    assert add_business_time(early, spring, timedelta(minutes=1)) == pendulum.datetime(
        2026, 3, 8, 3, 1, tz=ny
    )
    assert business_time_between(early, spring, spring.add(days=1)) == timedelta(hours=1)


def test_a_night_range_belongs_to_the_day_it_starts() -> None:
    night = BusinessHours(LONDON, {"fri": "22:00-06:00"}, holidays=[date(2026, 3, 14)])
    friday = london(2026, 3, 6)
    assert business_time_between(night, friday, friday.add(days=3)) == timedelta(hours=8)
    assert night.ranges_on(date(2026, 3, 7)) == ()  # Saturday's early hours are Friday's range
    assert business_time_between(night, friday.add(weeks=1), friday.add(weeks=1, days=3)) == timedelta(
        hours=8
    )
    # A holiday on the Saturday leaves Friday night alone; one on the Friday removes it.
    assert business_time_between(night, friday.add(weeks=2), friday.add(weeks=2, days=3)) == timedelta(
        hours=8
    )
    shut = BusinessHours(LONDON, {"fri": "22:00-06:00"}, holidays=[date(2026, 3, 6)])
    assert business_time_between(shut, friday, friday.add(days=3)) == timedelta(0)


def test_overlapping_ranges_count_once() -> None:
    overlapping = BusinessHours(LONDON, {"mon": ["09:00-13:00", "12:00-17:00"], "sun": "20:00-10:00"})
    monday = london(2026, 3, 9)
    assert business_time_between(overlapping, monday, monday.add(days=1)) == timedelta(hours=10 + 7)


def test_a_calendar_with_no_working_time_refuses_to_add_rather_than_loop() -> None:
    closed = BusinessHours(LONDON, {})
    with pytest.raises(InvalidInput, match="no working time"):
        add_business_time(closed, london(2026, 3, 9), timedelta(hours=1))
    assert business_time_between(closed, london(2026, 3, 9), london(2027, 3, 9)) == timedelta(0)
    one_day = BusinessHours(LONDON, {}, special={date(2030, 1, 2): "09:00-10:00"})
    ages = (london(1971, 1, 1), london(8990, 1, 1))
    assert business_time_between(one_day, *ages) == timedelta(hours=1)  # straight to the special day
    assert add_business_time(one_day, london(2026, 3, 9), timedelta(minutes=30)) == london(2030, 1, 2, 9, 30)
    with pytest.raises(InvalidInput, match="no working time"):
        add_business_time(one_day, london(2026, 3, 9), timedelta(hours=2))


def test_too_little_working_time_within_a_century_is_refused() -> None:
    sparse = BusinessHours(LONDON, {"mon": "09:00-09:01"})
    with pytest.raises(InvalidInput, match="within 100 years"):
        add_business_time(sparse, london(2026, 3, 9), timedelta(days=10))


def test_the_calendar_reads_and_writes_plain_data() -> None:
    assert BusinessHours.from_data(SHOP.to_data()) == SHOP
    assert SHOP.to_data()["special"] == {"2026-12-24": ["09:00-13:00"]}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BusinessHours("Mars/Olympus", {}), "IANA time zone"),
        (lambda: BusinessHours(LONDON, {"monday": "09:00-17:00"}), "not a weekday"),
        (lambda: BusinessHours(LONDON, {"mon": "9:00-17:00"}), "range of wall-clock times"),
        (lambda: BusinessHours(LONDON, {"mon": "09:00-25:00"}), "hours 00-23"),
        (lambda: BusinessHours(LONDON, {"mon": "24:00-02:00"}), "24:00 only as an end"),
        (lambda: BusinessHours(LONDON, {"mon": "09:60-10:00"}), "minutes 00-59"),
        (lambda: BusinessHours(LONDON, {"mon": "09:00-09:00"}), "is empty"),
        (lambda: BusinessHours(LONDON, {"mon": 9}), "takes a range"),
        (
            lambda: BusinessHours(
                LONDON, {"mon": ["09:00-09:01"] * 2 + [f"10:{n:02d}-11:00" for n in range(30)]}
            ),
            "at most",
        ),
        (lambda: BusinessHours(LONDON, {}, holidays=[london(2026, 1, 1)]), "takes dates"),
        (lambda: BusinessHours(LONDON, {}, holidays=["Christmas"]), "is not a date"),
        (
            lambda: BusinessHours(
                LONDON, {}, holidays=[date(2026, 1, 1)], special={date(2026, 1, 1): "09:00-12:00"}
            ),
            "both a holiday and a special day",
        ),
        (
            lambda: BusinessHours(
                LONDON, {}, holidays=[date(2026, 1, 1) + timedelta(days=n) for n in range(MAX_DATES + 1)]
            ),
            "at most 1,000",
        ),
        (lambda: business_time_between(SHOP, NAIVE, london(2026, 3, 10)), "naive datetime"),
        (lambda: business_time_between(SHOP, london(2026, 3, 10), london(2026, 3, 9)), "before start"),
        (lambda: add_business_time(SHOP, london(2026, 3, 9), timedelta(hours=-1)), "must not be negative"),
        (lambda: add_business_time(SHOP, london(2026, 3, 9), 3600), "timedelta"),  # type: ignore[arg-type]
        (lambda: add_business_time(LONDON, london(2026, 3, 9), timedelta(hours=1)), "BusinessHours"),  # type: ignore[arg-type]
        (lambda: add_business_time(SHOP, london(2026, 3, 9), timedelta(days=40_000)), "at most 100 years"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(InvalidInput, match=message):
        build()


def test_a_day_may_hold_at_most_the_limit_of_ranges() -> None:
    many = [f"{n:02d}:00-{n:02d}:30" for n in range(MAX_RANGES_PER_DAY)]
    assert len(BusinessHours(LONDON, {"mon": many}).ranges_on(date(2026, 3, 9))) == MAX_RANGES_PER_DAY

"""Business hours: "reply within 24 working hours" counts only the time a team is at work.

A calendar is a week of wall-clock opening hours in one time zone, with dated exceptions (a holiday, a half
day). Two pure functions carry its meaning: :func:`business_time_between` (how much working time lies
between two instants) and :func:`add_business_time` (the instant a working duration after a start). A
range is read on the wall clock of its own date: it opens the first time that date's clock reads its start
(or later, when a daylight-saving gap skips it) and closes the first time the clock then reads its end. So
01:00-03:00 on a spring-forward night in New York is one hour long, and on the fall-back night three.

The rules that the design was silent on, written down (docs/business-hours.md says the same for users):

- a range that crosses midnight (``22:00-06:00``) belongs to the day it starts on: a holiday on its start
  date removes the whole night, a holiday the next day leaves its early hours alone;
- ranges that overlap (on one day, or a night range and the next morning's) count their common time once;
- an exception date (a holiday, or special hours) replaces that date's weekday hours entirely;
- an instant on a range's start is working time, an instant on its end is not.

Nothing walks minute by minute: the functions walk day by day over each day's working intervals, and skip
a whole week at a time, using the week's total, wherever the week has no exception and no offset change.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import pendulum

from convostate._core.errors import InvalidInput
from convostate._core.timing import LONGEST_DURATION_DAYS, CalendarDuration, epoch_microseconds
from convostate._core.validate import EARLIEST_YEAR, LATEST_YEAR, aware_datetime, time_zone

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The keys of a week's hours, Monday first (``date.weekday()`` order)."""
MAX_RANGES_PER_DAY: Final = 24
"""How many ranges one day may have: split shifts need a handful; more is a mistake in the data."""
MAX_DATES: Final = 1_000
"""How many dated exceptions (holidays and special days together) one calendar may hold: years of them."""

_RANGE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_DAY = 1_440  # minutes
_MICROS_PER_SECOND = 1_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_LONGEST_MICROS = LONGEST_DURATION_DAYS * 86_400 * _MICROS_PER_SECOND

Range = tuple[int, int]
"""Minutes from the start of its day: ``(start, end)`` with ``0 <= start < 1440`` and
``start < end < start + 1440``; an end past 1440 crosses midnight."""


def _minute(text: str, hours: str, minutes: str, *, end: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > _DAY or (value == _DAY and not end):
        raise InvalidInput(
            f"{text!r} is not a range of wall-clock times; write 'HH:MM-HH:MM' with hours 00-23 and "
            "minutes 00-59 (24:00 only as an end), e.g. '09:00-17:30' or '22:00-06:00'"
        )
    return value


def parse_range(text: object) -> Range:
    """``'09:00-17:30'`` as minutes; ``'22:00-06:00'`` crosses midnight, ``'00:00-24:00'`` is all day."""
    if not isinstance(text, str) or (match := _RANGE.fullmatch(text)) is None:
        raise InvalidInput(
            "expected a range of wall-clock times such as '09:00-17:30' or '22:00-06:00', got "
            + reprlib.repr(text)
        )
    start = _minute(text, match[1], match[2], end=False)
    end = _minute(text, match[3], match[4], end=True)
    if end == start:
        raise InvalidInput(
            f"{text!r} is empty; a range must open and close at different times ('00:00-24:00' is all day)"
        )
    return start, end if end > start else end + _DAY


def _written(span: Range) -> str:
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}-{end % _DAY // 60 if end != _DAY else 24:02d}:{end % 60:02d}"


def _ranges(where: str, value: object) -> tuple[str, ...]:
    """A day's ranges, as text in a canonical order: one range as text, or a collection of them."""
    listed = [value] if isinstance(value, str) else value
    if not isinstance(listed, list | tuple | frozenset | set):
        raise InvalidInput(
            f"{where} takes a range such as '09:00-17:00' or a list of them, got {reprlib.repr(value)}"
        )
    if len(listed) > MAX_RANGES_PER_DAY:
        raise InvalidInput(f"{where} has {len(listed)} ranges; a day may have at most {MAX_RANGES_PER_DAY}")
    try:
        spans = sorted({parse_range(each) for each in listed})
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error}") from None
    return tuple(_written(span) for span in spans)


def _date(where: str, value: object) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{where}: {reprlib.repr(value)} is not a date; write e.g. '2026-12-25'"
            ) from None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(
            f"{where} takes dates such as datetime.date(2026, 12, 25), got {reprlib.repr(value)}"
        )
    if not EARLIEST_YEAR <= value.year < LATEST_YEAR:
        raise InvalidInput(f"{where}: {value} is outside the years {EARLIEST_YEAR} to {LATEST_YEAR - 1}")
    return value


def _week(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    if isinstance(pairs, str) or not isinstance(pairs, Iterable):
        raise InvalidInput(
            f"hours maps weekdays to ranges, e.g. {{'mon': '09:00-17:00'}}, got {reprlib.repr(value)}"
        )
    week: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InvalidInput(
                f"hours maps weekdays to ranges, e.g. {{'mon': '09:00-17:00'}}, got {reprlib.repr(value)}"
            )
        day, spans = pair
        if day not in WEEKDAYS or day in week:
            raise InvalidInput(
                f"{day!r} is not a weekday (or is given twice); the days are {list(WEEKDAYS)}; leave a day "
                "out to close it"
            )
        week[day] = _ranges(f"hours[{day!r}]", spans)
    return tuple((day, week[day]) for day in WEEKDAYS if week.get(day))


def _holidays(value: object) -> tuple[dt.date, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(f"holidays takes a collection of dates, got {reprlib.repr(value)}")
    # One past the limit is enough to refuse: a generator of a million dates is not read to its end.
    return tuple(sorted({_date("holidays", each) for each in itertools.islice(value, MAX_DATES + 1)}))


def _special(value: object) -> tuple[tuple[dt.date, tuple[str, ...]], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    if isinstance(pairs, str) or not isinstance(pairs, Iterable):
        raise InvalidInput(
            "special maps dates to ranges, e.g. {date(2026, 12, 24): '09:00-13:00'}, got "
            + reprlib.repr(value)
        )
    found: dict[dt.date, tuple[str, ...]] = {}
    for pair in itertools.islice(pairs, MAX_DATES + 1):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InvalidInput(f"special maps dates to ranges, got {reprlib.repr(value)}")
        day = _date("special", pair[0])
        if day in found:
            raise InvalidInput(f"special gives {day} twice; give each date once")
        found[day] = _ranges(f"special[{day}]", pair[1])
    return tuple(sorted(found.items()))


def _zone(_instance: object, _attribute: object, value: Any) -> None:
    time_zone(value)


@attrs.frozen(cache_hash=True)  # the day-by-day walk caches each day's intervals by calendar and date
class BusinessHours:
    """When a team is at work: weekly hours in ``timezone``, with ``holidays`` (closed all day) and
    ``special`` hours for given dates (a half day). A day left out of ``hours`` is a day off.

    ``BusinessHours("Europe/London", {"mon": "09:00-17:30", "sat": ["10:00-12:00", "13:00-16:00"]},
    holidays=[date(2026, 12, 25)], special={date(2026, 12, 24): "09:00-13:00"})``

    .. versionadded:: 0.2
    """

    timezone: str = attrs.field(validator=_zone)
    hours: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(converter=_week)
    holidays: tuple[dt.date, ...] = attrs.field(default=(), converter=_holidays, kw_only=True)
    special: tuple[tuple[dt.date, tuple[str, ...]], ...] = attrs.field(
        default=(), converter=_special, kw_only=True
    )
    _tz: dt.tzinfo = attrs.field(init=False, repr=False, eq=False)
    _week: tuple[tuple[Range, ...], ...] = attrs.field(init=False, repr=False, eq=False)
    _dated: dict[int, tuple[Range, ...]] = attrs.field(init=False, repr=False, eq=False)
    _open_dates: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)
    _week_micros: int = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        both = sorted(set(self.holidays) & {day for day, _ in self.special})
        if both:
            raise InvalidInput(f"{both[0]} is both a holiday and a special day; keep one of the two")
        if len(self.holidays) + len(self.special) > MAX_DATES:
            raise InvalidInput(
                f"a calendar may hold at most {MAX_DATES:,} dated exceptions, got "
                f"{len(self.holidays) + len(self.special):,}; drop the past ones"
            )
        hours = dict(self.hours)
        week = tuple(tuple(parse_range(each) for each in hours.get(day, ())) for day in WEEKDAYS)
        dated: dict[int, tuple[Range, ...]] = {day.toordinal(): () for day in self.holidays}
        for day, spans in self.special:
            dated[day.toordinal()] = tuple(parse_range(each) for each in spans)
        object.__setattr__(self, "_tz", pendulum.timezone(self.timezone))
        object.__setattr__(self, "_week", week)
        object.__setattr__(self, "_dated", dated)
        object.__setattr__(self, "_open_dates", tuple(sorted(day for day, spans in dated.items() if spans)))
        minutes = sum(_clipped_minutes(week[weekday - 1], week[weekday]) for weekday in range(7))
        object.__setattr__(self, "_week_micros", minutes * 60 * _MICROS_PER_SECOND)

    def ranges_on(self, day: dt.date) -> tuple[str, ...]:
        """The ranges that start on ``day``: its special hours, none on a holiday, else its weekday's."""
        ordinal = _date("day", day).toordinal()
        return tuple(_written(span) for span in self._ranges_on(ordinal))

    def _ranges_on(self, ordinal: int) -> tuple[Range, ...]:
        dated = self._dated.get(ordinal)
        return dated if dated is not None else self._week[(ordinal - 1) % 7]  # ordinal 1 is a Monday

    def to_data(self) -> dict[str, Any]:
        """Plain data for JSON or TOML: what :meth:`from_data` reads."""
        data: dict[str, Any] = {"timezone": self.timezone, "hours": {day: list(s) for day, s in self.hours}}
        if self.holidays:
            data["holidays"] = [day.isoformat() for day in self.holidays]
        if self.special:
            data["special"] = {day.isoformat(): list(spans) for day, spans in self.special}
        return data

    @classmethod
    def from_data(cls, data: object) -> BusinessHours:
        """A calendar from ``{"timezone": ..., "hours": {...}, "holidays": [...], "special": {...}}``."""
        keys = {"timezone", "hours", "holidays", "special"}
        if not isinstance(data, Mapping) or not {"timezone", "hours"} <= data.keys() <= keys:
            raise InvalidInput(
                'business hours are {"timezone": ..., "hours": {"mon": ["09:00-17:00"], ...}} with optional '
                f'"holidays" (a list of dates) and "special" (dates to ranges); got {reprlib.repr(data)}'
            )
        return cls(
            data["timezone"],
            data["hours"],
            holidays=data.get("holidays", ()),
            special=data.get("special", {}),
        )


def _clipped_minutes(before: tuple[Range, ...], spans: tuple[Range, ...]) -> int:
    """The working minutes of one day at a constant UTC offset: its own ranges and the night ranges of the
    day before that run past midnight, clipped to the day, overlaps counted once."""
    pieces = sorted(
        (max(start, 0), min(end, _DAY))
        for start, end in (*((s - _DAY, e - _DAY) for s, e in before), *spans)
        if end > 0 and start < _DAY
    )
    total, reached = 0, 0
    for start, end in pieces:
        if end > max(start, reached):
            total, reached = total + end - max(start, reached), end
    return total


# ---------------------------------------------------------------- instants


def _reading(zone: dt.tzinfo, seconds: int) -> int:
    """The wall clock of ``zone`` at an instant (seconds since the epoch), as seconds of a naive epoch."""
    offset = dt.datetime.fromtimestamp(seconds, zone).utcoffset()
    assert offset is not None
    return seconds + int(offset.total_seconds())


def _offset(zone: dt.tzinfo, naive: dt.datetime, fold: int) -> int:
    offset = naive.replace(tzinfo=zone, fold=fold).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _first(zone: dt.tzinfo, ordinal: int, minute: int) -> int:
    """The first instant (epoch microseconds) at which ``zone``'s clock reads ``minute`` of the date
    ``ordinal``, or later: the earlier of two readings when clocks fall back, the end of the gap when they
    spring forward over it."""
    days, minute = divmod(minute, _DAY)
    ordinal += days
    naive = dt.datetime.fromordinal(ordinal) + dt.timedelta(minutes=minute)
    wall = (ordinal - _EPOCH_ORDINAL) * 86_400 + minute * 60
    earlier = wall - _offset(zone, naive, 0)  # fold=0: the first reading, or the offset before a gap
    if _reading(zone, earlier) == wall:
        return earlier * _MICROS_PER_SECOND
    low, high = wall - _offset(zone, naive, 1), earlier  # in a gap: low reads before it, high after
    while high - low > 1:
        middle = (low + high) // 2
        if _reading(zone, middle) >= wall:
            high = middle
        else:
            low = middle
    return high * _MICROS_PER_SECOND


@functools.lru_cache(maxsize=8_192)
def _work_on(calendar: BusinessHours, ordinal: int) -> tuple[tuple[int, int], ...]:
    """The working intervals (epoch microseconds) between the date's first midnight and the next day's:
    its own ranges and the night ranges of the day before, merged."""
    zone = calendar._tz
    day_start, day_end = _first(zone, ordinal, 0), _first(zone, ordinal + 1, 0)
    pieces = []
    for day in (ordinal - 1, ordinal):
        for start, end in calendar._ranges_on(day):
            opens, closes = max(_first(zone, day, start), day_start), min(_first(zone, day, end), day_end)
            if opens < closes:
                pieces.append((opens, closes))
    merged: list[tuple[int, int]] = []
    for opens, closes in sorted(pieces):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _plain_week(calendar: BusinessHours, ordinal: int) -> bool:
    """Whether the week from ``ordinal`` holds exactly the weekly total: no exception on it or the day
    before (whose night ranges reach into it), and one UTC offset at every midnight around it."""
    dated = calendar._dated
    if any(day in dated for day in range(ordinal - 1, ordinal + 7)):
        return False
    zone = calendar._tz
    offsets = {_offset(zone, dt.datetime.fromordinal(day), 0) for day in range(ordinal - 1, ordinal + 9)}
    return len(offsets) == 1


def _local_ordinal(calendar: BusinessHours, micros: int) -> int:
    return dt.datetime.fromtimestamp(micros // _MICROS_PER_SECOND, calendar._tz).toordinal()


def _checked(calendar: object) -> BusinessHours:
    if not isinstance(calendar, BusinessHours):
        raise InvalidInput(
            f"expected a BusinessHours calendar, got {type(calendar).__name__} {reprlib.repr(calendar)}; "
            "build one with BusinessHours('Europe/London', {'mon': '09:00-17:00', ...})"
        )
    return calendar


def business_time_between(calendar: BusinessHours, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """The working time of ``calendar`` from ``start`` to ``end`` (aware instants, ``start <= end``).

    Raises:
        InvalidInput: a naive instant, or ``end`` before ``start``.
    """
    calendar = _checked(calendar)
    since, until = epoch_microseconds(aware_datetime(start)), epoch_microseconds(aware_datetime(end))
    if until < since:
        raise InvalidInput(f"end {end.isoformat()} is before start {start.isoformat()}; pass them in order")
    total, day, last = 0, _local_ordinal(calendar, since) - 1, _local_ordinal(calendar, until)
    while day <= last:
        if not calendar._week_micros:  # work only on special dates: go straight to the next one
            found = bisect.bisect_left(calendar._open_dates, day - 1)
            if found == len(calendar._open_dates):
                break
            day = max(day, calendar._open_dates[found])
            if day > last:
                break
        elif day + 7 <= last and _first(calendar._tz, day, 0) >= since and _plain_week(calendar, day):
            total, day = total + calendar._week_micros, day + 7
            continue
        for opens, closes in _work_on(calendar, day):
            total += max(0, min(closes, until) - max(opens, since))
        day += 1
    return dt.timedelta(microseconds=total)


def add_business_time(
    calendar: BusinessHours, start: dt.datetime, duration: dt.timedelta
) -> pendulum.DateTime:
    """The first instant (in UTC) by which ``duration`` of working time has passed since ``start``.

    Outside working hours, counting begins at the next opening; a duration that runs out exactly at a
    closing gives that closing (not the next opening), and zero gives ``start`` itself.

    Raises:
        InvalidInput: a naive ``start``, a negative ``duration``, or a calendar with too little working
            time ever to reach it (none at all, or not within 100 years).
    """
    calendar = _checked(calendar)
    if not isinstance(duration, dt.timedelta):
        raise InvalidInput(
            f"duration must be a datetime.timedelta, got {type(duration).__name__} {reprlib.repr(duration)}"
        )
    since = epoch_microseconds(aware_datetime(start))
    remaining = (duration.days * 86_400 + duration.seconds) * _MICROS_PER_SECOND + duration.microseconds
    if remaining < 0:
        raise InvalidInput(f"duration must not be negative, got {duration}")
    if remaining > _LONGEST_MICROS:
        raise InvalidInput(f"a business duration may span at most 100 years, got {duration}")
    if remaining == 0:
        return aware_datetime(start)
    day = _local_ordinal(calendar, since) - 1
    horizon = day + LONGEST_DURATION_DAYS + 2
    while day <= horizon:
        if not calendar._week_micros:  # work only on special dates: go straight to the next one
            found = bisect.bisect_left(calendar._open_dates, day - 1)
            if found == len(calendar._open_dates):
                raise InvalidInput(
                    f"the calendar has no working time after {start.isoformat()} (no weekly hours and no "
                    "special hours ahead), so no business duration can pass; give it opening hours"
                )
            day = max(day, calendar._open_dates[found])
        elif (
            remaining > calendar._week_micros
            and _first(calendar._tz, day, 0) >= since
            and _plain_week(calendar, day)
        ):
            remaining, day = remaining - calendar._week_micros, day + 7
            continue
        for opens, closes in _work_on(calendar, day):
            counted = max(opens, since)
            if closes > counted:
                if closes - counted >= remaining:
                    return _instant(counted + remaining)
                remaining -= closes - counted
        day += 1
    raise InvalidInput(
        f"the calendar does not hold {duration} of working time within 100 years of {start.isoformat()}; "
        "give it more opening hours or use a shorter duration"
    )


def _instant(micros: int) -> pendulum.DateTime:
    seconds, micro = divmod(micros, _MICROS_PER_SECOND)
    return pendulum.from_timestamp(seconds, tz="UTC").add(microseconds=micro)


BUSINESS_PREFIX: Final = "business:"
"""How rules data and settings write a business duration (``business:PT24H``): in the same place as a
calendar duration (``PT24H``), so a settings page or a rule's ``after`` takes either as one string."""


def _count(_instance: object, attribute: attrs.Attribute[int], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(
            f"BusinessDuration.{attribute.name} must be a whole number >= 0, got {reprlib.repr(value)}"
        )


@attrs.frozen
class BusinessDuration:
    """An amount of working time, such as "answer within 24 business hours": it passes only while the
    calendar (the inbox's, else the account's :class:`BusinessHours`) is open. Hours, minutes and seconds
    only: a "business day" has no fixed length, so write the hours it stands for (``PT8H``).

    Build it with keywords (``BusinessDuration(hours=24)``) or parse ``business:PT24H`` (or ``PT24H``);
    ``str()`` writes the ``business:`` form that rules data and settings read.

    .. versionadded:: 0.2
    """

    hours: int = attrs.field(default=0, validator=_count, kw_only=True)
    minutes: int = attrs.field(default=0, validator=_count, kw_only=True)
    seconds: int = attrs.field(default=0, validator=_count, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.hours * 3_600 + self.minutes * 60 + self.seconds > _LONGEST_MICROS // _MICROS_PER_SECOND:
            raise InvalidInput(
                "a business duration may span at most 100 years of working time; a reply target or a "
                "delay is usually hours, e.g. BusinessDuration(hours=24) or 'business:PT24H'"
            )

    @classmethod
    def parse(cls, text: str) -> BusinessDuration:
        """Read ``business:PT24H`` (or ``PT24H``): ISO 8601 hours, minutes and seconds."""
        iso = text.removeprefix(BUSINESS_PREFIX) if isinstance(text, str) else text
        try:
            calendar = CalendarDuration.parse(iso)
        except InvalidInput:
            calendar = None
        if calendar is None or calendar.years or calendar.months or calendar.weeks or calendar.days:
            raise InvalidInput(
                f"{reprlib.repr(text)} is not a business duration; write working time in hours, minutes "
                "and seconds, e.g. 'business:PT24H' or 'business:PT1H30M' (a business day has no fixed "
                "length: write the hours it stands for, such as 'business:PT8H')"
            )
        return cls(hours=calendar.hours, minutes=calendar.minutes, seconds=calendar.seconds)

    @property
    def as_timedelta(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def end(self, start: dt.datetime, calendar: BusinessHours) -> pendulum.DateTime:
        """The instant (in UTC) this much working time after ``start`` (see :func:`add_business_time`)."""
        return add_business_time(calendar, start, self.as_timedelta)

    def __str__(self) -> str:
        parts = "".join(
            f"{count}{unit}"
            for count, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S"))
            if count
        )
        return f"{BUSINESS_PREFIX}PT{parts or '0S'}"

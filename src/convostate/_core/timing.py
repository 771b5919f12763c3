"""Calendar durations: "a week" in the account's time zone, not 168 hours.

A reopen window of one week that starts on the Thursday before a daylight-saving change ends at the same wall
clock time the next Thursday, 167 or 169 hours later. ``datetime.timedelta`` (and ``pendulum.Duration``, which
folds 48 hours into 2 days) cannot tell "2 days" from "48 hours", so the window has its own type: the
calendar units (years, months, weeks, days) move the wall clock in the time zone, the exact units (hours,
minutes, seconds) then add elapsed time.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Any

import attrs
import pendulum

from convostate._core.errors import InvalidInput
from convostate._core.instants import UTC_EPOCH, elapsed, plus
from convostate._core.validate import EARLIEST_YEAR, LATEST_YEAR, aware_datetime, time_zone

_ISO_8601 = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.ASCII,  # ISO 8601 digits are 0-9, not any Unicode digit
)
_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


_UTC = pendulum.UTC
_MICROSECOND = timedelta(microseconds=1)
_UNIX_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


def epoch_microseconds(instant: pendulum.DateTime) -> int:
    """An instant as whole microseconds since the epoch: exact (no float), so it sorts and compares as the
    instant does. Tab positions, cursors and timer keys are built from it, on every write.

    Every instant convostate keeps is in UTC, so the common case is computed from the fields (three times
    faster than pendulum's ``int_timestamp``, which works out the offset in Python); any other zone, and
    the standard library's datetimes that a hand-made change set may hold, take the general path.
    """
    if instant.tzinfo is _UTC:
        seconds = (instant.toordinal() - _UNIX_EPOCH_ORDINAL) * 86_400
        seconds += instant.hour * 3_600 + instant.minute * 60 + instant.second
        return seconds * 1_000_000 + instant.microsecond
    return elapsed(instant, UTC_EPOCH) // _MICROSECOND  # any aware datetime, pendulum's or not, exactly


LONGEST_DURATION_DAYS = 36_525
"""A duration may span at most 100 years (counting a year as 366 days and a month as 31): longer ones are
refused when built, because a reopen window or a rule's delay of a million years would be saved and then
break every message that meets it (no calendar can represent the instant it ends)."""
_MOST_DIGITS = 12  # 100 years is 3,155,760,000 seconds: ten digits
_UPPER_DAYS = {"years": 366, "months": 31, "weeks": 7, "days": 1}
_UPPER_SECONDS = {"hours": 3_600, "minutes": 60, "seconds": 1}


def _count(_instance: object, attribute: attrs.Attribute[int], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"CalendarDuration.{attribute.name} must be a whole number >= 0, got {value!r}")


@attrs.frozen
class CalendarDuration:
    """A span of calendar time, such as the reopen window (default one week).

    Build it with keywords (``CalendarDuration(hours=48)``) or from ISO 8601
    (``CalendarDuration.parse("P1W")``).
    """

    years: int = attrs.field(default=0, validator=_count, kw_only=True)
    months: int = attrs.field(default=0, validator=_count, kw_only=True)
    weeks: int = attrs.field(default=0, validator=_count, kw_only=True)
    days: int = attrs.field(default=0, validator=_count, kw_only=True)
    hours: int = attrs.field(default=0, validator=_count, kw_only=True)
    minutes: int = attrs.field(default=0, validator=_count, kw_only=True)
    seconds: int = attrs.field(default=0, validator=_count, kw_only=True)

    def __attrs_post_init__(self) -> None:
        days = sum(getattr(self, unit) * length for unit, length in _UPPER_DAYS.items())
        seconds = sum(getattr(self, unit) * length for unit, length in _UPPER_SECONDS.items())
        if days * 86_400 + seconds > LONGEST_DURATION_DAYS * 86_400:  # whole numbers: never overflows
            raise InvalidInput(
                f"a duration may span at most 100 years, got {self._described()}; a reopen window or a "
                "delay is usually hours, days or weeks, e.g. CalendarDuration(weeks=1) or 'P1W'"
            )

    def _described(self) -> str:
        # Python refuses to write a number of more than 4,300 digits as text: say so rather than fail.
        huge = any(getattr(self, unit) >= 10**_MOST_DIGITS for unit in _UNITS)
        return f"a count of more than {_MOST_DIGITS} digits" if huge else str(self)

    @classmethod
    def parse(cls, text: str) -> CalendarDuration:
        """Read an ISO 8601 duration of whole units, such as ``P1W``, ``P2D`` or ``PT48H``."""
        match = _ISO_8601.fullmatch(text) if isinstance(text, str) else None
        if match is None or text in ("P", "PT") or text.endswith("T"):
            raise InvalidInput(
                f"{text!r} is not an ISO 8601 duration of whole units; write e.g. 'P1W' (a week), "
                "'P2D' (two calendar days) or 'PT48H' (48 elapsed hours)"
            )
        counts = {unit: found for unit, found in match.groupdict().items() if found}
        if any(len(found) > _MOST_DIGITS for found in counts.values()):  # int() refuses 4,300 digits
            raise InvalidInput(f"a duration may span at most 100 years, got {text[:40]!r}...")
        return cls(**{unit: int(found) for unit, found in counts.items()})

    def end(self, start: pendulum.DateTime, timezone: str) -> pendulum.DateTime:
        """The instant (in UTC) this long after ``start``, calendar units on ``timezone``'s wall clock.

        Worked out once per (duration, start, zone): every inbound message to a closed conversation asks
        when its reopen window ends, and pendulum's calendar arithmetic and zone lookups were a third of
        that message's cost. Only UTC starts are cached: a datetime in another zone compares equal to its
        other fold (the repeated hour) although it is another instant, so it could not be a key.
        """
        if type(start) is pendulum.DateTime and start.tzinfo is _UTC and type(timezone) is str:
            if (
                timezone == "UTC"
                and not (self.years or self.months)
                and EARLIEST_YEAR <= start.year < LATEST_YEAR
            ):
                # On UTC's wall clock a day is always 24 hours: the same instant, exactly, in C.
                entry = _EXACT.get(id(self))
                if entry is None or entry[0] is not self:
                    entry = _exact(self)
                return plus(start, entry[1])
            return _calendar_end(self, start, timezone)
        return self._end(start, timezone)

    def _end(self, start: pendulum.DateTime, timezone: str) -> pendulum.DateTime:
        local = aware_datetime(start).in_timezone(time_zone(timezone))
        moved = local.add(years=self.years, months=self.months, weeks=self.weeks, days=self.days)
        return moved.add(hours=self.hours, minutes=self.minutes, seconds=self.seconds).in_timezone("UTC")

    def __str__(self) -> str:
        date = "".join(
            f"{getattr(self, unit)}{unit[0].upper()}" for unit in _UNITS[:4] if getattr(self, unit)
        )
        time = "".join(
            f"{getattr(self, unit)}{unit[0].upper()}" for unit in _UNITS[4:] if getattr(self, unit)
        )
        if not date and not time:
            return "PT0S"
        return f"P{date}" + (f"T{time}" if time else "")


_EXACT: dict[int, tuple[CalendarDuration, timedelta]] = {}
"""Each duration's weeks, days and exact units as one ``timedelta``, by the duration's identity (the entry
holds the duration, so its id is not reused while cached): building a timedelta from keywords costs more
than the addition, and an account's windows and delays are a handful of objects."""


def _exact(duration: CalendarDuration) -> tuple[CalendarDuration, timedelta]:
    """Cache and return ``duration``'s entry in ``_EXACT`` (years and months have no fixed length: the
    caller has none)."""
    if len(_EXACT) >= 4096:
        _EXACT.clear()
    entry = _EXACT[id(duration)] = (
        duration,
        timedelta(
            weeks=duration.weeks,
            days=duration.days,
            hours=duration.hours,
            minutes=duration.minutes,
            seconds=duration.seconds,
        ),
    )
    return entry


@functools.lru_cache(maxsize=4096)
def _calendar_end(duration: CalendarDuration, start: pendulum.DateTime, timezone: str) -> pendulum.DateTime:
    """``duration.end`` for a UTC ``start``, remembered: the same arguments always give the same instant
    (the zone's rules are pendulum's, fixed for the process), and an error is raised again each time
    (lru_cache keeps only results)."""
    return duration._end(start, timezone)

"""Checks made where values enter the library, so that the rules never see a bad one.

Every failure raises :class:`InvalidInput` with a message that says what was passed and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeGuard, TypeVar

import pendulum

from convostate._core.errors import InvalidInput
from convostate._core.instants import PENDULUM_EPOCH, UTC_EPOCH, elapsed, plus

T = TypeVar("T")
_UTC = pendulum.UTC

EARLIEST_YEAR = 1970
"""Instants before 1970 are refused: no message of a helpdesk is older, and epoch microseconds stay >= 0."""
LATEST_YEAR = 9000
"""Instants from the year 9000 on are refused, so that any instant plus the longest duration (100 years,
see ``timing.LONGEST_DURATION_DAYS``) is still one Python and every database can represent (year 9999)."""
_EARLIEST, _LATEST = EARLIEST_YEAR, LATEST_YEAR


def aware_datetime(value: datetime) -> pendulum.DateTime:
    """The instant as a pendulum DateTime in UTC; a naive datetime, whose instant nobody can know, is refused.

    Everything inside is UTC because Python compares two datetimes of the same zone by their wall clock:
    in the hour that repeats when clocks fall back, 01:45 EDT and 01:45 EST would compare equal. Display
    converts to the account's time zone.
    """
    if (
        type(value) is pendulum.DateTime
        and value.tzinfo is _UTC
        and EARLIEST_YEAR <= value.year < LATEST_YEAR
    ):
        return value  # the commonest case by far (every instant inside is one): aware, in UTC and in range
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"expected a timezone-aware datetime, got {type(value).__name__} {value!r}; pass e.g. "
            "pendulum.datetime(2026, 3, 1, 12, tz='UTC')"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"naive datetime {value.isoformat()} has no time zone, so its instant is unknown; pass an aware "
            "one, e.g. pendulum.datetime(2026, 3, 1, 12, tz='UTC') or datetime(..., tzinfo=timezone.utc)"
        )
    try:
        # The instant's distance from the epoch, in C (an aware subtraction is exact whatever the zone),
        # added to pendulum's epoch in UTC: the same instant as pendulum.instance(...).in_timezone("UTC"),
        # at a fifth of the cost, for every instant a codec or a store reads.
        utc = plus(PENDULUM_EPOCH, elapsed(value, UTC_EPOCH))
    except (OverflowError, ValueError) as error:  # 0001-01-01 at +01:00 has no UTC year
        raise _out_of_range(value) from error
    if not EARLIEST_YEAR <= utc.year < LATEST_YEAR:
        raise _out_of_range(value)
    return utc


def _out_of_range(value: datetime) -> InvalidInput:
    return InvalidInput(
        f"instant {value.isoformat()} is outside the years {EARLIEST_YEAR} to {LATEST_YEAR - 1} that "
        "convostate accepts (a clock or an import that is far off); pass the real time of the event"
    )


def time_zone(value: object) -> str:
    """``value`` if it names an IANA time zone that pendulum knows, or InvalidInput."""
    name = check_type("timezone", value, str, "'America/New_York'")
    try:
        pendulum.timezone(name)
    except Exception as error:  # pendulum raises its own error, or ValueError for a malformed key
        raise InvalidInput(
            f"timezone must be an IANA time zone name such as 'America/New_York' or 'UTC', got {value!r}"
        ) from error
    return name


def optional_aware_datetime(value: datetime | None) -> pendulum.DateTime | None:
    return None if value is None else aware_datetime(value)


def check_type(name: str, value: object, expected: type[T], hint: str) -> T:
    """Return ``value`` if it is an ``expected``; otherwise say which type to pass, with an example."""
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise InvalidInput(
            f"{name} must be a {expected.__name__} (e.g. {hint}), got {type(value).__name__} {value!r}"
        )
    return value


def at_least_one(name: str, value: object, example: str) -> int:
    """``value`` as a whole number of at least 1 (a limit, a batch, a number of attempts), or InvalidInput."""
    checked = check_type(name, value, int, example)
    if checked < 1:
        raise InvalidInput(f"{name} must be at least 1, got {checked}")
    return checked


MAX_BODY_CHARACTERS = 100_000
"""A message body: longer than any SMS thread or support email a person writes, short of a pasted log."""
MAX_TEXT_CHARACTERS = 1_000
"""A name, an email address, a phone number, an id, a provider's message id, a search."""
MAX_TAG_CHARACTERS = 100
MAX_TAGS = 100
"""How many tags one contact may carry."""


def clean_text(name: str, value: object, limit: int = MAX_TEXT_CHARACTERS) -> str:
    """``value`` if it is text that every store, CSV export and email can carry, at most ``limit`` long.

    Refused: a lone surrogate (``"\\ud800"``, which a JSON webhook can deliver but no encoding can write,
    so it would break every later export) and NUL (which PostgreSQL cannot store in text).
    """
    checked = check_type(name, value, str, "'hello'")
    if len(checked) > limit:
        raise InvalidInput(
            f"{name} is {len(checked):,} characters long; at most {limit:,} are accepted "
            "(docs/errors.md, Limits)"
        )
    if not checked.isascii():
        try:
            checked.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidInput(
                f"{name} holds a lone surrogate {checked[error.start]!r} at {error.start}, which no encoding "
                "can write; decode the source with errors='replace' (or 'surrogatepass' and fix the pairs)"
            ) from None
    if "\x00" in checked:
        raise InvalidInput(
            f"{name} holds a NUL character at {checked.index(chr(0))}, which databases cannot store in "
            "text; remove it or replace it with U+FFFD"
        )
    return checked


def is_plain_text(value: object, limit: int = MAX_TEXT_CHARACTERS) -> TypeGuard[str]:
    """Whether ``value`` is non-blank ASCII text without NUL, at most ``limit`` long: the commonest case (ids,
    most names and bodies), which passes every check of :func:`non_empty_text`. Ids are built on every
    action, so they test this first, inline, and call the full check only when it fails."""
    return (
        type(value) is str
        and value.isascii()
        and 0 < len(value) <= limit
        and "\x00" not in value
        and not value.isspace()
    )


def non_empty_text(name: str, value: object, limit: int = MAX_TEXT_CHARACTERS) -> str:
    if is_plain_text(value, limit):
        return value
    checked = clean_text(name, value, limit)
    if not checked.strip():
        raise InvalidInput(f"{name} must not be empty or only white space")
    return checked


def frozenset_from(name: str, value: object, example: str) -> frozenset[Any]:
    """The members of ``value``, a collection (a list, tuple, set or generator); text, None or unhashable
    members would otherwise fail deep inside, or text be read as a collection of characters."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"{name} takes a collection such as {example}, got {type(value).__name__} {value!r}"
        )
    try:
        return frozenset(value)
    except TypeError as error:  # an unhashable member, such as a list
        raise InvalidInput(f"{name} takes a collection such as {example}: {error}") from None


def instance_of(expected: type[Any], hint: str) -> Any:
    """An attrs validator that refuses any other type with a message naming the field and an example."""

    if expected is int:  # check_type refuses a bool for an int

        def validator(_instance: object, attribute: Any, value: object) -> None:
            check_type(attribute.name, value, expected, hint)

        return validator

    def valid_instance(_instance: object, attribute: Any, value: object) -> None:
        if not isinstance(value, expected):  # inline: this runs for every field of every command
            check_type(attribute.name, value, expected, hint)

    return valid_instance


def optional_instance_of(expected: type[Any], hint: str) -> Any:
    def validator(_instance: object, attribute: Any, value: object) -> None:
        if value is not None:
            check_type(attribute.name, value, expected, hint)

    return validator


def frozenset_of(expected: type[Any], hint: str) -> Any:
    """An attrs validator for a frozenset whose members are all ``expected``."""

    def validator(_instance: object, attribute: Any, value: object) -> None:
        if type(value) is frozenset and not value:  # the commonest case: a DecisionContext's, per command
            return
        members = check_type(attribute.name, value, frozenset, f"frozenset({{{hint}}})")
        for member in members:
            check_type(f"each member of {attribute.name}", member, expected, hint)

    return validator


def text(_instance: object, attribute: Any, value: Any) -> None:
    """An attrs validator for required, non-blank text (a name, an id)."""
    if not is_plain_text(value):
        non_empty_text(attribute.name, value)


def body(_instance: object, attribute: Any, value: Any) -> None:
    """An attrs validator for a message body: required, non-blank, at most MAX_BODY_CHARACTERS."""
    if not is_plain_text(value, MAX_BODY_CHARACTERS):
        non_empty_text(attribute.name, value, MAX_BODY_CHARACTERS)


def plain_text(_instance: object, attribute: Any, value: Any) -> None:
    """An attrs validator for text that may be empty (a contact's name) but not None."""
    clean_text(attribute.name, value)


def optional_text(_instance: object, attribute: Any, value: Any) -> None:
    """An attrs validator for text that may be None or empty (a contact's phone)."""
    if value is not None:
        clean_text(attribute.name, value)


def tags(_instance: object, attribute: Any, value: Any) -> None:
    members = check_type(attribute.name, value, frozenset, "frozenset({'vip'})")
    if len(members) > MAX_TAGS:
        raise InvalidInput(f"{attribute.name} holds {len(members)} tags; at most {MAX_TAGS} are accepted")
    for member in members:
        clean_text(f"each member of {attribute.name}", member, MAX_TAG_CHARACTERS)

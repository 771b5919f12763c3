"""Values in and out of columns: the codec's JSON for what queries never look into, epoch microseconds for
instants (they sort and index the same on every database)."""

from __future__ import annotations

import json
from typing import Any, Final, TypeVar, cast

import pendulum

from convostate._codec import from_data, to_data
from convostate._core.events import Event
from convostate._core.instants import utc_instant
from convostate._core.timing import epoch_microseconds

T = TypeVar("T")


def encode(value: object) -> str:
    """The codec's JSON, escaped to ASCII so that any text (a lone surrogate, a NUL) fits any database."""
    return json.dumps(to_data(value), separators=(",", ":"))


def decode(text: str, type_: type[T]) -> T:
    data: Any = json.loads(text)
    return from_data(data, type_)


def decode_event(text: str) -> Event:
    """An event, of the class its ``"type"`` tag names."""
    data: Any = json.loads(text)
    return cast(Event, from_data(data))


def micros(instant: pendulum.DateTime) -> int:
    return epoch_microseconds(instant)


instant: Final = utc_instant
"""The UTC instant of stored epoch microseconds, made in C: every instant a read decodes."""


def optional_instant(microseconds: int | None) -> pendulum.DateTime | None:
    return None if microseconds is None else instant(microseconds)

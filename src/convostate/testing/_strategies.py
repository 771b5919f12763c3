"""The strategies behind :mod:`convostate.testing.strategies`."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from hypothesis import strategies as st

from convostate._core.model import AccountSettings, ReadModel
from convostate._core.timing import CalendarDuration

TIMEZONES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
)
"""Lord Howe moves its clocks by 30 minutes; Kolkata has no DST and a half-hour offset."""

WINDOWS: tuple[CalendarDuration, ...] = (
    CalendarDuration(weeks=1),
    CalendarDuration(days=2),
    CalendarDuration(hours=48),
    CalendarDuration(days=1, hours=1),
    CalendarDuration(minutes=90),
)
"""Reopen windows: the seed's week, and durations whose calendar and exact parts differ across DST."""

DST_EDGES: tuple[pendulum.DateTime, ...] = (
    pendulum.datetime(2026, 3, 8, 7, tz="UTC"),  # US spring forward
    pendulum.datetime(2026, 11, 1, 6, tz="UTC"),  # US fall back
    pendulum.datetime(2026, 3, 29, 1, tz="UTC"),  # EU spring forward
    pendulum.datetime(2026, 10, 25, 1, tz="UTC"),  # EU fall back
    pendulum.datetime(2026, 4, 4, 15, tz="UTC"),  # Lord Howe back 30 minutes
    pendulum.datetime(2026, 6, 15, 12, tz="UTC"),  # no change nearby
)

timezones = st.sampled_from(TIMEZONES)
windows = st.sampled_from(WINDOWS)
read_models = st.sampled_from(tuple(ReadModel))


@st.composite
def instants(draw: st.DrawFn, *, days_before: int = 8) -> pendulum.DateTime:
    """An aware instant (UTC) within ``days_before`` days before a DST change, so that a week-long window
    often spans it."""
    edge = draw(st.sampled_from(DST_EDGES))
    before = draw(st.integers(min_value=0, max_value=days_before * 24 * 60))
    return edge.subtract(minutes=before)


def account_settings() -> st.SearchStrategy[AccountSettings]:
    """Settings in every zone, window and read model above (exports on)."""
    return st.builds(AccountSettings, timezone=timezones, reopen_window=windows, read_model=read_models)


clock_steps = st.sampled_from(
    (
        timedelta(seconds=1),
        timedelta(minutes=1),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=23),
        timedelta(days=1),
        timedelta(days=3),
        timedelta(days=6),
        timedelta(days=8),
    )
)
"""How far a fake clock moves in one step: both sides of a day, a week and the seed's window."""

bodies = st.text(
    # Lone surrogates cannot be encoded and NUL cannot be stored: convostate refuses both (docs/errors.md).
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=200,
).filter(lambda text: bool(text.strip()))
"""Message bodies as webhooks deliver them: any Unicode (accents, emoji, right-to-left, line breaks,
commas and quotes that a CSV export must keep), never blank."""

external_ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
"""Provider message ids (Twilio's ``SM...``, an email's ``<...@...>``): printable, never blank."""

"""Hypothesis strategies, in one place so every property test draws from the same vocabulary.

Users come from a small fixed set so that they collide; time zones and start instants cluster around
daylight-saving changes, where reopen windows are easiest to get wrong.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from hypothesis import strategies as st

from convostate import (
    AccountSettings,
    CalendarDuration,
    ReadModel,
    UserId,
)

USERS = tuple(UserId(name) for name in ("ana", "bo", "cy", "dee"))
"""The account's users. ``dee`` is never a member of the multi-user inbox, to exercise refusals."""

MEMBERS = frozenset(USERS[:3])
OWNER = USERS[0]

TIMEZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata")
"""Lord Howe moves its clocks by 30 minutes; Kolkata has no DST and a half-hour offset."""

WINDOWS = (
    CalendarDuration(weeks=1),
    CalendarDuration(days=2),
    CalendarDuration(hours=48),
    CalendarDuration(days=1, hours=1),
    CalendarDuration(minutes=90),
)

_DST_EDGES = (
    pendulum.datetime(2026, 3, 8, 7, tz="UTC"),  # US spring forward
    pendulum.datetime(2026, 11, 1, 6, tz="UTC"),  # US fall back
    pendulum.datetime(2026, 3, 29, 1, tz="UTC"),  # EU spring forward
    pendulum.datetime(2026, 10, 25, 1, tz="UTC"),  # EU fall back
    pendulum.datetime(2026, 4, 4, 15, tz="UTC"),  # Lord Howe back 30 minutes
    pendulum.datetime(2026, 6, 15, 12, tz="UTC"),  # no change nearby
)

users = st.sampled_from(USERS)
timezones = st.sampled_from(TIMEZONES)
windows = st.sampled_from(WINDOWS)
read_models = st.sampled_from(tuple(ReadModel))


@st.composite
def start_instants(draw: st.DrawFn) -> pendulum.DateTime:
    """An instant within eight days before a DST change, so a week-long window often spans it."""
    edge = draw(st.sampled_from(_DST_EDGES))
    before = draw(st.integers(min_value=0, max_value=8 * 24 * 60))
    return edge.subtract(minutes=before)


def account_settings() -> st.SearchStrategy[AccountSettings]:
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
"""How far the fake clock moves in one step."""

edge_offsets = st.sampled_from((timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)))
"""Where to land relative to a window's end: just inside, exactly on it (that counts as after), past it."""

bodies = st.text(alphabet="abcdefghij ?!é", min_size=0, max_size=15).map(lambda text: f"hi {text}")
"""Message bodies: never blank (blank bodies are bad input, tested on their own)."""

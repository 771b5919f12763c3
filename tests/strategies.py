"""Hypothesis strategies, in one place so every property test draws from the same vocabulary.

Users come from a small fixed set so that they collide; time zones and start instants cluster around
daylight-saving changes, where reopen windows are easiest to get wrong.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st

from convostate import UserId
from convostate.testing.strategies import (
    TIMEZONES,
    WINDOWS,
    account_settings,
    clock_steps,
    instants,
    read_models,
    timezones,
    windows,
)

__all__ = [
    "MEMBERS",
    "OWNER",
    "TIMEZONES",
    "USERS",
    "WINDOWS",
    "account_settings",
    "bodies",
    "clock_steps",
    "edge_offsets",
    "read_models",
    "start_instants",
    "timezones",
    "users",
    "windows",
]

USERS = tuple(UserId(name) for name in ("ana", "bo", "cy", "dee"))
"""The account's users. ``dee`` is never a member of the multi-user inbox, to exercise refusals."""

MEMBERS = frozenset(USERS[:3])
OWNER = USERS[0]

users = st.sampled_from(USERS)
start_instants = instants
"""An instant within eight days before a DST change, so a week-long window often spans it."""


edge_offsets = st.sampled_from((timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)))
"""Where to land relative to a window's end: just inside, exactly on it (that counts as after), past it."""

storable = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
"""Any character convostate keeps: all but lone surrogates and NUL, which it refuses (docs/errors.md)."""
short_bodies = st.text(alphabet="abcdefghij ?!é", min_size=0, max_size=15).map(lambda text: f"hi {text}")
"""Message bodies: never blank (blank bodies are bad input, tested on their own).

Short and from a small alphabet, so state machines shrink well; ``convostate.testing.strategies.bodies``
draws any Unicode."""
bodies = short_bodies

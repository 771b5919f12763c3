"""Hypothesis profiles: ``dev`` is quick for local runs, ``ci`` is what CI runs, ``deep`` is for a soak.

Choose one with ``HYPOTHESIS_PROFILE``; ``.ci/run`` sets ``ci``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.smtp_server import SmtpServer, running_server

settings.register_profile("dev", max_examples=100, stateful_step_count=30, deadline=None)
# ci: 1,000 examples per property and state machine, 50 steps each: CI runs four Pythons one after another
# and has 40 minutes on a 2-core machine, spent on depth rather than on repeating fast tests. ``deep`` is
# the soak.
settings.register_profile(
    "ci",
    max_examples=1_000,
    stateful_step_count=50,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=10_000,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# ci-breadth: what ``ci`` becomes in the tox envs that set CONVOSTATE_BREADTH (py310-py312, see tox.ini).
# The 1,000-example depth runs once, on py313 with PostgreSQL; the other Pythons check that every property
# and state machine holds on them too, at a tenth of the depth, instead of repeating the same search.
settings.register_profile(
    "ci-breadth",
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    if chosen == "ci" and os.environ.get("CONVOSTATE_BREADTH"):
        return "ci-breadth"
    return chosen


settings.load_profile(_profile())


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, for this test only."""
    yield from running_server()


@pytest.fixture
def smtp_server_with_logins() -> Iterator[SmtpServer]:
    """The same, but it takes mail only after a login: ``ana`` with the password ``s3cret``."""
    yield from running_server(logins={"ana": "s3cret"})

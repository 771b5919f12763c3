"""Hypothesis profiles: ``dev`` is quick for local runs, ``ci`` is what CI runs, ``deep`` is for a soak.

Choose one with ``HYPOTHESIS_PROFILE``; ``.ci/run`` sets ``ci``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

"""Hypothesis strategies for a host's own property tests of its convostate integration (needs the ``test``
extra, which brings Hypothesis).

They draw what convostate is most often got wrong with: instants that cluster around daylight-saving
changes in zones with odd offsets, reopen windows that are calendar durations (a week across a DST change
is 167 or 169 hours), both read models, and message bodies and provider ids with the characters real
webhooks carry. convostate's own tests draw from them too.
"""

from __future__ import annotations

from convostate.testing._strategies import DST_EDGES as DST_EDGES
from convostate.testing._strategies import TIMEZONES as TIMEZONES
from convostate.testing._strategies import WINDOWS as WINDOWS
from convostate.testing._strategies import account_settings as account_settings
from convostate.testing._strategies import bodies as bodies
from convostate.testing._strategies import clock_steps as clock_steps
from convostate.testing._strategies import external_ids as external_ids
from convostate.testing._strategies import instants as instants
from convostate.testing._strategies import read_models as read_models
from convostate.testing._strategies import timezones as timezones
from convostate.testing._strategies import windows as windows

__all__ = [
    "DST_EDGES",
    "TIMEZONES",
    "WINDOWS",
    "account_settings",
    "bodies",
    "clock_steps",
    "external_ids",
    "instants",
    "read_models",
    "timezones",
    "windows",
]

"""Fakes for the ports, for tests, notebooks and examples: a clock that moves only when told, ids that count
up, and a mailer that keeps what it sends; and ``Simulation``, seeded synthetic traffic on a manual clock.
None of them belongs in production (a manual clock never moves, a collecting mailer delivers nothing, a
simulation makes up its contacts), so they live here rather than beside ``Helpdesk``.

Two submodules need the ``test`` extra (``pip install "convostate[test]"``):
``convostate.testing.conformance``, the suites that every store adapter runs against itself, and
``convostate.testing.strategies``, Hypothesis strategies for a host's own property tests.
"""

from __future__ import annotations

from convostate._adapters.clocks import ManualClock as ManualClock
from convostate._adapters.collecting_mailer import CollectingMailer as CollectingMailer
from convostate._adapters.collecting_mailer import MailerUnavailable as MailerUnavailable
from convostate._adapters.ids import SequentialIds as SequentialIds
from convostate.testing._simulation import Simulation as Simulation

__all__ = ["CollectingMailer", "MailerUnavailable", "ManualClock", "SequentialIds", "Simulation"]

"""Callgrind driver: builds the stream and an engine, then (RUN=1) runs the steps.

Run it under valgrind with RUN=1 and RUN=0; the difference in instructions, over the events, is what the
core costs per event (callgrind counts instructions, so the figure does not depend on the machine's load):

    RUN=1 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out ../.venv/bin/python cg_core.py

The engine is the pure core (``decide/evolve + rules``) unless ``ENGINE`` names one of ``run.py``'s
(``facade``, ``batch``, ``transitions``, ...). ``MODE=pipeline`` runs the pure core and, per command that
changed something, what the service pipeline runs after ``handle``: ``timers``, ``tab_changes`` and
``observe``. docs/benchmarks.md gives the figures of each.
"""

import os

import engines
import stream

from convostate._core.analytics.facts import observe
from convostate._core.rules.engine import timers
from convostate._core.tab_changes import tab_changes

EVENTS = int(os.environ.get("EVENTS", "5000"))


class PipelineEngine(engines.DeciderEngine):
    """``DeciderEngine`` plus the pure helpers the service pipeline calls after ``handle``."""

    def run(self, steps: object) -> None:
        states, settings, rules = self.states, self.settings, engines.DEFAULT_RULES
        for op, cid, inbox, contact, message, user, actor, target, at in steps:  # type: ignore[attr-defined]
            command = _command(op, cid, inbox, contact, message, user, actor, target)
            state = states.get(cid)
            context = engines.DecisionContext(at, settings, inbox=inbox)
            handled = engines.handle(state, command, context, rules)
            if handled.events:
                new = handled.state
                timers(new, rules, context)
                tab_changes(state, new, inbox)
                observe(state, handled.events, settings.timezone, owner=inbox.owner)
                states[cid] = new


def _command(op, cid, inbox, contact, message, user, actor, target):  # type: ignore[no-untyped-def]
    if op == stream.INBOUND:
        return engines.ReceiveMessage(cid, inbox.id, contact, message, engines.BODY)
    if op == stream.REPLY:
        return engines.SendReply(cid, message, engines.REPLY_BODY, actor)
    if op == stream.ASSIGN:
        return engines.Assign(cid, target, actor)
    if op == stream.UNASSIGN:
        return engines.Unassign(cid, target, actor)
    if op == stream.CLOSE:
        return engines.Close(cid, actor)
    if op == stream.READ:
        return engines.MarkRead(cid, user, actor)
    if op == stream.UNREAD:
        return engines.MarkUnread(cid, user, actor)
    if op == stream.STAR:
        return engines.Star(cid, user, actor)
    return engines.Unstar(cid, user, actor)


s = stream.build(events=EVENTS, conversations=EVENTS // 10)
named = os.environ.get("ENGINE")
e = (
    engines.ENGINES[named](s)
    if named
    else (PipelineEngine if os.environ.get("MODE") == "pipeline" else engines.DeciderEngine)(s)
)
e.reset()
if os.environ.get("RUN") == "1":
    e.run(e.steps)

"""The pure core: commands in, events out, no I/O and no clock.

``decide(state, command, context)`` gives the events a command causes; ``evolve(state, event)`` folds one
in; ``replay(events)`` rebuilds a conversation. ``tab_changes`` says what a change does to every user's
tabs and badges, so that a store only applies rows and counters. The values these take (ids, model,
events) are at the top level of :mod:`convostate`. Business hours (``BusinessHours``, ``BusinessDuration``,
``business_time_between``, ``add_business_time``) are here too: the pure calendar arithmetic that
business-time windows and delays run on.
"""

from __future__ import annotations

from convostate._core.business_hours import MAX_DATES as MAX_DATES
from convostate._core.business_hours import MAX_RANGES_PER_DAY as MAX_RANGES_PER_DAY
from convostate._core.business_hours import BusinessDuration as BusinessDuration
from convostate._core.business_hours import BusinessHours as BusinessHours
from convostate._core.business_hours import add_business_time as add_business_time
from convostate._core.business_hours import business_time_between as business_time_between
from convostate._core.commands import Assign as Assign
from convostate._core.commands import Close as Close
from convostate._core.commands import Command as Command
from convostate._core.commands import MarkRead as MarkRead
from convostate._core.commands import MarkUnread as MarkUnread
from convostate._core.commands import ReceiveMessage as ReceiveMessage
from convostate._core.commands import Reopen as Reopen
from convostate._core.commands import SendReply as SendReply
from convostate._core.commands import Snooze as Snooze
from convostate._core.commands import Star as Star
from convostate._core.commands import Unassign as Unassign
from convostate._core.commands import Unsnooze as Unsnooze
from convostate._core.commands import Unstar as Unstar
from convostate._core.decider import INITIAL_STATE as INITIAL_STATE
from convostate._core.decider import DecisionContext as DecisionContext
from convostate._core.decider import decide as decide
from convostate._core.decider import evolve as evolve
from convostate._core.decider import replay as replay
from convostate._core.status import StatusMachine as StatusMachine
from convostate._core.status import Transition as Transition
from convostate._core.status import status_machine as status_machine
from convostate._core.tab_changes import TabChanges as TabChanges
from convostate._core.tab_changes import tab_changes as tab_changes
from convostate._core.tabs import Listing as Listing
from convostate._core.tabs import listing as listing
from convostate._core.tabs import tabs_of as tabs_of

__all__ = [
    "INITIAL_STATE",
    "MAX_DATES",
    "MAX_RANGES_PER_DAY",
    "Assign",
    "BusinessDuration",
    "BusinessHours",
    "Close",
    "Command",
    "DecisionContext",
    "Listing",
    "MarkRead",
    "MarkUnread",
    "ReceiveMessage",
    "Reopen",
    "SendReply",
    "Snooze",
    "Star",
    "StatusMachine",
    "TabChanges",
    "Transition",
    "Unassign",
    "Unsnooze",
    "Unstar",
    "add_business_time",
    "business_time_between",
    "decide",
    "evolve",
    "listing",
    "replay",
    "status_machine",
    "tab_changes",
    "tabs_of",
]

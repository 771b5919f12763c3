"""Rules: the seed product's behaviours as default rules a host can change, extend or replace, in code or
as data (JSON, TOML), and the pure engine that runs them (``handle``, ``cascade``, ``timers``).
"""

from __future__ import annotations

from convostate._core.rules.catalog import vocabulary as vocabulary
from convostate._core.rules.data import rules_from_data as rules_from_data
from convostate._core.rules.data import rules_from_json as rules_from_json
from convostate._core.rules.data import rules_from_toml as rules_from_toml
from convostate._core.rules.data import rules_to_data as rules_to_data
from convostate._core.rules.data import rules_to_json as rules_to_json
from convostate._core.rules.defaults import DEFAULT_RULES as DEFAULT_RULES
from convostate._core.rules.defaults import REOPEN_ON_INBOUND as REOPEN_ON_INBOUND
from convostate._core.rules.defaults import RETURN_TO_AVAILABLE as RETURN_TO_AVAILABLE
from convostate._core.rules.defaults import UNASSIGN_AFTER_WINDOW as UNASSIGN_AFTER_WINDOW
from convostate._core.rules.defaults import WAKE_WHEN_CONTACT_WRITES as WAKE_WHEN_CONTACT_WRITES
from convostate._core.rules.defaults import WAKE_WHEN_SNOOZE_ENDS as WAKE_WHEN_SNOOZE_ENDS
from convostate._core.rules.engine import AssignNextInRotation as AssignNextInRotation
from convostate._core.rules.engine import Handled as Handled
from convostate._core.rules.engine import OpenLinkedConversation as OpenLinkedConversation
from convostate._core.rules.engine import Rotation as Rotation
from convostate._core.rules.engine import RuleLoop as RuleLoop
from convostate._core.rules.engine import Timer as Timer
from convostate._core.rules.engine import Verdict as Verdict
from convostate._core.rules.engine import cascade as cascade
from convostate._core.rules.engine import explain as explain
from convostate._core.rules.engine import fire_timer as fire_timer
from convostate._core.rules.engine import handle as handle
from convostate._core.rules.engine import timers as timers
from convostate._core.rules.model import LARGEST_NUMBER as LARGEST_NUMBER
from convostate._core.rules.model import MAX_CONDITION_DEPTH as MAX_CONDITION_DEPTH
from convostate._core.rules.model import MAX_CONDITIONS as MAX_CONDITIONS
from convostate._core.rules.model import MAX_DOCUMENT_LENGTH as MAX_DOCUMENT_LENGTH
from convostate._core.rules.model import MAX_ITEMS as MAX_ITEMS
from convostate._core.rules.model import MAX_RULES as MAX_RULES
from convostate._core.rules.model import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH
from convostate._core.rules.model import REOPEN_WINDOW as REOPEN_WINDOW
from convostate._core.rules.model import Action as Action
from convostate._core.rules.model import AfterTime as AfterTime
from convostate._core.rules.model import AllOf as AllOf
from convostate._core.rules.model import AnyOf as AnyOf
from convostate._core.rules.model import Condition as Condition
from convostate._core.rules.model import InvalidRules as InvalidRules
from convostate._core.rules.model import Not as Not
from convostate._core.rules.model import OnEvent as OnEvent
from convostate._core.rules.model import Rule as Rule
from convostate._core.rules.model import RuleSet as RuleSet
from convostate._core.rules.model import all_of as all_of
from convostate._core.rules.model import any_of as any_of
from convostate._core.rules.model import when as when
from convostate._core.rules.vocabulary import ActionKind as ActionKind

__all__ = [
    "DEFAULT_RULES",
    "LARGEST_NUMBER",
    "MAX_CONDITIONS",
    "MAX_CONDITION_DEPTH",
    "MAX_DOCUMENT_LENGTH",
    "MAX_ITEMS",
    "MAX_RULES",
    "MAX_TEXT_LENGTH",
    "REOPEN_ON_INBOUND",
    "REOPEN_WINDOW",
    "RETURN_TO_AVAILABLE",
    "UNASSIGN_AFTER_WINDOW",
    "WAKE_WHEN_CONTACT_WRITES",
    "WAKE_WHEN_SNOOZE_ENDS",
    "Action",
    "ActionKind",
    "AfterTime",
    "AllOf",
    "AnyOf",
    "AssignNextInRotation",
    "Condition",
    "Handled",
    "InvalidRules",
    "Not",
    "OnEvent",
    "OpenLinkedConversation",
    "Rotation",
    "Rule",
    "RuleLoop",
    "RuleSet",
    "Timer",
    "Verdict",
    "all_of",
    "any_of",
    "cascade",
    "explain",
    "fire_timer",
    "handle",
    "rules_from_data",
    "rules_from_json",
    "rules_from_toml",
    "rules_to_data",
    "rules_to_json",
    "timers",
    "vocabulary",
    "when",
]

"""convostate: the life of a customer conversation in a helpdesk or business-texting inbox.

A pure core (``decide`` and ``evolve`` over frozen values) owns the rules: status, assignment, stars, read
state and reopen timing. Everything is re-exported here; modules whose names start with ``_`` are private.
"""

from __future__ import annotations

from convostate._adapters.clocks import ManualClock as ManualClock
from convostate._adapters.clocks import SystemClock as SystemClock
from convostate._adapters.ids import RandomIds as RandomIds
from convostate._adapters.ids import SequentialIds as SequentialIds
from convostate._adapters.memory_store import MemoryStore as MemoryStore
from convostate._adapters.outbox_mailer import MailerUnavailable as MailerUnavailable
from convostate._adapters.outbox_mailer import OutboxMailer as OutboxMailer
from convostate._core.actors import Actor as Actor
from convostate._core.actors import ActorKind as ActorKind
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
from convostate._core.errors import ConcurrencyConflict as ConcurrencyConflict
from convostate._core.errors import ConvostateError as ConvostateError
from convostate._core.errors import ExportDisabled as ExportDisabled
from convostate._core.errors import InvalidInput as InvalidInput
from convostate._core.errors import NotAMember as NotAMember
from convostate._core.errors import PermissionDenied as PermissionDenied
from convostate._core.errors import SingleUserInbox as SingleUserInbox
from convostate._core.errors import UnknownContact as UnknownContact
from convostate._core.errors import UnknownConversation as UnknownConversation
from convostate._core.errors import UnknownInbox as UnknownInbox
from convostate._core.errors import UnknownUser as UnknownUser
from convostate._core.events import Assigned as Assigned
from convostate._core.events import Closed as Closed
from convostate._core.events import ConversationStarted as ConversationStarted
from convostate._core.events import Event as Event
from convostate._core.events import MarkedRead as MarkedRead
from convostate._core.events import MarkedUnread as MarkedUnread
from convostate._core.events import MessageReceived as MessageReceived
from convostate._core.events import MessageSent as MessageSent
from convostate._core.events import Reopened as Reopened
from convostate._core.events import ReopenReason as ReopenReason
from convostate._core.events import Snoozed as Snoozed
from convostate._core.events import Starred as Starred
from convostate._core.events import Unassigned as Unassigned
from convostate._core.events import Unsnoozed as Unsnoozed
from convostate._core.events import Unstarred as Unstarred
from convostate._core.ids import ContactId as ContactId
from convostate._core.ids import ConversationId as ConversationId
from convostate._core.ids import InboxId as InboxId
from convostate._core.ids import MessageId as MessageId
from convostate._core.ids import RuleId as RuleId
from convostate._core.ids import UserId as UserId
from convostate._core.model import AccountSettings as AccountSettings
from convostate._core.model import Contact as Contact
from convostate._core.model import Conversation as Conversation
from convostate._core.model import Direction as Direction
from convostate._core.model import Inbox as Inbox
from convostate._core.model import InboxKind as InboxKind
from convostate._core.model import Message as Message
from convostate._core.model import ReadModel as ReadModel
from convostate._core.model import Role as Role
from convostate._core.model import Status as Status
from convostate._core.model import User as User
from convostate._core.rules.data import rules_from_data as rules_from_data
from convostate._core.rules.data import rules_from_json as rules_from_json
from convostate._core.rules.data import rules_from_toml as rules_from_toml
from convostate._core.rules.data import rules_to_data as rules_to_data
from convostate._core.rules.data import rules_to_json as rules_to_json
from convostate._core.rules.defaults import DEFAULT_RULES as DEFAULT_RULES
from convostate._core.rules.defaults import REOPEN_ON_INBOUND as REOPEN_ON_INBOUND
from convostate._core.rules.defaults import UNASSIGN_AFTER_WINDOW as UNASSIGN_AFTER_WINDOW
from convostate._core.rules.defaults import WAKE_WHEN_CONTACT_WRITES as WAKE_WHEN_CONTACT_WRITES
from convostate._core.rules.defaults import WAKE_WHEN_SNOOZE_ENDS as WAKE_WHEN_SNOOZE_ENDS
from convostate._core.rules.engine import AssignNextInRotation as AssignNextInRotation
from convostate._core.rules.engine import Handled as Handled
from convostate._core.rules.engine import OpenLinkedConversation as OpenLinkedConversation
from convostate._core.rules.engine import RuleLoop as RuleLoop
from convostate._core.rules.engine import Timer as Timer
from convostate._core.rules.engine import Verdict as Verdict
from convostate._core.rules.engine import cascade as cascade
from convostate._core.rules.engine import explain as explain
from convostate._core.rules.engine import fire_timer as fire_timer
from convostate._core.rules.engine import handle as handle
from convostate._core.rules.engine import timers as timers
from convostate._core.rules.model import REOPEN_WINDOW as REOPEN_WINDOW
from convostate._core.rules.model import Action as Action
from convostate._core.rules.model import AfterTime as AfterTime
from convostate._core.rules.model import AllOf as AllOf
from convostate._core.rules.model import AnyOf as AnyOf
from convostate._core.rules.model import Condition as Condition
from convostate._core.rules.model import Not as Not
from convostate._core.rules.model import OnEvent as OnEvent
from convostate._core.rules.model import Rule as Rule
from convostate._core.rules.model import RuleSet as RuleSet
from convostate._core.rules.model import all_of as all_of
from convostate._core.rules.model import any_of as any_of
from convostate._core.rules.model import when as when
from convostate._core.rules.vocabulary import ActionKind as ActionKind
from convostate._core.rules.vocabulary import vocabulary as vocabulary
from convostate._core.status import StatusMachine as StatusMachine
from convostate._core.status import Transition as Transition
from convostate._core.status import status_machine as status_machine
from convostate._core.tabs import Listing as Listing
from convostate._core.tabs import Tab as Tab
from convostate._core.tabs import listing as listing
from convostate._core.tabs import tabs_of as tabs_of
from convostate._core.timing import CalendarDuration as CalendarDuration
from convostate._ports import Clock as Clock
from convostate._ports import DueTimer as DueTimer
from convostate._ports import DuplicateDelivery as DuplicateDelivery
from convostate._ports import IdGenerator as IdGenerator
from convostate._ports import Mailer as Mailer
from convostate._ports import OutgoingEmail as OutgoingEmail
from convostate._ports import Position as Position
from convostate._ports import Store as Store
from convostate._ports import TabCount as TabCount
from convostate._service.helpdesk import Helpdesk as Helpdesk
from convostate._service.results import Badges as Badges
from convostate._service.results import Delivery as Delivery
from convostate._service.results import ExportResult as ExportResult
from convostate._service.results import HistoryEntry as HistoryEntry
from convostate._service.results import Outcome as Outcome
from convostate._service.results import Page as Page
from convostate._service.results import StuckTimer as StuckTimer
from convostate._service.results import Sweep as Sweep

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_RULES",
    "INITIAL_STATE",
    "REOPEN_ON_INBOUND",
    "REOPEN_WINDOW",
    "UNASSIGN_AFTER_WINDOW",
    "WAKE_WHEN_CONTACT_WRITES",
    "WAKE_WHEN_SNOOZE_ENDS",
    "AccountSettings",
    "Action",
    "ActionKind",
    "Actor",
    "ActorKind",
    "AfterTime",
    "AllOf",
    "AnyOf",
    "Assign",
    "AssignNextInRotation",
    "Assigned",
    "Badges",
    "CalendarDuration",
    "Clock",
    "Close",
    "Closed",
    "Command",
    "ConcurrencyConflict",
    "Condition",
    "Contact",
    "ContactId",
    "Conversation",
    "ConversationId",
    "ConversationStarted",
    "ConvostateError",
    "DecisionContext",
    "Delivery",
    "Direction",
    "DueTimer",
    "DuplicateDelivery",
    "Event",
    "ExportDisabled",
    "ExportResult",
    "Handled",
    "Helpdesk",
    "HistoryEntry",
    "IdGenerator",
    "Inbox",
    "InboxId",
    "InboxKind",
    "InvalidInput",
    "Listing",
    "Mailer",
    "MailerUnavailable",
    "ManualClock",
    "MarkRead",
    "MarkUnread",
    "MarkedRead",
    "MarkedUnread",
    "MemoryStore",
    "Message",
    "MessageId",
    "MessageReceived",
    "MessageSent",
    "Not",
    "NotAMember",
    "OnEvent",
    "OpenLinkedConversation",
    "OutboxMailer",
    "Outcome",
    "OutgoingEmail",
    "Page",
    "PermissionDenied",
    "Position",
    "RandomIds",
    "ReadModel",
    "ReceiveMessage",
    "Reopen",
    "ReopenReason",
    "Reopened",
    "Role",
    "Rule",
    "RuleId",
    "RuleLoop",
    "RuleSet",
    "SendReply",
    "SequentialIds",
    "SingleUserInbox",
    "Snooze",
    "Snoozed",
    "Star",
    "Starred",
    "Status",
    "StatusMachine",
    "Store",
    "StuckTimer",
    "Sweep",
    "SystemClock",
    "Tab",
    "TabCount",
    "Timer",
    "Transition",
    "Unassign",
    "Unassigned",
    "UnknownContact",
    "UnknownConversation",
    "UnknownInbox",
    "UnknownUser",
    "Unsnooze",
    "Unsnoozed",
    "Unstar",
    "Unstarred",
    "User",
    "UserId",
    "Verdict",
    "__version__",
    "all_of",
    "any_of",
    "cascade",
    "decide",
    "evolve",
    "explain",
    "fire_timer",
    "handle",
    "listing",
    "replay",
    "rules_from_data",
    "rules_from_json",
    "rules_from_toml",
    "rules_to_data",
    "rules_to_json",
    "status_machine",
    "tabs_of",
    "timers",
    "vocabulary",
    "when",
]

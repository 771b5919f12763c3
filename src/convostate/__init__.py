"""convostate: the life of a customer conversation in a helpdesk or business-texting inbox.

The top level is the facade's world: ``Helpdesk``, the values it takes and returns (ids, users, inboxes,
conversations, events, results), its errors, and the ports with their default adapters. The pure core
(``decide``, ``evolve``, commands, tab rules) is :mod:`convostate.core`; the rules vocabulary and engine
are :mod:`convostate.rules`; what a store adapter implements is :mod:`convostate.ports`; fakes and
conformance suites are :mod:`convostate.testing`; JSON is :mod:`convostate.codec`. Modules whose names
start with ``_`` are private.
"""

from __future__ import annotations

from convostate._adapters.clocks import SystemClock as SystemClock
from convostate._adapters.ids import RandomIds as RandomIds
from convostate._adapters.memory_store import MemoryStore as MemoryStore
from convostate._adapters.smtp_mailer import SmtpMailer as SmtpMailer
from convostate._batch import Batch as Batch
from convostate._batch import Committed as Committed
from convostate._core.actors import Actor as Actor
from convostate._core.actors import ActorKind as ActorKind
from convostate._core.errors import ConcurrencyConflict as ConcurrencyConflict
from convostate._core.errors import ConvostateError as ConvostateError
from convostate._core.errors import DuplicateContact as DuplicateContact
from convostate._core.errors import ExportDisabled as ExportDisabled
from convostate._core.errors import InvalidInput as InvalidInput
from convostate._core.errors import MailerNotConfigured as MailerNotConfigured
from convostate._core.errors import NotAMember as NotAMember
from convostate._core.errors import PermanentDeliveryFailure as PermanentDeliveryFailure
from convostate._core.errors import PermissionDenied as PermissionDenied
from convostate._core.errors import SchemaMismatch as SchemaMismatch
from convostate._core.errors import SingleUserInbox as SingleUserInbox
from convostate._core.errors import StorageBusy as StorageBusy
from convostate._core.errors import StorageError as StorageError
from convostate._core.errors import TemporaryDeliveryFailure as TemporaryDeliveryFailure
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
from convostate._core.model import Availability as Availability
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
from convostate._core.rules.engine import RuleLoop as RuleLoop
from convostate._core.rules.engine import Verdict as Verdict
from convostate._core.tabs import Tab as Tab
from convostate._core.timing import CalendarDuration as CalendarDuration
from convostate._fast_core import FastCore as FastCore
from convostate._helpdesk import Helpdesk as Helpdesk
from convostate._ports.records import DueTimer as DueTimer
from convostate._ports.records import EmailStatus as EmailStatus
from convostate._ports.records import OutgoingEmail as OutgoingEmail
from convostate._ports.records import TabCount as TabCount
from convostate._ports.roles import Clock as Clock
from convostate._ports.roles import IdGenerator as IdGenerator
from convostate._ports.roles import Mailer as Mailer
from convostate._ports.roles import Store as Store
from convostate._service.results import Badges as Badges
from convostate._service.results import Delivery as Delivery
from convostate._service.results import ExportResult as ExportResult
from convostate._service.results import HistoryEntry as HistoryEntry
from convostate._service.results import Outcome as Outcome
from convostate._service.results import Page as Page
from convostate._service.results import StuckTimer as StuckTimer
from convostate._service.results import Sweep as Sweep
from convostate._service.retries import RetryPolicy as RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "AccountSettings",
    "Actor",
    "ActorKind",
    "Assigned",
    "Availability",
    "Badges",
    "Batch",
    "CalendarDuration",
    "Clock",
    "Closed",
    "Committed",
    "ConcurrencyConflict",
    "Contact",
    "ContactId",
    "Conversation",
    "ConversationId",
    "ConversationStarted",
    "ConvostateError",
    "Delivery",
    "Direction",
    "DueTimer",
    "DuplicateContact",
    "EmailStatus",
    "Event",
    "ExportDisabled",
    "ExportResult",
    "FastCore",
    "Helpdesk",
    "HistoryEntry",
    "IdGenerator",
    "Inbox",
    "InboxId",
    "InboxKind",
    "InvalidInput",
    "Mailer",
    "MailerNotConfigured",
    "MarkedRead",
    "MarkedUnread",
    "MemoryStore",
    "Message",
    "MessageId",
    "MessageReceived",
    "MessageSent",
    "NotAMember",
    "Outcome",
    "OutgoingEmail",
    "Page",
    "PermanentDeliveryFailure",
    "PermissionDenied",
    "RandomIds",
    "ReadModel",
    "ReopenReason",
    "Reopened",
    "RetryPolicy",
    "Role",
    "RuleId",
    "RuleLoop",
    "SchemaMismatch",
    "SingleUserInbox",
    "SmtpMailer",
    "Snoozed",
    "Starred",
    "Status",
    "StorageBusy",
    "StorageError",
    "Store",
    "StuckTimer",
    "Sweep",
    "SystemClock",
    "Tab",
    "TabCount",
    "TemporaryDeliveryFailure",
    "Unassigned",
    "UnknownContact",
    "UnknownConversation",
    "UnknownInbox",
    "UnknownUser",
    "Unsnoozed",
    "Unstarred",
    "User",
    "UserId",
    "Verdict",
    "__version__",
]

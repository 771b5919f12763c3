"""What an adapter implements: the ports split by role (directory, conversation log, views, timer queue,
outbox), the change set a store commits as one unit of work, and the records it keeps. A store adapter
runs the suites of :mod:`convostate.testing.conformance` against itself.
"""

from __future__ import annotations

from convostate._core.errors import DeliveryFailed as DeliveryFailed
from convostate._core.tab_changes import RowKey as RowKey
from convostate._core.tab_changes import RowPlace as RowPlace
from convostate._core.tab_changes import TabChanges as TabChanges
from convostate._ports.changes import ChangeSet as ChangeSet
from convostate._ports.changes import ConversationChange as ConversationChange
from convostate._ports.changes import DirectoryChange as DirectoryChange
from convostate._ports.changes import Erasure as Erasure
from convostate._ports.changes import ExternalDelivery as ExternalDelivery
from convostate._ports.changes import RewrittenEvent as RewrittenEvent
from convostate._ports.changes import RotationTurns as RotationTurns
from convostate._ports.records import ContactTotal as ContactTotal
from convostate._ports.records import DailyBucket as DailyBucket
from convostate._ports.records import DailyTotal as DailyTotal
from convostate._ports.records import DueTimer as DueTimer
from convostate._ports.records import DurationSample as DurationSample
from convostate._ports.records import EmailStatus as EmailStatus
from convostate._ports.records import OutgoingEmail as OutgoingEmail
from convostate._ports.records import Position as Position
from convostate._ports.records import TabCount as TabCount
from convostate._ports.roles import Accounts as Accounts
from convostate._ports.roles import AccountStore as AccountStore
from convostate._ports.roles import Analytics as Analytics
from convostate._ports.roles import Clock as Clock
from convostate._ports.roles import ConversationLog as ConversationLog
from convostate._ports.roles import Directory as Directory
from convostate._ports.roles import DuplicateDelivery as DuplicateDelivery
from convostate._ports.roles import IdGenerator as IdGenerator
from convostate._ports.roles import Mailer as Mailer
from convostate._ports.roles import Outbox as Outbox
from convostate._ports.roles import Store as Store
from convostate._ports.roles import TimerQueue as TimerQueue
from convostate._ports.roles import Views as Views

__all__ = [
    "AccountStore",
    "Accounts",
    "Analytics",
    "ChangeSet",
    "Clock",
    "ContactTotal",
    "ConversationChange",
    "ConversationLog",
    "DailyBucket",
    "DailyTotal",
    "DeliveryFailed",
    "Directory",
    "DirectoryChange",
    "DueTimer",
    "DuplicateDelivery",
    "DurationSample",
    "EmailStatus",
    "Erasure",
    "ExternalDelivery",
    "IdGenerator",
    "Mailer",
    "Outbox",
    "OutgoingEmail",
    "Position",
    "RewrittenEvent",
    "RotationTurns",
    "RowKey",
    "RowPlace",
    "Store",
    "TabChanges",
    "TabCount",
    "TimerQueue",
    "Views",
]

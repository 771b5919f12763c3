"""What contact info and reports return: plain frozen values a sidebar or a reports page renders as they are.
Every figure is defined in docs/analytics.md."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import attrs
import pendulum

from convostate._core import display
from convostate._core.analytics.durations import NO_DURATIONS, DurationStats
from convostate._core.analytics.facts import Count, Metric, Scope
from convostate._core.ids import ConversationId, InboxId, UserId
from convostate._core.model import Contact, Status


@attrs.frozen
class Reopens:
    """Reopens, by how: by a rule back to the assignees (within the window, under the default rules), by a
    rule to Unassigned (after it, or with nobody assigned), and by a user."""

    to_assignees: int = 0
    to_unassigned: int = 0
    by_user: int = 0

    @property
    def total(self) -> int:
        return self.to_assignees + self.to_unassigned + self.by_user


@attrs.frozen
class Figures:
    """The counts and durations of a contact, or of an inbox or user over some days."""

    conversations: int = 0
    messages_in: int = 0
    messages_out: int = 0
    closed: int = 0
    """Closes (a conversation closed, reopened and closed again counts twice)."""
    reopens: Reopens = Reopens()
    outbound_answered: int = 0
    """Outbound messages the contact wrote back to within 24 hours."""
    first_response: DurationStats = NO_DURATIONS
    reopen_first_response: DurationStats = NO_DURATIONS
    reply: DurationStats = NO_DURATIONS
    resolution: DurationStats = NO_DURATIONS
    first_response_business: DurationStats = NO_DURATIONS
    """The same four durations in business time (on the inbox's business hours, else the account's),
    counted only for what was measured while a calendar was set."""
    reopen_first_response_business: DurationStats = NO_DURATIONS
    reply_business: DurationStats = NO_DURATIONS
    resolution_business: DurationStats = NO_DURATIONS

    @property
    def response_rate(self) -> float | None:
        """The share of outbound messages answered by the contact within 24 hours; None with none sent."""
        return self.outbound_answered / self.messages_out if self.messages_out else None

    @classmethod
    def of(cls, counts: Mapping[Count, int], durations: Mapping[Metric, DurationStats]) -> Figures:
        return cls(
            conversations=counts.get(Count.CONVERSATIONS, 0),
            messages_in=counts.get(Count.MESSAGES_IN, 0),
            messages_out=counts.get(Count.MESSAGES_OUT, 0),
            closed=counts.get(Count.CLOSED, 0),
            reopens=Reopens(
                counts.get(Count.REOPENED_TO_ASSIGNEES, 0),
                counts.get(Count.REOPENED_TO_UNASSIGNED, 0),
                counts.get(Count.REOPENED_BY_USER, 0),
            ),
            outbound_answered=counts.get(Count.OUTBOUND_ANSWERED, 0),
            first_response=durations.get(Metric.FIRST_RESPONSE, NO_DURATIONS),
            reopen_first_response=durations.get(Metric.REOPEN_FIRST_RESPONSE, NO_DURATIONS),
            reply=durations.get(Metric.REPLY, NO_DURATIONS),
            resolution=durations.get(Metric.RESOLUTION, NO_DURATIONS),
            first_response_business=durations.get(Metric.FIRST_RESPONSE_BUSINESS, NO_DURATIONS),
            reopen_first_response_business=durations.get(Metric.REOPEN_FIRST_RESPONSE_BUSINESS, NO_DURATIONS),
            reply_business=durations.get(Metric.REPLY_BUSINESS, NO_DURATIONS),
            resolution_business=durations.get(Metric.RESOLUTION_BUSINESS, NO_DURATIONS),
        )


@attrs.frozen
class ContactConversation:
    """One of the contact's conversations, as the sidebar lists it."""

    id: ConversationId
    inbox_id: InboxId
    status: Status
    assignees: frozenset[UserId]
    last_activity_at: pendulum.DateTime
    unread: bool
    """Unread for the user who asked."""
    awaiting_reply_since: pendulum.DateTime | None
    """The oldest inbound message no user has answered, if any."""


@attrs.frozen
class ContactInfo:
    """A contact's details, its conversations and its analytics: what the "Contact Info" sidebar shows.

    ``conversations`` lists those in inboxes the asking user can see; ``figures`` and the instants below
    cover all of the contact's conversations.
    """

    contact: Contact
    conversations: tuple[ContactConversation, ...]
    figures: Figures
    open: int
    """Its conversations open now."""
    closed: int
    """Its conversations closed now."""
    first_contact_at: pendulum.DateTime | None
    """Its first message, in or out, in any conversation."""
    last_contact_at: pendulum.DateTime | None
    """Its latest message, in or out."""
    last_inbound_at: pendulum.DateTime | None
    last_outbound_at: pendulum.DateTime | None
    waiting_since: pendulum.DateTime | None
    """Since when it has been waiting for an answer: the oldest unanswered inbound message of its open
    conversations; None when it is not waiting."""

    @property
    def waiting(self) -> bool:
        return self.waiting_since is not None

    def _repr_html_(self) -> str:
        return display.contact_info(self)


@attrs.frozen
class ReportRow:
    """One day of a report (in the account's time zone)."""

    day: date
    figures: Figures


@attrs.frozen
class Report:
    """Figures per day for one inbox or user, and their total.

    Every day of the range has a row, zeros included. The total's counts, and its durations' counts and
    means, are the sums over the rows, exactly; medians and 90th percentiles of rows and total come from
    histogram buckets, within 1.6% above a minute and to the second below it.
    """

    scope: Scope
    scope_id: str
    first_day: date
    last_day: date
    rows: tuple[ReportRow, ...]
    total: Figures

    def _repr_html_(self) -> str:
        return display.report(self)

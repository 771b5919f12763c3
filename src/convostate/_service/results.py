"""What the facade returns: plain frozen values a host can render or serialize."""

from __future__ import annotations

import reprlib

import attrs

from convostate._core import display
from convostate._core.actors import Actor
from convostate._core.errors import InvalidInput
from convostate._core.events import Event
from convostate._core.model import Conversation
from convostate._core.tabs import Tab
from convostate._core.validate import clean_text
from convostate._ports.records import DueTimer, EmailStatus, OutgoingEmail, Position, TabCount


@attrs.frozen
class Outcome:
    """The conversation after an action, and the events the action recorded (none when it changed nothing).

    ``follow_ups`` are what rules did beyond this conversation: a linked conversation they opened, a
    round-robin assignment.
    """

    conversation: Conversation
    events: tuple[Event, ...]
    follow_ups: tuple[Outcome, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.events)


@attrs.frozen
class Page:
    """One page of a tab, newest activity first. Pass ``next_cursor`` back to get the next page."""

    conversations: tuple[Conversation, ...]
    next_cursor: str | None

    def _repr_html_(self) -> str:
        return display.page(self)


def cursor_after(conversation: Conversation) -> str:
    position = Position.of(conversation)
    return f"{-position.newest_first}~{position.conversation_id}"


def _storable(conversation_id: str) -> bool:
    try:
        clean_text("cursor", conversation_id)
    except InvalidInput:
        return False
    return True


def parse_cursor(cursor: str) -> Position:
    activity, separator, conversation_id = cursor.partition("~") if isinstance(cursor, str) else ("", "", "")
    digits = activity.removeprefix("-")
    if (
        not separator
        or not conversation_id
        or not (digits.isascii() and digits.isdigit())
        or len(digits) > 20
        or not _storable(conversation_id)
    ):
        raise InvalidInput(
            f"{reprlib.repr(cursor)} is not a cursor; pass the next_cursor of a Page, or None for the first "
            "page"
        )
    return Position(-int(activity), conversation_id)


@attrs.frozen
class Badges:
    """A user's badges: for each tab, how many conversations it lists and how many are unread for them."""

    assigned_to_you: TabCount
    unassigned: TabCount
    closed: TabCount
    starred: TabCount
    all_open: TabCount

    @classmethod
    def from_counts(cls, counts: dict[Tab, TabCount]) -> Badges:
        return cls(**{tab.value: counts[tab] for tab in Tab})

    def __getitem__(self, tab: Tab) -> TabCount:
        count: TabCount = getattr(self, tab.value)
        return count

    def _repr_html_(self) -> str:
        return display.badges(self)


@attrs.frozen
class StuckTimer:
    """A due time rule that a sweep could not settle, and why: it is reported, not retried in that sweep."""

    timer: DueTimer
    reason: str


@attrs.frozen
class Sweep:
    """What ``Helpdesk.run_due`` did: the outcome of each timer that acted, oldest first, and any stuck."""

    acted: tuple[Outcome, ...]
    stuck: tuple[StuckTimer, ...]


@attrs.frozen
class HistoryEntry:
    """One line of a conversation's activity log: the event, who or what caused it, and a readable summary."""

    version: int
    event: Event
    summary: str

    @property
    def actor(self) -> Actor:
        return self.event.actor

    def _repr_html_(self) -> str:
        return display.history([self])

    def _repr_pretty_(self, printer: display.PrettyPrinter, cycle: bool) -> None:
        printer.text(display.history_entry_text(self))


class History(list[HistoryEntry]):
    """A conversation's history, oldest first: a plain list of entries, which Jupyter shows as a table."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return display.history(self)


@attrs.frozen
class ExportResult:
    """What ``Helpdesk.export`` did: the email it queued, as stored after the first attempt to send it.

    ``delivered`` is whether the mailer accepted it; if not, it stays in the outbox for
    ``Helpdesk.deliver_pending`` to retry, and ``error`` says why the attempt failed (None when another
    worker was sending it).
    """

    email: OutgoingEmail
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.email.sent_at is not None


@attrs.frozen
class Delivery:
    """What ``Helpdesk.deliver_pending`` did: the emails it sent and those whose attempt failed, oldest
    first, each as stored after its attempt: with its ``last_error``, and either still pending until its
    ``next_attempt_at`` or failed for good (:attr:`given_up`)."""

    sent: tuple[OutgoingEmail, ...]
    failed: tuple[OutgoingEmail, ...]

    @property
    def given_up(self) -> tuple[OutgoingEmail, ...]:
        """The failed emails that will not be retried: a permanent failure, or the retries ran out. Tell
        each one's ``requested_by`` that the export did not arrive."""
        return tuple(email for email in self.failed if email.status is EmailStatus.FAILED)

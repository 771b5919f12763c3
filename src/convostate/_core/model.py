"""The nouns of a helpdesk: users, inboxes, contacts, messages, account settings and the conversation itself.

Everything is frozen and slotted: values are cheap to share between versions of a conversation, safe to
cache, and compared by value. Types a host builds (users, inboxes, settings) check their input when built;
the conversation and its messages are built only by the decider from checked commands.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from convostate._core.actors import Actor
from convostate._core.business_hours import BusinessDuration, BusinessHours
from convostate._core.errors import InvalidInput
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, UserId
from convostate._core.retention import RetentionPolicy
from convostate._core.timing import CalendarDuration
from convostate._core.validate import (
    frozenset_of,
    instance_of,
    non_empty_text,
    optional_instance_of,
    plain_text,
    tags,
    text,
    time_zone,
)

if TYPE_CHECKING:
    from convostate._core.display import PrettyPrinter

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
"""An address a mail server accepts as it is (RFC 5322's dot-atom), so every user can receive exports."""


class Role(enum.Enum):
    ADMIN = "admin"
    AGENT = "agent"


class InboxKind(enum.Enum):
    MULTI_USER = "multi_user"
    SINGLE_USER = "single_user"


class Status(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Availability(enum.Enum):
    """Whether a user is at work, as the host last said (from its presence system, a status menu, a rota).

    A contact who writes back to a closed conversation returns to the former assignees who are
    ``AVAILABLE``; those ``AWAY`` or ``OFFLINE`` are unassigned first, so that nobody waits on someone who
    is not there (``AccountSettings.reopen_skips_unavailable`` turns this off).
    """

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class ReadModel(enum.Enum):
    """Whose read state a "mark read" changes.

    ``SHARED`` (the default, as in the seed product): one read state per conversation, so when one assignee
    reads it the badge clears for all. ``PER_USER``: each user has their own.
    """

    SHARED = "shared"
    PER_USER = "per_user"


def email_address(name: str, value: Any) -> str:
    """``value`` if it is an address a mail server accepts as it is; the check of a stored email and of
    one a host looks a contact up by, so that a lookup can never miss for a spelling the store refuses."""
    if not _EMAIL.fullmatch(non_empty_text(name, value)):
        raise InvalidInput(f"{name} must be an email address such as 'ana@example.com', got {value!r}")
    return str(value)


def _email(_instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    email_address(attribute.name, value)


@attrs.frozen
class User:
    """A person who works the inbox: an ``agent``, or an ``admin`` who may also change account settings."""

    id: UserId = attrs.field(validator=instance_of(UserId, "UserId('ana')"))
    name: str = attrs.field(validator=text)
    email: str = attrs.field(validator=_email)
    role: Role = attrs.field(default=Role.AGENT, validator=instance_of(Role, "Role.AGENT"))
    availability: Availability = attrs.field(
        default=Availability.AVAILABLE,
        validator=instance_of(Availability, "Availability.AWAY"),
        kw_only=True,
    )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _inbox_members(instance: Inbox, attribute: attrs.Attribute[frozenset[UserId]], value: object) -> None:
    frozenset_of(UserId, "UserId('ana')")(instance, attribute, value)
    if instance.kind is InboxKind.SINGLE_USER and len(instance.members) != 1:
        raise InvalidInput(
            f"a single-user inbox has exactly one member, its owner; got {len(instance.members)}. "
            "Use Inbox.single_user(id, name, owner) or Inbox.multi_user(id, name, members)"
        )


_CALENDAR_HINT = "BusinessHours('Europe/London', {'mon': '09:00-17:00'})"


@attrs.frozen
class Inbox:
    """Where contacts write. Multi-user inboxes have members who can be assigned; a single-user inbox has
    one owner, who is the only participant of each of its conversations."""

    id: InboxId = attrs.field(validator=instance_of(InboxId, "InboxId('support')"))
    name: str = attrs.field(validator=text)
    kind: InboxKind = attrs.field(validator=instance_of(InboxKind, "InboxKind.MULTI_USER"))
    members: frozenset[UserId] = attrs.field(validator=_inbox_members)
    business_hours: BusinessHours | None = attrs.field(
        default=None, validator=optional_instance_of(BusinessHours, _CALENDAR_HINT), kw_only=True
    )
    """This inbox's own calendar for business durations (a night desk, another country's team); None
    uses the account's (``AccountSettings.business_hours``)."""

    @classmethod
    def multi_user(
        cls,
        id: InboxId,
        name: str,
        members: frozenset[UserId] = frozenset(),
        *,
        business_hours: BusinessHours | None = None,
    ) -> Inbox:
        return cls(id, name, InboxKind.MULTI_USER, members, business_hours=business_hours)

    @classmethod
    def single_user(
        cls, id: InboxId, name: str, owner: UserId, *, business_hours: BusinessHours | None = None
    ) -> Inbox:
        return cls(id, name, InboxKind.SINGLE_USER, frozenset({owner}), business_hours=business_hours)

    @property
    def is_single_user(self) -> bool:
        return self.kind is InboxKind.SINGLE_USER

    @property
    def owner(self) -> UserId | None:
        """The owner of a single-user inbox; None for a multi-user inbox."""
        return next(iter(self.members)) if self.is_single_user else None


_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
"""ITU-T E.164: a plus, a country code and at most 15 digits in all, the one spelling of a number that a
webhook from any provider can be matched against."""


def _optional_phone(_instance: object, attribute: attrs.Attribute[str | None], value: Any) -> None:
    if value is not None and not _E164.fullmatch(non_empty_text(attribute.name, value)):
        raise InvalidInput(
            f"{attribute.name} must be an E.164 number such as '+15555550100', got {value!r}; "
            "Helpdesk.add_contact normalises other spellings"
        )


def _optional_email(instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    if value is not None:
        _email(instance, attribute, value)


@attrs.frozen
class Contact:
    """The customer who writes to an inbox. Texting contacts often have only a phone number.

    ``phone`` is in E.164 (``+15555550100``) and ``email`` is an address, so that an inbound message's
    sender can be looked up (:meth:`Helpdesk.find_contact`); an account has at most one contact per phone
    number and per email address.
    """

    id: ContactId = attrs.field(validator=instance_of(ContactId, "ContactId('c-1')"))
    name: str = attrs.field(default="", validator=plain_text)
    phone: str | None = attrs.field(default=None, validator=_optional_phone)
    email: str | None = attrs.field(default=None, validator=_optional_email)
    tags: frozenset[str] = attrs.field(default=frozenset(), validator=tags)
    """Labels a host gives contacts (``vip``, ``wholesale``) that rules can test."""
    erased_at: pendulum.DateTime | None = attrs.field(
        default=None, validator=optional_instance_of(pendulum.DateTime, "pendulum.now('UTC')"), kw_only=True
    )
    """When an admin erased the contact (:meth:`Helpdesk.erase_contact`): its name is then the tombstone
    ``[erased]`` and it has no phone, email or tags; None for a contact never erased."""
    erased_by: UserId | None = attrs.field(
        default=None, validator=optional_instance_of(UserId, "UserId('ana')"), kw_only=True
    )
    """The admin who erased the contact; None if it was never erased."""


def _timezone(_instance: object, _attribute: object, value: Any) -> None:
    time_zone(value)


def _optional_region(_instance: object, attribute: attrs.Attribute[str | None], value: Any) -> None:
    if value is not None and not (isinstance(value, str) and re.fullmatch("[A-Z]{2}", value)):
        raise InvalidInput(
            f"{attribute.name} must be a two-letter ISO 3166 region code such as 'US', or None; got {value!r}"
        )


def _window(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, CalendarDuration | BusinessDuration):
        raise InvalidInput(
            f"{attribute.name} must be a CalendarDuration or a BusinessDuration (e.g. "
            f"CalendarDuration(weeks=1), CalendarDuration.parse('P1W') or BusinessDuration(hours=24)), "
            f"got {type(value).__name__} {value!r}"
        )


@attrs.frozen
class AccountSettings:
    """Per-account choices. Defaults are the seed product's: a one-week window in UTC, shared read state,
    exports on, no business hours; a reopen skips only the assignees the host said are away or offline
    (everyone is available until it says otherwise)."""

    timezone: str = attrs.field(default="UTC", validator=_timezone, kw_only=True)
    reopen_window: CalendarDuration | BusinessDuration = attrs.field(
        factory=lambda: CalendarDuration(weeks=1), validator=_window, kw_only=True
    )
    read_model: ReadModel = attrs.field(
        default=ReadModel.SHARED, validator=instance_of(ReadModel, "ReadModel.SHARED"), kw_only=True
    )
    exports_enabled: bool = attrs.field(default=True, validator=instance_of(bool, "True"), kw_only=True)
    phone_region: str | None = attrs.field(default=None, validator=_optional_region, kw_only=True)
    """Where a phone number written without a country code is from (ISO 3166 alpha-2, ``"US"``), for
    normalising contacts' numbers to E.164; None accepts only numbers with their ``+`` country code."""
    business_hours: BusinessHours | None = attrs.field(
        default=None, validator=optional_instance_of(BusinessHours, _CALENDAR_HINT), kw_only=True
    )
    """The account's calendar, which business durations (a reopen window or a rule's delay such as
    ``business:PT24H``) count on; an inbox may have its own."""
    reopen_skips_unavailable: bool = attrs.field(
        default=True, validator=instance_of(bool, "True"), kw_only=True
    )
    """When the contact writes back within the window, the conversation returns only to its former assignees
    who are available (unassigning the ones away or offline). False keeps the seed's behaviour: it returns
    to all of them."""
    retention: RetentionPolicy | None = attrs.field(
        default=None,
        validator=optional_instance_of(RetentionPolicy, "RetentionPolicy(message_bodies_after=...)"),
        kw_only=True,
    )
    """How long message bodies and closed conversations' text are kept (:meth:`Helpdesk.apply_retention`
    erases the rest); None keeps them for ever."""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.reopen_window, BusinessDuration) and self.business_hours is None:
            raise InvalidInput(
                f"the reopen window {self.reopen_window} counts business time, but the account has no "
                f"business hours; set business_hours too (e.g. {_CALENDAR_HINT}) or use a calendar "
                "duration such as CalendarDuration(weeks=1)"
            )

    def end_of(
        self,
        duration: CalendarDuration | BusinessDuration,
        start: pendulum.DateTime,
        *,
        inbox: Inbox | None = None,
    ) -> pendulum.DateTime:
        """The instant (in UTC) ``duration`` after ``start``: a calendar duration on the account's wall
        clock, a business duration on the inbox's calendar, else the account's.

        Raises:
            InvalidInput: a business duration where neither the inbox nor the account has business hours.
        """
        if isinstance(duration, CalendarDuration):
            return duration.end(start, self.timezone)
        calendar = (inbox.business_hours if inbox is not None else None) or self.business_hours
        if calendar is None:
            raise InvalidInput(
                f"{duration} counts business time, but neither the account nor the inbox"
                f"{f' {inbox.id}' if inbox is not None else ''} has business hours; set "
                "AccountSettings.business_hours (or the inbox's), or use a calendar duration such as 'PT24H'"
            )
        return duration.end(start, calendar)


@attrs.frozen
class Message:
    """One message, inbound from the contact or outbound from a user."""

    id: MessageId
    conversation_id: ConversationId
    direction: Direction
    author: Actor
    body: str
    sent_at: pendulum.DateTime
    external_id: str | None = None


@attrs.frozen
class OutboundMessage:
    """When an outbound message was sent, and by which user (None: a rule or an integration)."""

    at: pendulum.DateTime
    by: UserId | None = None


@attrs.frozen
class Conversation:
    """The state of one conversation, rebuilt exactly by replaying its events.

    Assignees are kept while the conversation is closed (they are still its participants); it just leaves
    their "Assigned to You" tab. Read state is ``unread`` plus ``read_overrides``: in the shared read model
    the overrides are always empty; in the per-user model they are the users whose own state is the
    opposite of ``unread``, which is what an inbound message resets.
    """

    id: ConversationId
    inbox_id: InboxId
    contact_id: ContactId
    started_at: pendulum.DateTime
    last_activity_at: pendulum.DateTime
    updated_at: pendulum.DateTime
    """When the last event happened (any event, unlike ``last_activity_at``)."""
    status: Status = Status.OPEN
    assignees: frozenset[UserId] = frozenset()
    starred_by: frozenset[UserId] = frozenset()
    unread: bool = False
    read_overrides: frozenset[UserId] = frozenset()
    closed_at: pendulum.DateTime | None = None
    last_inbound_at: pendulum.DateTime | None = None
    last_outbound_at: pendulum.DateTime | None = None
    snoozed_until: pendulum.DateTime | None = None
    linked_from: ConversationId | None = None
    """The earlier conversation this one follows up, when a rule opened it instead of reopening that one."""
    version: int = 0
    # What the contact analytics measure from (docs/analytics.md): kept by ``evolve`` like the rest of the
    # state, so that each action's measurements follow from the state it started from, never from a scan.
    opened_at: pendulum.DateTime | None = None
    """When it started, or when it last reopened: a resolution time runs from here to the close."""
    closes: int = 0
    """How many times it has closed: a first response after the first close is a reopen's."""
    replied_this_round: bool = False
    """Whether a user has replied since it started or last closed: a round (a conversation's life up to
    its first close, or from one close to the next) has at most one first response, and none when a user
    wrote first."""
    awaiting_first_reply_since: pendulum.DateTime | None = None
    """The inbound message a first response is measured from: the first one since it started or last
    closed, while no user has replied since."""
    awaiting_reply_since: pendulum.DateTime | None = None
    """The oldest inbound message no user has answered yet (a reply, or a close, ends the wait)."""
    unanswered_outbound: tuple[OutboundMessage, ...] = ()
    """Outbound messages of the last 24 hours the contact has not written back to since: a message from
    the contact answers them (the response rate)."""

    @property
    def is_open(self) -> bool:
        return self.status is Status.OPEN

    def is_unread_for(self, user_id: UserId) -> bool:
        return self.unread != (user_id in self.read_overrides)

    def participants(self, inbox: Inbox) -> frozenset[UserId]:
        """The users on the conversation: its assignees, or the owner of a single-user inbox."""
        return inbox.members if inbox.is_single_user else self.assignees

    def _repr_html_(self) -> str:
        """What Jupyter shows (a table of its fields; instants in their own offset, UTC as stored)."""
        from convostate._core import display  # noqa: PLC0415 (only notebooks need it)

        return display.conversation(self)

    def _repr_pretty_(self, printer: PrettyPrinter, cycle: bool) -> None:
        """What IPython prints: one line (``repr`` stays attrs', every field)."""
        from convostate._core import display  # noqa: PLC0415 (only IPython needs it)

        printer.text(display.conversation_text(self))

"""The checks every store runs on what it is handed, so that a host calling a port directly gets the same
``InvalidInput`` as through the facade, instead of an ``AttributeError`` from inside one adapter and a
database error from another.

Every store adapter calls these at the top of its port methods; the conformance suites check that it does.
They are cheap (a type test; the values themselves were checked when they were built) because the
facade calls the ports on every action.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any, Final, TypeVar

import pendulum

from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.errors import InvalidInput
from convostate._core.ids import ConversationId, InboxId, UserId
from convostate._core.model import Contact, Conversation
from convostate._core.rules.engine import Timer
from convostate._core.tab_changes import TabChanges
from convostate._core.tabs import Tab
from convostate._core.validate import at_least_one, aware_datetime, check_type
from convostate._ports.changes import (
    AssignmentsSeen,
    ChangeSet,
    ConversationChange,
    DirectoryChange,
    Erasure,
    ExternalDelivery,
    RewrittenEvent,
    RotationTurns,
)
from convostate._ports.records import DueTimer, EmailStatus, OutgoingEmail, Position

T = TypeVar("T")


def an_id(name: str, value: object, id_type: type[T]) -> T:
    if type(value) is id_type:
        return value
    return check_type(name, value, id_type, f"{id_type.__name__}('x')")


def ids(name: str, values: object, id_type: type[T]) -> list[T]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(f"{name} takes a collection of {id_type.__name__}, got {type(values).__name__}")
    return [an_id(f"each of {name}", value, id_type) for value in values]


def inbox_ids(values: object, id_type: type[T]) -> Collection[T]:
    if isinstance(values, (frozenset, set)) and all(type(value) is id_type for value in values):
        return values
    return ids("inbox_ids", values, id_type)


def an_instant(name: str, value: object) -> pendulum.DateTime:
    if isinstance(value, pendulum.DateTime):
        return aware_datetime(value)
    raise InvalidInput(
        f"{name} must be a timezone-aware pendulum.DateTime, got {type(value).__name__} {value!r}"
    )


def an_optional_instant(name: str, value: object) -> pendulum.DateTime | None:
    return None if value is None else an_instant(name, value)


def an_email_status(value: object) -> EmailStatus:
    return check_type("status", value, EmailStatus, "EmailStatus.FAILED")


def an_optional_text(name: str, value: object) -> str | None:
    return None if value is None else text(name, value)


def a_limit(value: object) -> int:
    return at_least_one("limit", value, "100")


def text(name: str, value: object) -> str:
    return check_type(name, value, str, "'email-1'")


def a_tab(value: object) -> Tab:
    return check_type("tab", value, Tab, "Tab.ALL_OPEN")


def a_tab_page(
    tab: object, user_id: object, inboxes: object, after: object, limit: object
) -> Collection[InboxId]:
    """The checks of ``Views.tab_page``, which every store runs alike; the inbox ids, as a collection."""
    a_tab(tab)
    an_id("user_id", user_id, UserId)
    a_position(after)
    a_limit(limit)
    return inbox_ids(inboxes, InboxId)


def a_position(value: object) -> Position | None:
    return None if value is None else check_type("after", value, Position, "a Position from a page")


def a_due_timer(value: object) -> DueTimer | None:
    return None if value is None else check_type("after", value, DueTimer, "a DueTimer from due()")


def due_timers(values: object) -> list[DueTimer]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        raise InvalidInput(f"timers takes DueTimers from claim_due(), got {type(values).__name__}")
    return [check_type("each of timers", value, DueTimer, "a DueTimer") for value in values]


def a_change_set(value: Any) -> ChangeSet:
    """A change set of the right shape: each part a tuple of its kind, each conversation change's fields of
    theirs. Type tests only, made in C where it can (a store runs this on every commit, and most change
    sets are one conversation's): the values inside were checked when they were built, and what a store
    cannot keep of them it refuses when it packs or encodes them."""
    if type(value) is not ChangeSet:
        raise InvalidInput(f"commit() takes a ChangeSet, got {type(value).__name__} {value!r}")
    conversations, version, directory, contacts, rotations, deliveries, emails, seen, erasure = value
    if type(conversations) is not tuple:
        _tuple_of("ChangeSet.conversations", conversations, ConversationChange)  # raises
    for change in conversations:
        if type(change) is not ConversationChange:
            _tuple_of("ChangeSet.conversations", (change,), ConversationChange)  # raises, but for a subclass
        state, events, expected, timers, tabs, facts = change
        if not (
            type(state) is Conversation
            and type(events) is tuple
            and type(expected) is int
            and type(timers) is tuple
            and type(tabs) is TabChanges
            and type(facts) is tuple
        ):
            _a_conversation_change(change)
    if (contacts, rotations, deliveries, emails, seen) != _NOTHING_ELSE:
        _tuple_of("ChangeSet.contacts", contacts, Contact)
        _tuple_of("ChangeSet.rotations", rotations, RotationTurns)
        _tuple_of("ChangeSet.deliveries", deliveries, ExternalDelivery)
        _tuple_of("ChangeSet.emails", emails, OutgoingEmail)
        _tuple_of("ChangeSet.assignments_seen", seen, AssignmentsSeen)
    if directory is not None and not _is(directory, DirectoryChange):
        raise InvalidInput(f"ChangeSet.directory takes a DirectoryChange or None, got {directory!r}")
    if version is not None and type(version) is not int:
        raise InvalidInput(f"ChangeSet.directory_version takes an int or None, got {version!r}")
    if erasure is not None:
        an_erasure(erasure)
    return value


_NOTHING_ELSE: Final = ((), (), (), (), ())
"""A change set's contacts, rotations, deliveries, emails and assignments seen when it has none of them
(compared in C: the empty tuple is one object)."""


def _a_conversation_change(change: ConversationChange) -> None:
    """The slow path for a change whose fields are not of the exact types: subclasses pass."""
    state, events, expected, timers, tabs, facts = change
    if not (
        _is(state, Conversation)
        and isinstance(events, tuple)
        and type(expected) is int
        and isinstance(timers, tuple)
        and _is(tabs, TabChanges)
        and isinstance(facts, tuple)
    ):
        raise InvalidInput(
            "a ConversationChange takes a Conversation, a tuple of events, an int version and tuples of "
            f"timers and facts, got {change!r}"
        )


def _is(value: object, kind: type[Any]) -> bool:
    return type(value) is kind or isinstance(value, kind)


def _tuple_of(name: str, values: object, kind: type[T]) -> tuple[T, ...]:
    if type(values) is not tuple:
        raise InvalidInput(f"{name} takes a tuple of {kind.__name__}, got {type(values).__name__} {values!r}")
    for each in values:
        if not _is(each, kind):
            raise InvalidInput(f"{name} takes {kind.__name__}s, got {type(each).__name__} {each!r}")
    return values


def an_erasure(value: object) -> Erasure:
    """An erasure and what it holds, each of its kind: it rewrites stored values, so a wrong one is refused
    before anything is written (an erasure is rare, so every element is checked)."""
    if not isinstance(value, Erasure):
        raise InvalidInput(
            f"ChangeSet.erasure takes an Erasure or None, got {type(value).__name__} {value!r}"
        )
    if value.contact is not None and not isinstance(value.contact, Contact):
        raise InvalidInput(f"Erasure.contact takes a Contact or None, got {value.contact!r}")
    for name in ("conversations", "events", "emails", "emails_of"):
        if type(getattr(value, name)) is not tuple:  # iterated more than once: an iterator would run dry
            raise InvalidInput(f"Erasure.{name} takes a tuple, got {getattr(value, name)!r}")
    for pair in value.conversations:
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and type(pair[0]) is ConversationId
            and type(pair[1]) is int
        ):
            raise InvalidInput(f"Erasure.conversations takes (ConversationId, version) pairs, got {pair!r}")
    for rewritten in value.events:
        if not (
            isinstance(rewritten, RewrittenEvent)
            and type(rewritten.conversation_id) is ConversationId
            and type(rewritten.version) is int
        ):
            raise InvalidInput(f"Erasure.events takes RewrittenEvents, got {rewritten!r}")
    for email in value.emails:
        if not isinstance(email, OutgoingEmail):
            raise InvalidInput(f"Erasure.emails takes OutgoingEmails, got {email!r}")
    ids("Erasure.emails_of", value.emails_of, ConversationId)
    return value


MAX_REPORT_DAYS = 3_660
"""The longest report range: ten years of days (a report reads a row per day, so this bounds its cost)."""


def report_scope(scope: object, scope_ids: object, first_day: object, last_day: object) -> list[str]:
    """The ids of a report's inboxes or users, after checking the scope and the day range."""
    if not isinstance(scope, Scope) or scope is Scope.CONTACT:
        raise InvalidInput(f"a report's scope is Scope.INBOX or Scope.USER, got {scope!r}")
    if isinstance(scope_ids, (str, bytes)) or not isinstance(scope_ids, Iterable):
        raise InvalidInput(f"scope_ids takes a collection of ids (str), got {type(scope_ids).__name__}")
    checked = [text("each of scope_ids", value) for value in scope_ids]
    for name, day in (("first_day", first_day), ("last_day", last_day)):
        if type(day) is not date and not (isinstance(day, date) and not isinstance(day, datetime)):
            raise InvalidInput(f"{name} must be a date such as date(2026, 11, 30), got {day!r}")
    assert isinstance(first_day, date)
    assert isinstance(last_day, date)
    if last_day < first_day:
        raise InvalidInput(f"last_day {last_day} is before first_day {first_day}")
    if (last_day - first_day).days >= MAX_REPORT_DAYS:
        raise InvalidInput(
            f"a report spans at most {MAX_REPORT_DAYS} days, not {(last_day - first_day).days + 1}"
        )
    return checked


_INT64_LIMIT = 2**63
"""A contact's counters and samples are 64-bit integers (so is every SQL store's column)."""


def storable_facts(facts: Iterable[Fact]) -> None:
    """Refuse, with InvalidInput, a fact a store could not add up: only a hand-made change set holds one
    (``observe`` makes every other), and a store checks before it writes anything, so adding them up
    cannot fail half-way. Cheap: a type test per field, the instant once per command."""
    last_at: object = _UNCHECKED
    for fact in facts:
        if type(fact) is not Fact:
            raise InvalidInput(f"ConversationChange.facts takes Facts, got {fact!r}")
        scope, scope_id, kind, value, at, day, conversation_id = fact
        if not (
            type(scope) is Scope
            and (type(kind) is Count or type(kind) is Metric)
            and type(value) is int
            and -_INT64_LIMIT <= value < _INT64_LIMIT
            and (type(day) is date or (isinstance(day, date) and not isinstance(day, datetime)))
            and (type(scope_id) is str or isinstance(scope_id, str))
            and (type(conversation_id) is str or isinstance(conversation_id, str))
        ):
            raise InvalidInput(f"{fact!r} is not a fact a store can add up")
        if at is not last_at:  # a command's facts share their instant: checked once
            aware_datetime(at)
            last_at = at


_UNCHECKED: Final = object()
"""No instant checked yet (not None, which a hand-made fact may hold)."""


def storable_tab_changes(tabs: TabChanges) -> None:
    """Refuse, with InvalidInput, tab changes that are not rows and counters (a hand-made change set's),
    before a SQL store's transaction, so that the refusal is convostate's and not the database's. (The
    memory store, where this would cost 4.5% of every action, takes back the rows it moved instead.)"""
    removed, added, unread, assigned, unassigned = tabs
    if not (
        all(type(part) is tuple for part in tabs)
        and all(_is_pair(row) and _is_row_key(row[0]) and _is_place(row[1]) for row in (*removed, *added))
        and all(_is_pair(each) and _is_row_key(each[0]) and type(each[1]) is int for each in unread)
        and all(type(user) is str for user in (*assigned, *unassigned))
    ):
        raise InvalidInput(f"ConversationChange.tabs takes the TabChanges tab_changes() gives, got {tabs!r}")


def _is_pair(value: object) -> bool:
    return type(value) is tuple and len(value) == 2


def _is_row_key(key: object) -> bool:
    return type(key) is tuple and len(key) == 3 and all(type(part) is str for part in key)


def _is_place(place: object) -> bool:
    return _is_pair(place) and type(place[0]) is int and type(place[1]) is str  # type: ignore[index]


def timer_due_at(timer: Timer, conversation_id: object) -> pendulum.DateTime:
    """A timer's due instant in UTC, or InvalidInput for a timer that is not one or is due at an instant
    every store refuses (a hand-made change set's), before a store writes it."""
    try:
        return aware_datetime(timer.due_at)
    except (AttributeError, TypeError) as error:
        raise InvalidInput(
            f"{timer!r} of conversation {conversation_id} is not a Timer due at an aware instant"
        ) from error

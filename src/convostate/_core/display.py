"""HTML for notebooks: what Jupyter shows for a conversation, a tab page, badges, a history, contact info
and a report (their ``_repr_html_`` methods call these); and the one-line text IPython's pretty printer
shows for a conversation and a history entry, whose attrs ``repr`` (kept, for tests and logs) spells out
every field and the whole event.

Pure functions from a value to a string. Every piece of text goes through ``html.escape``: names, tags and
message bodies come from contacts and are hostile input. The values are described by protocols rather than
imported, because the pages, badges and reports are the service layer's and the core imports nothing
above it.

An instant is shown as it is stored, in its own offset (UTC for everything a store hands back), to the
second: a value does not know the account's time zone.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from convostate._core.analytics.durations import DurationStats
from convostate._core.analytics.facts import Scope
from convostate._core.events import Event
from convostate._core.model import Contact, Conversation, Status
from convostate._core.tabs import Tab

_CLASS = "convostate"
"""The class of every table, for a host's stylesheet."""

_TAB_TITLES = {
    Tab.ASSIGNED_TO_YOU: "Assigned to You",
    Tab.UNASSIGNED: "Unassigned",
    Tab.CLOSED: "Closed",
    Tab.STARRED: "Starred",
    Tab.ALL_OPEN: "All Open",
}


class PrettyPrinter(Protocol):
    """The part of IPython's ``RepresentationPrinter`` that ``_repr_pretty_`` uses."""

    def text(self, text: str, /) -> None: ...


class TabCountLike(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def unread(self) -> int: ...


class BadgesLike(Protocol):
    def __getitem__(self, tab: Tab, /) -> TabCountLike: ...


class PageLike(Protocol):
    @property
    def conversations(self) -> Sequence[Conversation]: ...
    @property
    def next_cursor(self) -> str | None: ...


class HistoryEntryLike(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def event(self) -> Event: ...
    @property
    def summary(self) -> str: ...


class ReopensLike(Protocol):
    @property
    def to_assignees(self) -> int: ...
    @property
    def to_unassigned(self) -> int: ...
    @property
    def by_user(self) -> int: ...


class FiguresLike(Protocol):
    @property
    def conversations(self) -> int: ...
    @property
    def messages_in(self) -> int: ...
    @property
    def messages_out(self) -> int: ...
    @property
    def closed(self) -> int: ...
    @property
    def reopens(self) -> ReopensLike: ...
    @property
    def response_rate(self) -> float | None: ...
    @property
    def first_response(self) -> DurationStats: ...
    @property
    def reopen_first_response(self) -> DurationStats: ...
    @property
    def reply(self) -> DurationStats: ...
    @property
    def resolution(self) -> DurationStats: ...


class ContactConversationLike(Protocol):
    @property
    def id(self) -> object: ...
    @property
    def inbox_id(self) -> object: ...
    @property
    def status(self) -> Status: ...
    @property
    def assignees(self) -> Iterable[object]: ...
    @property
    def last_activity_at(self) -> datetime: ...
    @property
    def unread(self) -> bool: ...
    @property
    def awaiting_reply_since(self) -> datetime | None: ...


class ContactInfoLike(Protocol):
    @property
    def contact(self) -> Contact: ...
    @property
    def conversations(self) -> Sequence[ContactConversationLike]: ...
    @property
    def figures(self) -> FiguresLike: ...
    @property
    def open(self) -> int: ...
    @property
    def closed(self) -> int: ...
    @property
    def first_contact_at(self) -> datetime | None: ...
    @property
    def last_contact_at(self) -> datetime | None: ...
    @property
    def waiting_since(self) -> datetime | None: ...


class ReportRowLike(Protocol):
    @property
    def day(self) -> date: ...
    @property
    def figures(self) -> FiguresLike: ...


class ReportLike(Protocol):
    @property
    def scope(self) -> Scope: ...
    @property
    def scope_id(self) -> str: ...
    @property
    def first_day(self) -> date: ...
    @property
    def last_day(self) -> date: ...
    @property
    def rows(self) -> Sequence[ReportRowLike]: ...
    @property
    def total(self) -> FiguresLike: ...


# ---------------------------------------------------------------- cells


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def instant(value: datetime | None) -> str:
    """An instant to the second in its own offset, inside a ``<time>`` element; a dash for None."""
    if value is None:
        return "&ndash;"
    shown = value.replace(microsecond=0).isoformat(sep=" ")
    return f'<time datetime="{_text(value.isoformat())}">{_text(shown)}</time>'


def duration(value: timedelta | None) -> str:
    """A duration as a person reads it (``2 d 3 h``, ``1 h 05 min``, ``42 s``); a dash for None."""
    if value is None:
        return "&ndash;"
    seconds = round(value.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02} min"
    if minutes:
        return f"{minutes} min {seconds:02} s"
    return f"{seconds} s"


def _names(values: Iterable[object]) -> str:
    shown = sorted(str(value) for value in values)
    return _text(", ".join(shown)) if shown else "&ndash;"


def _row(*cells: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], kind: str) -> str:
    body = "".join(_row(*row) for row in rows)
    return (
        f'<table class="{_CLASS} {_CLASS}-{kind}"><thead>{_row(*map(_text, head), header=True)}</thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _fields(rows: Iterable[tuple[str, str]], kind: str) -> str:
    """A two-column table of a label (plain text, escaped here) and a cell (HTML already)."""
    body = "".join(
        f'<tr><th style="text-align:left">{_text(label)}</th><td>{cell}</td></tr>' for label, cell in rows
    )
    return f'<table class="{_CLASS} {_CLASS}-{kind}"><tbody>{body}</tbody></table>'


def _title(text: str, note: str = "") -> str:
    return f"<strong>{_text(text)}</strong>" + (f" <small>{_text(note)}</small>" if note else "")


def _empty(text: str) -> str:
    return f"<p><em>{_text(text)}</em></p>"


def _div(kind: str, *parts: str) -> str:
    return f'<div class="{_CLASS}-{kind}">' + "".join(parts) + "</div>"


# ---------------------------------------------------------------- values


def conversation(value: Conversation) -> str:
    """One conversation: who, where, its status and read state, and its instants."""
    unread = "unread" if value.unread else "read"
    if value.read_overrides:
        unread += f" (the opposite for {', '.join(sorted(str(user) for user in value.read_overrides))})"
    rows = [
        ("inbox", _text(value.inbox_id)),
        ("contact", _text(value.contact_id)),
        ("status", _text(value.status.value)),
        ("assignees", _names(value.assignees)),
        ("read state", _text(unread)),
        ("starred by", _names(value.starred_by)),
        ("started", instant(value.started_at)),
        ("last activity", instant(value.last_activity_at)),
        ("awaiting a reply since", instant(value.awaiting_reply_since)),
        ("closed", instant(value.closed_at)),
    ]
    if value.snoozed_until is not None:
        rows.append(("snoozed until", instant(value.snoozed_until)))
    if value.linked_from is not None:
        rows.append(("follows up", _text(value.linked_from)))
    return _div(
        "conversation",
        _title(f"Conversation {value.id}", f"version {value.version}"),
        _fields(rows, "conversation"),
    )


def conversations(values: Sequence[Conversation]) -> str:
    """Conversations as the rows of a tab: one line each."""
    if not values:
        return _empty("No conversations.")
    return _table(
        ("conversation", "inbox", "contact", "status", "assignees", "unread", "last activity"),
        (
            (
                _text(value.id),
                _text(value.inbox_id),
                _text(value.contact_id),
                _text(value.status.value),
                _names(value.assignees),
                "&#9679;" if value.unread else "",
                instant(value.last_activity_at),
            )
            for value in values
        ),
        "conversations",
    )


def page(value: PageLike) -> str:
    """A page of a tab, and whether another follows."""
    count = len(value.conversations)
    note = "more after this page" if value.next_cursor is not None else "the last page"
    return _div(
        "page",
        _title(f"{count} conversation{'' if count == 1 else 's'}", note),
        conversations(value.conversations),
    )


def badges(value: BadgesLike) -> str:
    """A user's badges: each tab's count, and how many of those are unread."""
    return _div(
        "badges",
        _table(
            ("", *(_TAB_TITLES[tab] for tab in Tab)),
            (
                (_text("conversations"), *(str(value[tab].total) for tab in Tab)),
                (_text("unread"), *(str(value[tab].unread) for tab in Tab)),
            ),
            "badges",
        ),
    )


def history(entries: Sequence[HistoryEntryLike]) -> str:
    """A conversation's history, oldest first: when, who or what, and what happened."""
    if not entries:
        return _div("history", _empty("No history."))
    return _div(
        "history",
        _table(
            ("version", "at", "by", "event", "what happened"),
            (
                (
                    str(entry.version),
                    instant(entry.event.at),
                    _text(entry.event.actor),
                    _text(type(entry.event).__name__),
                    _text(entry.summary),
                )
                for entry in entries
            ),
            "history",
        ),
    )


def _stats(value: DurationStats) -> str:
    if not value.count:
        return "&ndash;"
    return (
        f"median {duration(value.median)}, 90% within {duration(value.p90)} "
        f"(mean {duration(value.mean)}, {value.count} measured)"
    )


def figures(value: FiguresLike) -> str:
    """The counts and durations of a contact, an inbox or a user."""
    reopens = value.reopens
    rate = value.response_rate
    rows = [
        ("conversations", str(value.conversations)),
        ("messages in / out", f"{value.messages_in} / {value.messages_out}"),
        ("closes", str(value.closed)),
        (
            "reopens",
            f"{reopens.to_assignees} to the assignees, {reopens.to_unassigned} to Unassigned, "
            f"{reopens.by_user} by a user",
        ),
        ("response rate", "&ndash;" if rate is None else f"{rate:.0%}"),
        ("first response", _stats(value.first_response)),
        ("first response after a reopen", _stats(value.reopen_first_response)),
        ("reply", _stats(value.reply)),
        ("resolution", _stats(value.resolution)),
    ]
    return _fields(rows, "figures")


def contact_info(value: ContactInfoLike) -> str:
    """The contact sidebar: the contact, where it stands, its figures and its conversations."""
    contact = value.contact
    name = contact.name or str(contact.id)
    details = [
        ("id", _text(contact.id)),
        ("phone", _text(contact.phone) if contact.phone else "&ndash;"),
        ("email", _text(contact.email) if contact.email else "&ndash;"),
        ("tags", _names(contact.tags)),
        ("conversations open / closed", f"{value.open} / {value.closed}"),
        ("waiting since", instant(value.waiting_since)),
        ("first contact", instant(value.first_contact_at)),
        ("last contact", instant(value.last_contact_at)),
    ]
    listed = value.conversations
    table = (
        _table(
            (
                "conversation",
                "inbox",
                "status",
                "assignees",
                "unread",
                "last activity",
                "awaiting a reply since",
            ),
            (
                (
                    _text(item.id),
                    _text(item.inbox_id),
                    _text(item.status.value),
                    _names(item.assignees),
                    "&#9679;" if item.unread else "",
                    instant(item.last_activity_at),
                    instant(item.awaiting_reply_since),
                )
                for item in listed
            ),
            "contact-conversations",
        )
        if listed
        else _empty("No conversations.")
    )
    return _div(
        "contact-info",
        _title(name, "contact info"),
        _fields(details, "contact"),
        _title("Figures"),
        figures(value.figures),
        _title("Conversations"),
        table,
    )


def report(value: ReportLike) -> str:
    """A report: one row a day, and the total (durations are medians)."""
    head = ("day", "conversations", "in", "out", "closes", "reopens", "first response", "resolution")

    def cells(label: str, item: FiguresLike) -> tuple[str, ...]:
        reopens = item.reopens
        return (
            label,
            str(item.conversations),
            str(item.messages_in),
            str(item.messages_out),
            str(item.closed),
            str(reopens.to_assignees + reopens.to_unassigned + reopens.by_user),
            duration(item.first_response.median),
            duration(item.resolution.median),
        )

    rows = [cells(_text(row.day.isoformat()), row.figures) for row in value.rows]
    rows.append(cells("<strong>total</strong>", value.total))
    return _div(
        "report",
        _title(
            f"{value.scope.value.capitalize()} {value.scope_id}",
            f"{value.first_day.isoformat()} to {value.last_day.isoformat()}, durations are medians",
        ),
        _table(head, rows, "report"),
        _title("Total"),
        figures(value.total),
    )


# ---------------------------------------------------------------- plain text, for IPython's pretty printer


def _when(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat(sep=" ")


def conversation_text(value: Conversation) -> str:
    """One line: the id, then what a person looks for first."""
    parts = [
        value.status.value,
        f"inbox {value.inbox_id}",
        f"contact {value.contact_id}",
        f"assigned to {', '.join(sorted(str(user) for user in value.assignees))}"
        if value.assignees
        else "unassigned",
    ]
    if value.unread:
        parts.append("unread")
    parts.append(f"last activity {_when(value.last_activity_at)}")
    return f"<Conversation {value.id}: {', '.join(parts)}; version {value.version}>"


def history_entry_text(entry: HistoryEntryLike) -> str:
    """One line: version, instant, actor, event and summary."""
    event = entry.event
    return f"<{entry.version}. {_when(event.at)} {event.actor} {type(event).__name__}: {entry.summary}>"

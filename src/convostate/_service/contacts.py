"""Contacts: looking one up for an inbound message, and what the "Contact Info" sidebar and a reports page
show. Every figure is read from what commits kept (``Store`` as :class:`~convostate.ports.Analytics`);
nothing here scans conversations or events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from convostate._core.analytics.durations import DurationStats
from convostate._core.analytics.facts import Count, Metric, Scope
from convostate._core.errors import InvalidInput, PermissionDenied
from convostate._core.ids import ContactId, InboxId, UserId
from convostate._core.model import Contact, Conversation, User, email_address
from convostate._core.validate import clean_text
from convostate._ports.records import DailyBucket, DailyTotal
from convostate._ports.roles import Store
from convostate._service.access import Access
from convostate._service.analytics_results import (
    ContactConversation,
    ContactInfo,
    Figures,
    Report,
    ReportRow,
)
from convostate._service.phones import e164


class ContactService:
    def __init__(self, store: Store, access: Access) -> None:
        self._store = store
        self._access = access

    def normal_phone(self, phone: str) -> str:
        return e164(clean_text("phone", phone), self._store.settings().phone_region)

    @staticmethod
    def normal_email(email: str) -> str:
        return email_address("email", clean_text("email", email).strip())

    def find(self, *, phone: str | None = None, email: str | None = None) -> Contact | None:
        if (phone is None) == (email is None):
            raise InvalidInput("find_contact takes a phone or an email (one of the two)")
        if phone is not None:
            return self._store.contact_by_phone(self.normal_phone(phone))
        assert email is not None
        return self._store.contact_by_email(self.normal_email(email))

    def info(self, contact_id: ContactId, *, by: UserId) -> ContactInfo:
        contact = self._access.contact(contact_id)
        user = self._access.user(by)
        everything = self._store.contact_conversations(contact.id)
        visible = {  # only the contact's inboxes are read, not the account's
            inbox_id
            for inbox_id in {each.inbox_id for each in everything}
            if user.is_admin or user.id in self._access.inbox(inbox_id).members
        }
        if not user.is_admin and not visible:
            raise PermissionDenied(
                f"{user.id} is not a member of any inbox {contact.id} has written to, so may not see it"
            )
        totals = self._store.contact_totals(contact.id)
        samples: dict[Metric, list[int]] = defaultdict(list)
        for sample in self._store.contact_durations(contact.id):
            samples[sample.metric].append(sample.micros)
        counts = {kind: total.count for kind, total in totals.items() if isinstance(kind, Count)}
        figures = Figures.of(counts, {metric: DurationStats.of(values) for metric, values in samples.items()})
        incoming, outgoing = totals.get(Count.MESSAGES_IN), totals.get(Count.MESSAGES_OUT)
        firsts = [total.first_at for total in (incoming, outgoing) if total is not None]
        lasts = [total.last_at for total in (incoming, outgoing) if total is not None]
        waiting = [
            each.awaiting_reply_since
            for each in everything
            if each.is_open and each.awaiting_reply_since is not None
        ]
        return ContactInfo(
            contact,
            tuple(_listed(each, user) for each in everything if each.inbox_id in visible),
            figures,
            open=sum(each.is_open for each in everything),
            closed=sum(not each.is_open for each in everything),
            first_contact_at=min(firsts, default=None),
            last_contact_at=max(lasts, default=None),
            last_inbound_at=None if incoming is None else incoming.last_at,
            last_outbound_at=None if outgoing is None else outgoing.last_at,
            waiting_since=min(waiting, default=None),
        )

    def report(
        self,
        *,
        by: UserId,
        inbox_id: InboxId | None,
        user_id: UserId | None,
        first_day: date,
        last_day: date,
    ) -> Report:
        asking = self._access.user(by)
        scope, scope_id = self._scope(asking, inbox_id, user_id)
        totals = self._store.daily_totals(scope, [scope_id], first_day, last_day)
        buckets = self._store.daily_buckets(scope, [scope_id], first_day, last_day)
        rows, summed = _days_and_total(_plain(first_day), _plain(last_day), totals, buckets)
        return Report(scope, scope_id, first_day, last_day, rows, summed)

    def _scope(self, asking: User, inbox_id: InboxId | None, user_id: UserId | None) -> tuple[Scope, str]:
        if (inbox_id is None) == (user_id is None):
            raise InvalidInput("a report is for an inbox or for a user: pass inbox_id or user_id")
        if inbox_id is not None:
            inbox = self._access.inbox(inbox_id)
            if not asking.is_admin and asking.id not in inbox.members:
                raise PermissionDenied(
                    f"{asking.id} is not a member of {inbox.id}, so may not see its report"
                )
            return Scope.INBOX, inbox.id.value
        assert user_id is not None
        user = self._access.user(user_id)
        if not asking.is_admin and asking.id != user.id:
            raise PermissionDenied(f"{asking.id} may see their own report, not {user.id}'s (admins see all)")
        return Scope.USER, user.id.value


def _days_and_total(
    first_day: date, last_day: date, totals: Iterable[DailyTotal], buckets: Iterable[DailyBucket]
) -> tuple[tuple[ReportRow, ...], Figures]:
    """Each day's figures and their total. (A report of a busy month reads thousands of buckets: they are
    grouped by plain keys, since an enum's hash is a Python call.)"""
    counts: dict[date, dict[Count, int]] = defaultdict(dict)
    sums: dict[date, dict[Metric, tuple[int, int]]] = defaultdict(dict)
    for row in totals:
        if isinstance(row.kind, Count):
            counts[row.day][row.kind] = row.count
        else:
            sums[row.day][row.kind] = (row.count, row.total)
    histograms: dict[tuple[date, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    merged: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for day, metric, bucket, count, total in (row[1:] for row in buckets):
        name = metric.value
        histograms[day, name][bucket] = (count, total)
        into = merged[name].get(bucket)
        if into is None:
            merged[name][bucket] = [count, total]
        else:
            into[0] += count
            into[1] += total
    rows = []
    all_counts: dict[Count, int] = defaultdict(int)
    all_sums: dict[Metric, list[int]] = defaultdict(lambda: [0, 0])
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        durations = {}
        for metric, (count, total) in sums.get(day, {}).items():
            durations[metric] = DurationStats.of_histogram(count, total, histograms[day, metric.value])
            all_sums[metric][0] += count
            all_sums[metric][1] += total
        day_counts = counts.get(day, {})
        for kind, count in day_counts.items():
            all_counts[kind] += count
        rows.append(ReportRow(day, Figures.of(day_counts, durations)))
    summed = Figures.of(
        all_counts,
        {
            metric: DurationStats.of_histogram(
                count, micros, {bucket: (n, t) for bucket, (n, t) in merged[metric.value].items()}
            )
            for metric, (count, micros) in all_sums.items()
        },
    )
    return tuple(rows), summed


def _plain(day: date) -> date:
    """A ``datetime.date`` for a date subclass (pendulum's ``Date`` adds days a hundred times slower)."""
    return day if type(day) is date else date(day.year, day.month, day.day)


def _listed(conversation: Conversation, user: User) -> ContactConversation:
    return ContactConversation(
        conversation.id,
        conversation.inbox_id,
        conversation.status,
        conversation.assignees,
        conversation.last_activity_at,
        conversation.is_unread_for(user.id),
        conversation.awaiting_reply_since,
    )

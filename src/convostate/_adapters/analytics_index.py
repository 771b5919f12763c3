"""The memory store's analytics: the sums of every commit's facts, indexed so that a contact's figures cost
that contact's history and a report costs the days it spans, whatever the account holds."""

from __future__ import annotations

import typing
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from convostate._core.analytics.durations import bucket_of
from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.ids import ContactId, ConversationId
from convostate._core.instants import utc_instant
from convostate._core.timing import epoch_microseconds
from convostate._ports.records import ContactTotal, DailyBucket, DailyTotal, DurationSample

_Kind = Count | Metric
_KINDS: dict[str, _Kind] = {kind.value: kind for kinds in (Count, Metric) for kind in kinds}
"""Counts and metrics by their values, which key the counters (the values are distinct)."""
_ALL_KINDS: tuple[_Kind, ...] = (*Count, *Metric)
"""Counts, then metrics: a kind's position is its code in a contact's arrays."""
_CODES: dict[str, int] = {kind.value: code for code, kind in enumerate(_ALL_KINDS)}
_FIRST_METRIC = len(Count)


_INDEXED_FROM = 8
"""Conversations a contact has before they are indexed by id: most contacts have one or two, which a tuple
holds in the least memory and scans fastest; a contact with thousands (a shared number, an import) must
not cost a scan, or a tuple copy, per conversation."""


_NO_TOTALS = array("q")
"""Shared by every contact until its first fact: never changed in place (a new kind makes a new array)."""


class _ContactFigures:
    """One contact's conversations, counters and duration samples, packed: contacts are as many as the
    conversations (most write once), so these are kept as integers in arrays, not as a dict of lists and
    a list of named tuples with their instants (about 800 bytes a contact, down to about 300)."""

    __slots__ = ("conversations", "positions", "samples", "strays", "totals")

    def __init__(self) -> None:
        self.conversations: tuple[ConversationId, ...] | list[ConversationId] = ()
        self.positions: dict[str, int] | None = None
        """Each conversation's position in ``conversations``, once they are ``_INDEXED_FROM`` or more."""
        self.strays: dict[str, int] | None = None
        """Conversations the contact did not start that a fact named, each at its negative position."""
        self.totals = _NO_TOTALS
        """Per kind counted: its code, the count, the first and the last instant (µs since the epoch)."""
        self.samples: array[int] | None = None
        """Per duration measured: its metric's code, the microseconds, the instant (µs since the epoch)
        and the position of its conversation in ``conversations``."""

    def started(self, conversation_id: ConversationId) -> None:
        conversations = self.conversations
        if type(conversations) is tuple:
            if len(conversations) < _INDEXED_FROM:
                self.conversations = (*conversations, conversation_id)
                return
            self.conversations = conversations = list(conversations)
            self.positions = {each.value: position for position, each in enumerate(conversations)}
        typing.cast(dict[str, int], self.positions)[conversation_id.value] = len(conversations)
        typing.cast(list[ConversationId], conversations).append(conversation_id)

    def add(self, code: int, value: int, at: int, conversation_id: str) -> None:
        totals = self.totals
        for offset in range(0, len(totals), 4):
            if totals[offset] == code:
                totals[offset + 1] += 1
                totals[offset + 2] = min(totals[offset + 2], at)
                totals[offset + 3] = max(totals[offset + 3], at)
                break
        else:  # a new kind, one of a few: the array is made again at its exact size, not over-allocated
            self.totals = totals + array("q", (code, 1, at, at))
        if code >= _FIRST_METRIC:
            if self.samples is None:
                self.samples = array("q")
            self.samples.extend((code, value, at, self._position(conversation_id)))

    def _position(self, conversation_id: str) -> int:
        """Where the conversation is among the contact's (the newest, but for a late reply to an older
        one); a conversation the contact never started (a hand-made change set's fact) is kept apart, at a
        negative position, so that it is never listed as theirs."""
        if self.positions is not None:
            position = self.positions.get(conversation_id)
            if position is not None:
                return position
        else:
            conversations = self.conversations
            for position in range(len(conversations) - 1, -1, -1):
                if conversations[position].value == conversation_id:
                    return position
        if self.strays is None:
            self.strays = {}
        return self.strays.setdefault(conversation_id, -1 - len(self.strays))

    def dump(self) -> tuple[object, ...]:
        samples = None if self.samples is None else self.samples.tolist()
        return (tuple(self.conversations), self.strays, self.totals.tolist(), samples)


class AnalyticsIndex:
    """Counters and samples per contact; counters and histogram buckets per inbox or user and day."""

    def __init__(self) -> None:
        self._contacts: dict[str, _ContactFigures] = {}
        # (is a user, id) -> day -> kind -> [count, total]; and -> day -> (metric, bucket) -> [count, total]
        self._days: dict[tuple[bool, str], dict[date, dict[str, list[int]]]] = {}
        self._buckets: dict[tuple[bool, str], dict[date, dict[tuple[str, int], list[int]]]] = {}

    def started(self, contact_id: ContactId, conversation_id: ConversationId) -> None:
        figures = self._contacts.get(contact_id.value)
        if figures is None:
            figures = self._contacts[contact_id.value] = _ContactFigures()
        figures.started(conversation_id)

    def add(self, facts: Iterable[Fact]) -> None:
        # Keyed by the kinds' values: an enum's hash is a Python call, and this runs for every fact.
        last_at, microseconds = None, 0
        for scope, scope_id, kind, value, at, day, conversation_id in facts:
            if scope is Scope.CONTACT:
                figures = self._contacts.get(scope_id)
                if figures is None:
                    figures = self._contacts[scope_id] = _ContactFigures()
                if at is not last_at:  # a command's facts share their instant: converted once
                    last_at, microseconds = at, epoch_microseconds(at)
                figures.add(_CODES[kind._value_], value, microseconds, conversation_id)
                continue
            key = (scope is Scope.USER, scope_id)
            by_day = self._days.get(key)
            if by_day is None:
                by_day = self._days[key] = {}
            sums_of = by_day.get(day)
            if sums_of is None:
                sums_of = by_day[day] = {}
            name = kind._value_
            sums = sums_of.get(name)
            if sums is None:
                sums_of[name] = [1, value]
            else:
                sums[0] += 1
                sums[1] += value
            if type(kind) is Metric:
                buckets_by_day = self._buckets.get(key)
                if buckets_by_day is None:
                    buckets_by_day = self._buckets[key] = {}
                buckets = buckets_by_day.get(day)
                if buckets is None:
                    buckets = buckets_by_day[day] = {}
                bucket = (name, bucket_of(value))
                sums = buckets.get(bucket)
                if sums is None:
                    buckets[bucket] = [1, value]
                else:
                    sums[0] += 1
                    sums[1] += value

    def conversation_ids(self, contact_id: ContactId) -> list[ConversationId]:
        figures = self._contacts.get(contact_id.value)
        return [] if figures is None else list(figures.conversations)

    def contact_totals(self, contact_id: ContactId) -> Mapping[_Kind, ContactTotal]:
        figures = self._contacts.get(contact_id.value)
        if figures is None:
            return {}
        totals = figures.totals
        return {
            _ALL_KINDS[totals[offset]]: ContactTotal(
                totals[offset + 1], utc_instant(totals[offset + 2]), utc_instant(totals[offset + 3])
            )
            for offset in range(0, len(totals), 4)
        }

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        figures = self._contacts.get(contact_id.value)
        if figures is None or figures.samples is None:
            return ()
        samples, conversations = figures.samples, figures.conversations
        strays = [ConversationId(each) for each in figures.strays or ()]  # in the order of their positions
        return tuple(
            DurationSample(
                typing.cast(Metric, _ALL_KINDS[samples[offset]]),
                samples[offset + 1],
                conversations[position] if (position := samples[offset + 3]) >= 0 else strays[-1 - position],
                utc_instant(samples[offset + 2]),
            )
            for offset in range(0, len(samples), 4)
        )

    def daily_totals(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> list[DailyTotal]:
        rows: list[DailyTotal] = []
        for scope_id in scope_ids:
            days = self._days.get((scope is Scope.USER, scope_id))
            if days:
                for day in _days_between(days, first_day, last_day):
                    rows.extend(
                        DailyTotal(scope_id, day, _KINDS[kind], count, total)
                        for kind, (count, total) in days[day].items()
                    )
        return rows

    def daily_buckets(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> list[DailyBucket]:
        rows: list[DailyBucket] = []
        for scope_id in scope_ids:
            days = self._buckets.get((scope is Scope.USER, scope_id))
            if days:
                for day in _days_between(days, first_day, last_day):
                    rows.extend(
                        DailyBucket(scope_id, day, Metric(metric), bucket, count, total)
                        for (metric, bucket), (count, total) in days[day].items()
                    )
        return rows

    def dump(self) -> dict[str, Any]:
        return {
            "contacts": {contact: figures.dump() for contact, figures in self._contacts.items()},
            "days": self._days,
            "buckets": self._buckets,
        }


def _days_between(days: Mapping[date, object], first_day: date, last_day: date) -> Iterable[date]:
    """The days of ``days`` in the range: by stepping through the range when it is the shorter."""
    span = (last_day - first_day).days + 1
    if span <= 0:
        return ()
    if span < len(days):
        steps = (first_day + timedelta(days=offset) for offset in range(span))
        return [day for day in steps if day in days]
    return sorted(day for day in days if first_day <= day <= last_day)

"""The memory store's analytics: the sums of every commit's facts, indexed so that a contact's figures cost
that contact's history and a report costs the days it spans, whatever the account holds."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import pendulum

from convostate._core.analytics.durations import bucket_of
from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.ids import ContactId, ConversationId
from convostate._ports.records import ContactTotal, DailyBucket, DailyTotal, DurationSample

_Kind = Count | Metric
_KINDS: dict[str, _Kind] = {kind.value: kind for kinds in (Count, Metric) for kind in kinds}
"""Counts and metrics by their values, which key the counters (the values are distinct)."""


class AnalyticsIndex:
    """Counters and samples per contact; counters and histogram buckets per inbox or user and day."""

    def __init__(self) -> None:
        self._conversations: dict[ContactId, list[ConversationId]] = {}
        self._totals: dict[str, dict[str, list[Any]]] = {}  # contact -> kind -> [count, first, last]
        self._samples: dict[str, list[DurationSample]] = {}
        # (is a user, id) -> day -> kind -> [count, total]; and -> day -> (metric, bucket) -> [count, total]
        self._days: dict[tuple[bool, str], dict[date, dict[str, list[int]]]] = {}
        self._buckets: dict[tuple[bool, str], dict[date, dict[tuple[str, int], list[int]]]] = {}

    def started(self, contact_id: ContactId, conversation_id: ConversationId) -> None:
        self._conversations.setdefault(contact_id, []).append(conversation_id)

    def add(self, facts: Iterable[Fact]) -> None:
        # Keyed by the kinds' values: an enum's hash is a Python call, and this runs for every fact.
        for scope, scope_id, kind, value, at, day, conversation_id in facts:
            if scope is Scope.CONTACT:
                self._add_to_contact(scope_id, kind, value, at, conversation_id)
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

    def _add_to_contact(
        self, contact: str, kind: Count | Metric, value: int, at: pendulum.DateTime, conversation_id: str
    ) -> None:
        totals = self._totals.get(contact)
        if totals is None:
            totals = self._totals[contact] = {}
        total = totals.get(kind._value_)
        if total is None:
            totals[kind._value_] = [1, at, at]
        else:
            total[0] += 1
            total[1] = min(total[1], at)
            total[2] = max(total[2], at)
        if type(kind) is Metric:
            sample = DurationSample(kind, value, ConversationId(conversation_id), at)
            self._samples.setdefault(contact, []).append(sample)

    def conversation_ids(self, contact_id: ContactId) -> list[ConversationId]:
        return list(self._conversations.get(contact_id, ()))

    def contact_totals(self, contact_id: ContactId) -> Mapping[_Kind, ContactTotal]:
        totals = self._totals.get(contact_id.value, {})
        return {
            _KINDS[kind]: ContactTotal(count, first, last) for kind, (count, first, last) in totals.items()
        }

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        return tuple(self._samples.get(contact_id.value, ()))

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
            "conversations": self._conversations,
            "totals": self._totals,
            "samples": self._samples,
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

"""The memory store's analytics: the sums of every commit's facts, indexed so that a contact's figures cost
that contact's history and a report costs the days it spans, whatever the account holds."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from convostate._core.analytics.durations import bucket_of
from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.ids import ContactId, ConversationId
from convostate._ports.records import ContactTotal, DailyBucket, DailyTotal, DurationSample

_Kind = Count | Metric


class AnalyticsIndex:
    """Counters and samples per contact; counters and histogram buckets per inbox or user and day."""

    def __init__(self) -> None:
        self._conversations: dict[ContactId, list[ConversationId]] = {}
        self._totals: dict[str, dict[_Kind, list[Any]]] = {}  # [count, first at, last at]
        self._samples: dict[str, list[DurationSample]] = {}
        # (scope, id) -> day -> kind -> [count, total]; and -> day -> (metric, bucket) -> count
        self._days: dict[tuple[Scope, str], dict[date, dict[_Kind, list[int]]]] = {}
        self._buckets: dict[tuple[Scope, str], dict[date, dict[tuple[Metric, int], list[int]]]] = {}

    def started(self, contact_id: ContactId, conversation_id: ConversationId) -> None:
        self._conversations.setdefault(contact_id, []).append(conversation_id)

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            if fact.scope is Scope.CONTACT:
                self._add_to_contact(fact)
                continue
            key = (fact.scope, fact.scope_id)
            day = self._days.setdefault(key, {}).setdefault(fact.day, {})
            sums = day.get(fact.kind)
            if sums is None:
                day[fact.kind] = [1, fact.value]
            else:
                sums[0] += 1
                sums[1] += fact.value
            if isinstance(fact.kind, Metric):
                buckets = self._buckets.setdefault(key, {}).setdefault(fact.day, {})
                bucket = (fact.kind, bucket_of(fact.value))
                sums = buckets.get(bucket)
                if sums is None:
                    buckets[bucket] = [1, fact.value]
                else:
                    sums[0] += 1
                    sums[1] += fact.value

    def _add_to_contact(self, fact: Fact) -> None:
        totals = self._totals.get(fact.scope_id)
        if totals is None:
            totals = self._totals[fact.scope_id] = {}
        total = totals.get(fact.kind)
        at = fact.at
        if total is None:
            totals[fact.kind] = [1, at, at]
        else:
            total[0] += 1
            total[1] = min(total[1], at)
            total[2] = max(total[2], at)
        if isinstance(fact.kind, Metric):
            sample = DurationSample(fact.kind, fact.value, ConversationId(fact.conversation_id), at)
            self._samples.setdefault(fact.scope_id, []).append(sample)

    def conversation_ids(self, contact_id: ContactId) -> list[ConversationId]:
        return list(self._conversations.get(contact_id, ()))

    def contact_totals(self, contact_id: ContactId) -> Mapping[_Kind, ContactTotal]:
        totals = self._totals.get(contact_id.value, {})
        return {kind: ContactTotal(count, first, last) for kind, (count, first, last) in totals.items()}

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        return tuple(self._samples.get(contact_id.value, ()))

    def daily_totals(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> list[DailyTotal]:
        rows: list[DailyTotal] = []
        for scope_id in scope_ids:
            days = self._days.get((scope, scope_id))
            if days:
                for day in _days_between(days, first_day, last_day):
                    rows.extend(
                        DailyTotal(scope_id, day, kind, count, total)
                        for kind, (count, total) in days[day].items()
                    )
        return rows

    def daily_buckets(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> list[DailyBucket]:
        rows: list[DailyBucket] = []
        for scope_id in scope_ids:
            days = self._buckets.get((scope, scope_id))
            if days:
                for day in _days_between(days, first_day, last_day):
                    rows.extend(
                        DailyBucket(scope_id, day, metric, bucket, count, total)
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

"""The SQL store's analytics: a change set's facts summed in Python by key, then added to the tables by one
upsert per table (``count = count + excluded.count``), so that each commit costs the few keys it touches and
concurrent writers never lose an increment: the database adds atomically, nothing is read and written back.

Keys are written in sorted order, so two writers that touch the same keys take their row locks in the same
order and never wait for each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any, Final

import sqlalchemy as sa

from convostate._adapters.sql import dialects
from convostate._adapters.sql.tables import EPOCH_ORDINAL, Tables
from convostate._adapters.sql.values import instant
from convostate._core.analytics.durations import bucket_of
from convostate._core.analytics.facts import Count, Fact, Metric, Scope
from convostate._core.ids import ConversationId
from convostate._core.model import Conversation
from convostate._core.timing import epoch_microseconds
from convostate._ports.records import ContactTotal, DailyBucket, DailyTotal, DurationSample

KINDS: Final[dict[str, Count | Metric]] = {kind.value: kind for kind in (*Count, *Metric)}
"""A stored kind back to its enum: a kind is stored as its value, which no count and metric share."""
assert len(KINDS) == len(Count) + len(Metric), (
    "a Count and a Metric share a value: the kind column is ambiguous"
)
_METRICS: Final = {metric.value: metric for metric in Metric}


def stored_day(day: date) -> int:
    """A day as stored: the days since 1970-01-01."""
    return day.toordinal() - EPOCH_ORDINAL


def day_of(stored: int) -> date:
    return date(1970, 1, 1) + timedelta(days=stored)


class FactSums:
    """What one change set adds to the analytics, summed by key (a change touches a handful of keys)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int, str]] = []
        """(contact, started, conversation) of each new conversation."""
        self.totals: dict[tuple[str, str], list[int]] = {}
        """(contact, kind) -> [count, first_at, last_at]"""
        self.samples: list[tuple[str, str, int, str, int]] = []
        """(contact, metric, micros, conversation, at), in the order of the change set."""
        self.days: dict[tuple[str, str, int, str], list[int]] = {}
        """(scope, scope_id, day, kind) -> [count, total]"""
        self.buckets: dict[tuple[str, str, int, str, int], list[int]] = {}
        """(scope, scope_id, day, metric, bucket) -> [count, total]"""

    def start(self, conversation: Conversation) -> None:
        self.started.append(
            (
                conversation.contact_id.value,
                epoch_microseconds(conversation.started_at),
                conversation.id.value,
            )
        )

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            kind, value = fact.kind.value, fact.value
            if fact.scope is Scope.CONTACT:
                at = epoch_microseconds(fact.at)
                total = self.totals.get((fact.scope_id, kind))
                if total is None:
                    self.totals[fact.scope_id, kind] = [1, at, at]
                else:
                    total[0] += 1
                    total[1] = min(total[1], at)
                    total[2] = max(total[2], at)
                if isinstance(fact.kind, Metric):
                    self.samples.append((fact.scope_id, kind, value, fact.conversation_id, at))
                continue
            day = stored_day(fact.day)
            _add(self.days, (fact.scope.value, fact.scope_id, day, kind), value)
            if isinstance(fact.kind, Metric):
                _add(self.buckets, (fact.scope.value, fact.scope_id, day, kind, bucket_of(value)), value)

    def rows(self, account: str) -> dict[str, list[dict[str, Any]]]:
        """The rows to add to each table (none absent), by the table's name without its prefix; each
        table's keys in sorted order."""
        tables: dict[str, list[dict[str, Any]]] = {}
        if self.started:
            tables["contact_conversations"] = [
                {"account": account, "contact_id": contact, "started": started, "conversation_id": each}
                for contact, started, each in self.started
            ]
        if self.totals:
            tables["contact_totals"] = [
                {
                    "account": account,
                    "contact_id": contact,
                    "kind": kind,
                    "count": count,
                    "first_at": first,
                    "last_at": last,
                }
                for (contact, kind), (count, first, last) in sorted(self.totals.items())
            ]
        if self.samples:
            tables["contact_samples"] = [
                {
                    "account": account,
                    "contact_id": contact,
                    "metric": metric,
                    "micros": micros,
                    "conversation_id": conversation,
                    "at": at,
                }
                for contact, metric, micros, conversation, at in self.samples
            ]
        if self.days:
            tables["daily_totals"] = [
                {
                    "account": account,
                    "scope": scope,
                    "scope_id": scope_id,
                    "day": day,
                    "kind": kind,
                    "count": count,
                    "total": total,
                }
                for (scope, scope_id, day, kind), (count, total) in sorted(self.days.items())
            ]
        if self.buckets:
            tables["daily_buckets"] = [
                {
                    "account": account,
                    "scope": scope,
                    "scope_id": scope_id,
                    "day": day,
                    "metric": metric,
                    "bucket": bucket,
                    "count": count,
                    "total": total,
                }
                for (scope, scope_id, day, metric, bucket), (count, total) in sorted(self.buckets.items())
            ]
        return tables


def _add(sums: dict[Any, list[int]], key: Any, value: int) -> None:
    sum_ = sums.get(key)
    if sum_ is None:
        sums[key] = [1, value]
    else:
        sum_[0] += 1
        sum_[1] += value


class AnalyticsWrites:
    """Adds a change set's :class:`FactSums` to one account's rows: at most one statement per table."""

    def __init__(self, tables: Tables, account: str) -> None:
        self._t = tables
        self._account = account
        self._upserts: dict[str, Any] | None = None  # built on first use, for the connection's dialect

    def write(self, connection: sa.Connection, sums: FactSums) -> None:
        t = self._t
        upserts = self._upserts or self._build(connection.dialect)
        statements = {
            "contact_conversations": t.contact_conversations.insert(),
            "contact_totals": upserts["totals"],
            "contact_samples": t.contact_samples.insert(),
            "daily_totals": upserts["days"],
            "daily_buckets": upserts["buckets"],
        }
        for table, rows in sums.rows(self._account).items():
            connection.execute(statements[table], rows)

    def _build(self, dialect: sa.Dialect) -> dict[str, Any]:
        t = self._t
        totals = dialects.insert(dialect, t.contact_totals)
        c, new = t.contact_totals.c, totals.excluded
        days = dialects.insert(dialect, t.daily_totals)
        buckets = dialects.insert(dialect, t.daily_buckets)
        self._upserts = {
            "totals": totals.on_conflict_do_update(
                index_elements=["account", "contact_id", "kind"],
                set_={
                    "count": c["count"] + new["count"],
                    "first_at": sa.case((new.first_at < c.first_at, new.first_at), else_=c.first_at),
                    "last_at": sa.case((new.last_at > c.last_at, new.last_at), else_=c.last_at),
                },
            ),
            "days": _adding(days, t.daily_totals, ["account", "scope", "scope_id", "day", "kind"]),
            "buckets": _adding(
                buckets, t.daily_buckets, ["account", "scope", "scope_id", "day", "metric", "bucket"]
            ),
        }
        return self._upserts


def _adding(upsert: Any, table: sa.Table, key: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET count = count + excluded.count, total = ...``"""
    return upsert.on_conflict_do_update(
        index_elements=key,
        set_={
            "count": table.c["count"] + upsert.excluded["count"],
            "total": table.c.total + upsert.excluded.total,
        },
    )


# ---------------------------------------------------------------- reads
# Rows are unpacked by position, in the order the queries select them (a Row is a tuple: ``row.count``
# would be tuple.count).


def contact_totals(rows: Iterable[Any]) -> dict[Count | Metric, ContactTotal]:
    """From rows of (kind, count, first_at, last_at)."""
    return {
        KINDS[kind]: ContactTotal(int(count), instant(first_at), instant(last_at))
        for kind, count, first_at, last_at in rows
    }


def duration_samples(rows: Iterable[Any]) -> Sequence[DurationSample]:
    """From rows of (metric, micros, conversation_id, at), in the order written (a contact has few
    conversations: each id is made once)."""
    ids: dict[str, ConversationId] = {}
    samples = []
    for metric, micros, conversation, at in rows:
        conversation_id = ids.get(conversation)
        if conversation_id is None:
            conversation_id = ids[conversation] = ConversationId(conversation)
        samples.append(DurationSample(_METRICS[metric], int(micros), conversation_id, instant(at)))
    return tuple(samples)


def daily_totals(rows: Iterable[Any]) -> list[DailyTotal]:
    """From rows of (scope_id, day, kind, count, total)."""
    return [
        DailyTotal(scope_id, day_of(day), KINDS[kind], int(count), int(total))
        for scope_id, day, kind, count, total in rows
    ]


def daily_buckets(rows: Iterable[Any]) -> list[DailyBucket]:
    """From rows of (scope_id, day, metric, bucket, count, total)."""
    return [
        DailyBucket(scope_id, day_of(day), _METRICS[metric], int(bucket), int(count), int(total))
        for scope_id, day, metric, bucket, count, total in rows
    ]

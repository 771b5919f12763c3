"""The store's reads and hot writes, built once per store with bound parameters: building a SQLAlchemy
expression costs more than running the query on SQLite, so each is built once and run with its values (and
SQLAlchemy compiles each once, in its statement cache). Every statement takes ``:account``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convostate._adapters.sql.tables import Tables
from convostate._ports.records import EmailStatus

P = sa.bindparam


class Queries:
    def __init__(self, tables: Tables) -> None:
        t = tables
        self._tables = t
        a, u, i = t.accounts.c, t.users.c, t.inboxes.c
        self.directory_version = sa.select(a.directory_version).where(a.account == P("account"))
        self.directory_version_held = self.directory_version.with_for_update(read=True)
        self.settings = sa.select(a.settings).where(a.account == P("account"))
        self.account_known = sa.select(a.account).where(a.account == P("account"))
        self.user = sa.select(u.payload).where(u.account == P("account"), u.id == P("id"))
        self.user_by_email = sa.select(u.payload).where(u.account == P("account"), u.email_key == P("email"))
        self.users = sa.select(u.payload).where(u.account == P("account")).order_by(u.added)
        self.inbox = sa.select(i.payload).where(i.account == P("account"), i.id == P("id"))
        self.inboxes = sa.select(i.payload).where(i.account == P("account")).order_by(i.added)
        c = t.contacts.c
        self.contact = sa.select(c.payload).where(c.account == P("account"), c.id == P("id"))
        self.contact_by_phone = sa.select(c.payload).where(c.account == P("account"), c.phone == P("phone"))
        self.contact_by_email = sa.select(c.payload).where(
            c.account == P("account"), c.email_key == P("email")
        )
        self.contact_lines = sa.select(c.id, c.phone, c.email_key).where(
            c.account == P("account"),
            sa.or_(c.phone.in_(P("phones", expanding=True)), c.email_key.in_(P("emails", expanding=True))),
        )
        v = t.conversations.c
        self.conversation = sa.select(v.payload).where(v.account == P("account"), v.id == P("id"))
        self.version = sa.select(v.version).where(v.account == P("account"), v.id == P("id"))
        self.conversations_first = (
            sa.select(v.payload).where(v.account == P("account")).order_by(v.id).limit(P("limit"))
        )
        self.conversations_after = (
            sa.select(v.payload)
            .where(v.account == P("account"), v.id > P("after"))
            .order_by(v.id)
            .limit(P("limit"))
        )
        self.move_conversation = (
            sa.update(t.conversations)
            .where(v.account == P("of_account"), v.id == P("of_id"), v.version == P("expected"))
            .values(version=P("new_version"), payload=P("new_payload"))
        )
        b = t.between.c
        self.between = sa.select(b.conversation_id).where(
            b.account == P("account"), b.contact_id == P("contact"), b.inbox_id == P("inbox")
        )
        e = t.events.c
        self.events = (
            sa.select(e.payload)
            .where(e.account == P("account"), e.conversation_id == P("id"))
            .order_by(e.version)
        )
        s = t.assignments.c
        self.assigned = (
            sa.select(s.conversation_id)
            .where(s.account == P("account"), s.user_id == P("user"), s.inbox_id == P("inbox"))
            .order_by(s.conversation_id)
        )
        r = t.rotations.c
        self.rotations = sa.select(r.rule_id, r.turns).where(
            r.account == P("account"), r.rule_id.in_(P("rules", expanding=True))
        )
        k = t.tab_counters.c
        self.counters = sa.select(k.tab, k.owner, k.total, k.unread).where(
            k.account == P("account"),
            k.inbox_id.in_(P("inboxes", expanding=True)),
            k.owner.in_(P("owners", expanding=True)),
        )
        m = t.timers.c
        due = sa.select(m.due_at, m.conversation_id, m.rule_id).where(
            m.account == P("account"), m.due_at <= P("now")
        )
        order = (m.due_at, m.conversation_id, m.rule_id)
        self.due = due.order_by(*order).limit(P("limit"))
        self.due_after = (
            due.where(sa.tuple_(*order) > sa.tuple_(P("after_due"), P("after_conversation"), P("after_rule")))
            .order_by(*order)
            .limit(P("limit"))
        )
        self.drop_timers = sa.delete(t.timers).where(m.account == P("account"), m.conversation_id == P("id"))
        self._outbox_queries(t)
        self._account_queries(t)
        rows = t.tab_rows.c
        row_key = ("account", "inbox_id", "tab", "owner", "newest_first", "conversation_id")
        self.remove_rows = sa.delete(t.tab_rows).where(*(rows[name] == P(name) for name in row_key))
        self.add_rows = t.tab_rows.insert()
        self.add_events = t.events.insert()
        self.add_timers = t.timers.insert()
        self._pages: dict[tuple[int, bool], Any] = {}
        self._analytics_queries(t)

    def _analytics_queries(self, t: Tables) -> None:
        """A contact's figures: index range scans of its rows; a report's: one range of the key per inbox
        or user (scope, id, then the days)."""
        v, s = t.conversations.c, t.contact_conversations.c
        self.contact_conversations = (
            sa.select(v.payload)
            .join_from(t.contact_conversations, t.conversations, s.conversation_id == v.id)
            .where(s.account == P("account"), s.contact_id == P("contact"), v.account == P("account"))
            .order_by(s.started, s.conversation_id)
        )
        o = t.contact_totals.c
        self.contact_totals = sa.select(o.kind, o["count"], o.first_at, o.last_at).where(
            o.account == P("account"), o.contact_id == P("contact")
        )
        m = t.contact_samples.c
        self.contact_durations = (
            sa.select(m.metric, m.micros, m.conversation_id, m.at)
            .where(m.account == P("account"), m.contact_id == P("contact"))
            .order_by(m.seq)
        )
        d = t.daily_totals.c
        self.daily_totals = sa.select(d.scope_id, d.day, d.kind, d["count"], d.total).where(
            d.account == P("account"),
            d.scope == P("scope"),
            d.scope_id.in_(P("scope_ids", expanding=True)),
            d.day.between(P("first_day"), P("last_day")),
        )
        k = t.daily_buckets.c
        self.daily_buckets = sa.select(k.scope_id, k.day, k.metric, k.bucket, k["count"], k.total).where(
            k.account == P("account"),
            k.scope == P("scope"),
            k.scope_id.in_(P("scope_ids", expanding=True)),
            k.day.between(P("first_day"), P("last_day")),
        )

    def _account_queries(self, t: Tables) -> None:
        """The accounts a sweep serves: for each account, its oldest free due timer (or sendable email) by
        an index range scan of its own rows, so a pass costs the accounts, not every timer in the database."""
        a, m, o = t.accounts.c, t.timers.c, t.outbox.c
        free_now: sa.BindParameter[int] = P("now")
        oldest_timer = (
            sa.select(sa.func.min(m.due_at))
            .where(
                m.account == a.account,
                m.due_at <= free_now,
                sa.or_(m.claimed_until.is_(None), m.claimed_until <= free_now),
            )
            .scalar_subquery()
        )
        oldest_email = (
            sa.select(sa.func.min(o.created_at))
            .where(
                o.account == a.account,
                o.sent_at.is_(None),
                o.failed_at.is_(None),
                sa.or_(o.next_attempt_at.is_(None), o.next_attempt_at <= free_now),
                sa.or_(o.claimed_until.is_(None), o.claimed_until <= free_now),
            )
            .scalar_subquery()
        )
        self.accounts_due = _waiting_longest_first(a.account, oldest_timer)
        self.accounts_with_mail = _waiting_longest_first(a.account, oldest_email)

    def _outbox_queries(self, t: Tables) -> None:
        """The provider message ids delivered; the outbox's reads, in outbox order (created_at, then the
        order enqueued): every email, those pending (and due, for a sweep), and those of one status after a
        given one."""
        d = t.deliveries.c
        self.delivered_to = sa.select(d.conversation_id).where(
            d.account == P("account"), d.inbox_id == P("inbox"), d.external_id == P("external_id")
        )
        o = t.outbox.c
        self.email = sa.select(t.outbox).where(o.account == P("account"), o.id == P("id"))
        self.enqueued = sa.select(o.enqueued).where(o.account == P("account"), o.id == P("id"))
        in_outbox_order = (o.created_at, o.enqueued)
        pending = sa.select(t.outbox).where(
            o.account == P("account"), o.sent_at.is_(None), o.failed_at.is_(None)
        )
        self.pending = pending.order_by(*in_outbox_order).limit(P("limit"))
        self.conversation_emails = (
            sa.select(t.outbox)
            .where(o.account == P("account"), o.conversation_id.in_(P("conversations", expanding=True)))
            .order_by(*in_outbox_order)
        )
        self.pending_due = (
            pending.where(
                sa.or_(o.next_attempt_at.is_(None), o.next_attempt_at <= P("due_at")),
                sa.or_(o.claimed_until.is_(None), o.claimed_until <= P("due_at")),
            )
            .order_by(*in_outbox_order)
            .limit(P("limit"))
        )
        by_status = {
            EmailStatus.PENDING: sa.and_(o.sent_at.is_(None), o.failed_at.is_(None)),
            EmailStatus.SENT: o.sent_at.is_not(None),
            EmailStatus.FAILED: o.failed_at.is_not(None),
        }
        self.emails = {
            (status, after): (
                sa.select(t.outbox)
                .where(o.account == P("account"), condition)
                .where(
                    sa.tuple_(*in_outbox_order) > sa.tuple_(P("after_created"), P("after_enqueued"))
                    if after
                    else sa.true()
                )
                .order_by(*in_outbox_order)
                .limit(P("limit"))
            )
            for status, condition in by_status.items()
            for after in (False, True)
        }

    def tab_page(self, inboxes: int, after: bool) -> Any:
        """A tab page over ``inboxes`` inboxes (``:inbox_0``, ...): one keyset read per inbox, an index range
        scan of its list from ``:after_newest, :after_id`` if ``after``, merged newest first."""
        cached = self._pages.get((inboxes, after))
        if cached is not None:
            return cached
        r, c = self._tables.tab_rows.c, self._tables.conversations.c
        lists = []
        for n in range(inboxes):
            rows = sa.select(r.newest_first, r.conversation_id).where(
                r.account == P("account"),
                r.inbox_id == P(f"inbox_{n}"),
                r.tab == P("tab"),
                r.owner == P("owner"),
            )
            if after:
                rows = rows.where(
                    sa.tuple_(r.newest_first, r.conversation_id) > sa.tuple_(P("after_newest"), P("after_id"))
                )
            lists.append(
                rows.order_by(r.newest_first, r.conversation_id).limit(P("limit")).subquery().select()
            )
        merged = (sa.union_all(*lists) if len(lists) > 1 else lists[0]).subquery()
        page = self._pages[inboxes, after] = (
            sa.select(c.payload)
            .join_from(merged, self._tables.conversations, merged.c.conversation_id == c.id)
            .where(c.account == P("account"))
            .order_by(merged.c.newest_first, merged.c.conversation_id)
            .limit(P("limit"))
        )
        return page


def _waiting_longest_first(account: sa.ColumnElement[str], oldest: sa.ScalarSelect[Any]) -> sa.Select[Any]:
    waiting = sa.select(account.label("account"), oldest.label("oldest")).subquery()
    return (
        sa.select(waiting.c.account)
        .where(waiting.c.oldest.is_not(None))
        .order_by(waiting.c.oldest, waiting.c.account)
        .limit(P("limit"))
    )

"""The tables of the SQL store, named with a prefix so that they sit beside a host's own tables.

Every table's key starts with ``account``, so that one database can hold many accounts (a store is opened
for one) without a schema change. Values the queries never look into (a conversation's state, an event, a
user) are kept as the codec's JSON; the columns beside them are what the keys, indexes and conditional
updates need. Instants are epoch microseconds (BIGINT): they sort, compare and index the same everywhere.

Text that orders a listing (conversation ids in tab rows, timer keys) uses the "C" collation on PostgreSQL,
byte order, which for UTF-8 is code-point order: the order Python's ``str`` comparison and SQLite's default
collation give, so every store breaks ties the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import sqlalchemy as sa

DEFAULT_PREFIX: Final = "convostate_"

_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
"""Text that is a key or a tie-break: compared byte by byte on every database."""

SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A number the database assigns on insert: SQLite does so only for an ``INTEGER PRIMARY KEY``."""

EPOCH_ORDINAL: Final = 719_163
"""``date(1970, 1, 1).toordinal()``: a stored day is the days since then."""


class Tables:
    """The store's tables, under one prefix, in one ``MetaData``."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix
        self.metadata = metadata = sa.MetaData()
        p = prefix

        def key(name: str) -> sa.Column[str]:
            return sa.Column(name, _KEY, primary_key=True)

        self.accounts = sa.Table(
            f"{p}accounts",
            metadata,
            key("account"),
            sa.Column("directory_version", sa.BigInteger, nullable=False),
            sa.Column("settings", sa.Text, nullable=True),
            sa.Column("next_email", sa.BigInteger, nullable=False),
        )
        self.users = sa.Table(
            f"{p}users",
            metadata,
            key("account"),
            key("id"),
            sa.Column("email_key", _KEY, nullable=False),
            sa.Column("added", sa.BigInteger, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.UniqueConstraint("account", "email_key", name=f"{p}users_email"),
        )
        self.inboxes = sa.Table(
            f"{p}inboxes",
            metadata,
            key("account"),
            key("id"),
            sa.Column("added", sa.BigInteger, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
        )
        # phone (E.164) and email_key (the email, casefolded) find a contact by an inbound message's sender,
        # at most one per account each; a contact without one has NULL, which a unique constraint allows
        # any number of times.
        self.contacts = sa.Table(
            f"{p}contacts",
            metadata,
            key("account"),
            key("id"),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("phone", _KEY, nullable=True),
            sa.Column("email_key", _KEY, nullable=True),
            sa.UniqueConstraint("account", "phone", name=f"{p}contacts_phone"),
            sa.UniqueConstraint("account", "email_key", name=f"{p}contacts_email"),
        )
        self.conversations = sa.Table(
            f"{p}conversations",
            metadata,
            key("account"),
            key("id"),
            sa.Column("version", sa.BigInteger, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
        )
        self.between = sa.Table(
            f"{p}between",
            metadata,
            key("account"),
            key("contact_id"),
            key("inbox_id"),
            sa.Column("conversation_id", _KEY, nullable=False),
        )
        self.events = sa.Table(
            f"{p}events",
            metadata,
            key("account"),
            key("conversation_id"),
            sa.Column("version", sa.BigInteger, primary_key=True),
            sa.Column("payload", sa.Text, nullable=False),
        )
        self.deliveries = sa.Table(
            f"{p}deliveries",
            metadata,
            key("account"),
            key("inbox_id"),
            key("external_id"),
            sa.Column("conversation_id", _KEY, nullable=False),
        )
        # The key is the keyset index of a tab page: one list, newest activity first, ties by id.
        self.tab_rows = sa.Table(
            f"{p}tab_rows",
            metadata,
            key("account"),
            key("inbox_id"),
            key("tab"),
            key("owner"),
            sa.Column("newest_first", sa.BigInteger, primary_key=True),
            key("conversation_id"),
        )
        self.tab_counters = sa.Table(
            f"{p}tab_counters",
            metadata,
            key("account"),
            key("inbox_id"),
            key("tab"),
            key("owner"),
            sa.Column("total", sa.BigInteger, nullable=False),
            sa.Column("unread", sa.BigInteger, nullable=False),
        )
        self.assignments = sa.Table(
            f"{p}assignments",
            metadata,
            key("account"),
            key("user_id"),
            key("inbox_id"),
            key("conversation_id"),
        )
        self.timers = sa.Table(
            f"{p}timers",
            metadata,
            key("account"),
            key("conversation_id"),
            key("rule_id"),
            sa.Column("due_at", sa.BigInteger, nullable=False),
            sa.Column("claimed_until", sa.BigInteger, nullable=True),
            sa.Index(f"{p}timers_due", "account", "due_at", "conversation_id", "rule_id"),
        )
        self.rotations = sa.Table(
            f"{p}rotations",
            metadata,
            key("account"),
            key("rule_id"),
            sa.Column("turns", sa.BigInteger, nullable=False),
        )
        self.outbox = sa.Table(
            f"{p}outbox",
            metadata,
            key("account"),
            key("id"),
            sa.Column("enqueued", sa.BigInteger, nullable=False),
            sa.Column("conversation_id", _KEY, nullable=False),
            sa.Column("requested_by", _KEY, nullable=False),
            sa.Column("message", sa.LargeBinary, nullable=False),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("attempts", sa.BigInteger, nullable=False),
            sa.Column("last_error", sa.Text, nullable=True),
            sa.Column("last_attempt_at", sa.BigInteger, nullable=True),
            sa.Column("sent_at", sa.BigInteger, nullable=True),
            sa.Column("claimed_until", sa.BigInteger, nullable=True),
            sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
            sa.Column("failed_at", sa.BigInteger, nullable=True),
            sa.Index(f"{p}outbox_pending", "account", "sent_at", "created_at", "enqueued"),
        )
        self._analytics(p, key)
        self.version_table = f"{p}alembic_version"
        """Where Alembic records the schema's revision (a table of its own, beside a host's)."""

    def _analytics(self, p: str, key: Callable[[str], sa.Column[str]]) -> None:
        """The sums of every commit's facts (``ConversationChange.facts``), added up by each commit.

        A day is an integer, the days since 1970-01-01 (``date.toordinal() - EPOCH_ORDINAL``), so that a
        day range is a range of the key on every database; a kind is the value of its ``Count`` or
        ``Metric`` (the two enums share no value), a scope that of its ``Scope``. Each report table's key
        starts with the scope and its id, then the day: a report for one inbox or user over a range of
        days reads one range of the primary key.
        """
        metadata = self.metadata
        # A contact's conversations in the order they started (epoch microseconds), ties by id.
        self.contact_conversations = sa.Table(
            f"{p}contact_conversations",
            metadata,
            key("account"),
            key("contact_id"),
            sa.Column("started", sa.BigInteger, primary_key=True),
            key("conversation_id"),
        )
        self.contact_totals = sa.Table(
            f"{p}contact_totals",
            metadata,
            key("account"),
            key("contact_id"),
            key("kind"),
            sa.Column("count", sa.BigInteger, nullable=False),
            sa.Column("first_at", sa.BigInteger, nullable=False),
            sa.Column("last_at", sa.BigInteger, nullable=False),
        )
        # ``seq`` numbers the samples in the order they were written (the database's own counter: an
        # INTEGER PRIMARY KEY on SQLite, a sequence on PostgreSQL), so writers never contend for it.
        self.contact_samples = sa.Table(
            f"{p}contact_samples",
            metadata,
            sa.Column("seq", SEQUENCE, primary_key=True, autoincrement=True),
            sa.Column("account", _KEY, nullable=False),
            sa.Column("contact_id", _KEY, nullable=False),
            sa.Column("metric", _KEY, nullable=False),
            sa.Column("micros", sa.BigInteger, nullable=False),
            sa.Column("conversation_id", _KEY, nullable=False),
            sa.Column("at", sa.BigInteger, nullable=False),
            sa.Index(f"{p}contact_samples_contact", "account", "contact_id", "seq"),
        )
        self.daily_totals = sa.Table(
            f"{p}daily_totals",
            metadata,
            key("account"),
            key("scope"),
            key("scope_id"),
            sa.Column("day", sa.Integer, primary_key=True),
            key("kind"),
            sa.Column("count", sa.BigInteger, nullable=False),
            sa.Column("total", sa.BigInteger, nullable=False),
        )
        self.daily_buckets = sa.Table(
            f"{p}daily_buckets",
            metadata,
            key("account"),
            key("scope"),
            key("scope_id"),
            sa.Column("day", sa.Integer, primary_key=True),
            key("metric"),
            sa.Column("bucket", sa.Integer, primary_key=True),
            sa.Column("count", sa.BigInteger, nullable=False),
            sa.Column("total", sa.BigInteger, nullable=False),
        )

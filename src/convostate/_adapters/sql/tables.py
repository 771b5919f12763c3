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

from typing import Final

import sqlalchemy as sa

DEFAULT_PREFIX: Final = "convostate_"
DEFAULT_ACCOUNT: Final = "default"

_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
"""Text that is a key or a tie-break: compared byte by byte on every database."""


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
        self.contacts = sa.Table(
            f"{p}contacts",
            metadata,
            key("account"),
            key("id"),
            sa.Column("payload", sa.Text, nullable=False),
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
        self.version_table = f"{p}alembic_version"
        """Where Alembic records the schema's revision (a table of its own, beside a host's)."""

"""The first schema: every table of the store, keyed by account.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from convostate._adapters.sql.migrations.prefix import prefix

revision = "0001"
down_revision = None
branch_labels = ("convostate",)
depends_on = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
"""Keys and tie-breaks compare byte by byte on every database (the memory store's order)."""


def upgrade() -> None:
    p = prefix()
    op.create_table(
        f"{p}accounts",
        sa.Column("account", KEY, nullable=False),
        sa.Column("directory_version", sa.BigInteger(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("next_email", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        f"{p}assignments",
        sa.Column("account", KEY, nullable=False),
        sa.Column("user_id", KEY, nullable=False),
        sa.Column("inbox_id", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("account", "user_id", "inbox_id", "conversation_id"),
    )
    op.create_table(
        f"{p}between",
        sa.Column("account", KEY, nullable=False),
        sa.Column("contact_id", KEY, nullable=False),
        sa.Column("inbox_id", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("account", "contact_id", "inbox_id"),
    )
    op.create_table(
        f"{p}contacts",
        sa.Column("account", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id"),
    )
    op.create_table(
        f"{p}conversations",
        sa.Column("account", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id"),
    )
    op.create_table(
        f"{p}deliveries",
        sa.Column("account", KEY, nullable=False),
        sa.Column("inbox_id", KEY, nullable=False),
        sa.Column("external_id", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("account", "inbox_id", "external_id"),
    )
    op.create_table(
        f"{p}events",
        sa.Column("account", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "conversation_id", "version"),
    )
    op.create_table(
        f"{p}inboxes",
        sa.Column("account", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id"),
    )
    op.create_table(
        f"{p}outbox",
        sa.Column("account", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("enqueued", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("requested_by", KEY, nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.Column("claimed_until", sa.BigInteger(), nullable=True),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("failed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account", "id"),
    )
    op.create_index(
        f"{p}outbox_pending", f"{p}outbox", ["account", "sent_at", "created_at", "enqueued"], unique=False
    )
    op.create_table(
        f"{p}rotations",
        sa.Column("account", KEY, nullable=False),
        sa.Column("rule_id", KEY, nullable=False),
        sa.Column("turns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "rule_id"),
    )
    op.create_table(
        f"{p}tab_counters",
        sa.Column("account", KEY, nullable=False),
        sa.Column("inbox_id", KEY, nullable=False),
        sa.Column("tab", KEY, nullable=False),
        sa.Column("owner", KEY, nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("unread", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "inbox_id", "tab", "owner"),
    )
    op.create_table(
        f"{p}tab_rows",
        sa.Column("account", KEY, nullable=False),
        sa.Column("inbox_id", KEY, nullable=False),
        sa.Column("tab", KEY, nullable=False),
        sa.Column("owner", KEY, nullable=False),
        sa.Column("newest_first", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("account", "inbox_id", "tab", "owner", "newest_first", "conversation_id"),
    )
    op.create_table(
        f"{p}timers",
        sa.Column("account", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("rule_id", KEY, nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account", "conversation_id", "rule_id"),
    )
    op.create_index(
        f"{p}timers_due", f"{p}timers", ["account", "due_at", "conversation_id", "rule_id"], unique=False
    )
    op.create_table(
        f"{p}users",
        sa.Column("account", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("email_key", KEY, nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id"),
        sa.UniqueConstraint("account", "email_key", name=f"{p}users_email"),
    )


def downgrade() -> None:
    p = prefix()
    for table in (
        "outbox",
        "rotations",
        "timers",
        "assignments",
        "tab_counters",
        "tab_rows",
        "deliveries",
        "events",
        "between",
        "conversations",
        "contacts",
        "inboxes",
        "users",
        "accounts",
    ):
        op.drop_table(f"{p}{table}")

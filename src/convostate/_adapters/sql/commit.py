"""The one write of the SQL store: a change set checked and applied in the caller's transaction.

It keeps the memory store's promises and reports the same errors in the same order, but it does not lock
the whole store: each expectation is checked by the statement that relies on it. A conversation moves on by
``UPDATE ... WHERE version = :expected`` (no row: someone else saved first); the directory by the same on
the account's row, and a decision that only read the directory holds that row ``FOR SHARE`` until it
commits; a rotation by a compare-and-set; a new conversation, a delivery or a taken id by a primary key.
So concurrent writers on PostgreSQL never lose an update, and on SQLite the writer holds the write lock
from ``BEGIN IMMEDIATE`` anyway. Any refusal raises before the transaction commits, so nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from convostate._adapters.sql import dialects
from convostate._adapters.sql.analytics import AnalyticsWrites, FactSums
from convostate._adapters.sql.contacts import NewContacts
from convostate._adapters.sql.queries import Queries
from convostate._adapters.sql.tables import Tables
from convostate._adapters.sql.values import decode, encode, micros
from convostate._core.errors import ConcurrencyConflict, InvalidInput, UnknownInbox
from convostate._core.events import Event
from convostate._core.ids import InboxId
from convostate._core.model import Conversation, User
from convostate._core.tab_changes import NO_TAB_CHANGES, RowKey, RowPlace
from convostate._ports import arguments as check
from convostate._ports.changes import ChangeSet, ConversationChange, Erasure, ExternalDelivery
from convostate._ports.roles import already_delivered, delivered_twice

_Counters = dict[RowKey, list[int]]
_IDS_PER_READ = 500
"""Provider message ids looked up per statement, well under every driver's limit on parameters."""
"""Per tab list: how much its total and its unread counter move, summed over a change set."""


class Commit:
    """Applies change sets to one account's rows, through the connection it is given."""

    def __init__(self, tables: Tables, queries: Queries, account: str) -> None:
        self._t = tables
        self._q = queries
        self._account = account
        self._upsert_counters: Any = None  # built on first use, for the connection's dialect
        self._contacts = NewContacts(tables, queries, account)
        self._analytics = AnalyticsWrites(tables, account)

    def apply(self, connection: sa.Connection, changes: ChangeSet) -> None:
        t, account = self._t, self._account
        self._directory(connection, changes)
        if changes.contacts:
            ids = [contact.id.value for contact in changes.contacts]
            if len(set(ids)) < len(ids) or self._taken(connection, t.contacts, t.contacts.c.id, ids):
                raise InvalidInput(f"a contact with id {_listed(ids)} already exists")
            self._contacts.check_lines(connection, changes.contacts)
        for seen in changes.assignments_seen:
            stored = connection.execute(
                sa.select(t.assignments.c.conversation_id).where(
                    t.assignments.c.account == account,
                    t.assignments.c.user_id == seen.user_id.value,
                    t.assignments.c.inbox_id == seen.inbox_id.value,
                )
            ).scalars()
            if set(stored) != {conversation.value for conversation in seen.conversation_ids}:
                raise ConcurrencyConflict(
                    f"{seen.user_id}'s assignments in {seen.inbox_id} changed since this decision read them: "
                    "retry"
                )
        for turns in changes.rotations:
            self._rotate(connection, turns.rule_id.value, turns.expected, turns.count)
        new_inboxes = {inbox.id for inbox in changes.directory.inboxes} if changes.directory else set()
        counters: _Counters = defaultdict(lambda: [0, 0])
        facts = FactSums()
        if _distinct(changes.conversations):
            self._conversations(connection, changes.conversations, new_inboxes, counters)
        else:  # the same conversation twice: each change on the one before it, in order
            for change in changes.conversations:
                self._conversations(connection, (change,), new_inboxes, counters)
        for change in changes.conversations:
            if change.expected_version == 0:
                facts.start(change.state)
            if change.facts:
                facts.add(change.facts)
        if changes.deliveries:
            self._deliver(connection, changes.deliveries)
        if changes.emails:
            self._enqueue(connection, changes)
        if changes.contacts:
            self._contacts.add(connection, changes.contacts)
        if changes.erasure is not None:
            self._erase(connection, changes.erasure)
        self._analytics.write(connection, facts)
        self._count(connection, counters)

    # ------------------------------------------------------------ erasure

    def _erase(self, connection: sa.Connection, erasure: Erasure) -> None:
        """Rewrite stored values in their erased form. Each conversation the erasure read is locked and
        checked at its version first (``FOR UPDATE``: a writer appending to it waits, then appends after
        the erasure); every rewrite must hit its row."""
        t, account = self._t, self._account
        c = t.conversations.c
        read = {conversation_id for conversation_id, _ in erasure.conversations}
        for conversation_id, version in erasure.conversations:
            stored = connection.execute(
                sa.select(c.version)
                .where(c.account == account, c.id == conversation_id.value)
                .with_for_update()
            ).scalar()
            if stored is None or int(stored) != version:
                raise ConcurrencyConflict(
                    f"conversation {conversation_id} changed since the erasure read it: decide it again"
                )
        contact = erasure.contact
        if contact is not None:
            mine = t.contact_conversations.c
            held = connection.execute(
                sa.select(mine.conversation_id).where(
                    mine.account == account, mine.contact_id == contact.id.value
                )
            ).scalars()
            if set(held) != {conversation_id.value for conversation_id in read}:
                raise ConcurrencyConflict(
                    f"{contact.id} started a conversation since the erasure read them: decide it again"
                )
            k = t.contacts.c
            moved = connection.execute(
                sa.update(t.contacts)
                .where(k.account == account, k.id == contact.id.value)
                .values(
                    payload=encode(contact),
                    phone=contact.phone,
                    email_key=None if contact.email is None else contact.email.casefold(),
                )
            ).rowcount
            if moved != 1:
                raise InvalidInput(f"no contact {contact.id} to erase")
        e = t.events.c
        for rewritten in erasure.events:
            if (
                rewritten.conversation_id not in read
                or rewritten.event.conversation_id != rewritten.conversation_id
            ):
                raise InvalidInput(
                    f"event {rewritten.version} of conversation {rewritten.conversation_id} is not among "
                    "the conversations the erasure read"
                )
        rewrite = (
            sa.update(t.events)
            .where(
                e.account == account,
                e.conversation_id == sa.bindparam("b_conversation"),
                e.version == sa.bindparam("b_version"),
            )
            .values(payload=sa.bindparam("b_payload"))
        )
        rows = [
            {
                "b_conversation": rewritten.conversation_id.value,
                "b_version": rewritten.version,
                "b_payload": _payload(rewritten.event, rewritten.conversation_id.value),
            }
            for rewritten in erasure.events
        ]
        if rows and connection.dialect.supports_sane_multi_rowcount:
            moved = connection.execute(rewrite, rows).rowcount  # the rows matched, summed
            if moved != len(rows):
                raise InvalidInput("an erasure rewrites an event that is not stored")
        else:  # a driver whose executemany does not count: one by one
            for row in rows:
                if connection.execute(rewrite, row).rowcount != 1:
                    raise InvalidInput(
                        f"no event {row['b_version']} of conversation {row['b_conversation']} to erase"
                    )
        o = t.outbox.c
        if erasure.emails_of:
            held = connection.execute(
                sa.select(o.id).where(
                    o.account == account, o.conversation_id.in_([each.value for each in erasure.emails_of])
                )
            ).scalars()
            wanted = set(erasure.emails_of)
            if set(held) != {email.id for email in erasure.emails if email.conversation_id in wanted}:
                raise ConcurrencyConflict(
                    "an email was queued since the erasure read the outbox: decide it again"
                )
        for email in erasure.emails:
            moved = connection.execute(
                sa.update(t.outbox)
                .where(
                    o.account == account, o.id == email.id, o.conversation_id == email.conversation_id.value
                )
                .values(
                    message=email.message,
                    attempts=email.attempts,
                    last_error=email.last_error,
                    last_attempt_at=_optional_micros(email.last_attempt_at),
                    sent_at=_optional_micros(email.sent_at),
                    claimed_until=_optional_micros(email.claimed_until),
                    next_attempt_at=_optional_micros(email.next_attempt_at),
                    failed_at=_optional_micros(email.failed_at),
                )
            ).rowcount
            if moved != 1:
                raise InvalidInput(f"no email {email.id} of conversation {email.conversation_id} to erase")

    # ------------------------------------------------------------ the directory

    def _directory(self, connection: sa.Connection, changes: ChangeSet) -> None:
        t, account, expected = self._t, self._account, changes.directory_version
        row = t.accounts.c
        if changes.directory is None:
            if expected is None:
                return
            # Held FOR SHARE until commit: a directory change waits for this decision, or it waits for one.
            stored = connection.execute(self._q.directory_version_held, {"account": account}).scalar_one()
            if stored != expected:
                raise _directory_moved(stored, expected)
            return
        update = sa.update(t.accounts).where(row.account == account)
        if expected is not None:
            update = update.where(row.directory_version == expected)
        values: dict[str, Any] = {"directory_version": row.directory_version + 1}
        if changes.directory.settings is not None:
            values["settings"] = encode(changes.directory.settings)
        moved = connection.execute(update.values(values).returning(row.directory_version)).scalar()
        if moved is None:
            stored = connection.execute(
                sa.select(row.directory_version).where(row.account == account)
            ).scalar_one()
            raise _directory_moved(stored, expected)
        self._save_directory(connection, changes, moved)

    def _users_free(self, connection: sa.Connection, changes: ChangeSet) -> None:
        assert changes.directory is not None
        t = self._t
        users = changes.directory.users
        if not users:
            return
        ids = [user.id.value for user in users]
        emails = [user.email.casefold() for user in users]
        clash = len(set(ids)) < len(ids) or len(set(emails)) < len(emails)
        if clash or self._taken(connection, t.users, t.users.c.id, ids):
            raise InvalidInput(f"a user with id {ids} or email {emails} already exists")
        if self._taken(connection, t.users, t.users.c.email_key, emails):
            raise InvalidInput(f"a user with id {ids} or email {emails} already exists")

    def _save_directory(self, connection: sa.Connection, changes: ChangeSet, version: int) -> None:
        assert changes.directory is not None
        t, account = self._t, self._account
        self._users_free(connection, changes)
        order = version << 20  # users and inboxes list in the order they were first saved
        if changes.directory.users:
            connection.execute(
                t.users.insert(),
                [
                    {
                        "account": account,
                        "id": user.id.value,
                        "email_key": user.email.casefold(),
                        "added": order + n,
                        "payload": encode(user),
                    }
                    for n, user in enumerate(changes.directory.users)
                ],
            )
        for user in changes.directory.availability:
            stored = connection.execute(
                sa.select(t.users.c.payload).where(
                    t.users.c.account == account, t.users.c.id == user.id.value
                )
            ).scalar_one_or_none()
            known = None if stored is None else decode(stored, User)
            if known is None or attrs.evolve(known, availability=user.availability) != user:
                raise InvalidInput(
                    f"user {user.id} is not in the directory as given; only availability changes"
                )
            connection.execute(
                t.users.update()
                .where(t.users.c.account == account, t.users.c.id == user.id.value)
                .values(payload=encode(user))
            )
        if changes.directory.inboxes:
            upsert = dialects.insert(connection.dialect, t.inboxes)
            connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=["account", "id"], set_={"payload": upsert.excluded.payload}
                ),
                [
                    {"account": account, "id": inbox.id.value, "added": order + n, "payload": encode(inbox)}
                    for n, inbox in enumerate(changes.directory.inboxes)
                ],
            )

    # ------------------------------------------------------------ rotations

    def _rotate(self, connection: sa.Connection, rule_id: str, expected: int, count: int) -> None:
        t, account = self._t, self._account
        c = t.rotations.c
        moved = connection.execute(
            sa.update(t.rotations)
            .where(c.account == account, c.rule_id == rule_id, c.turns == expected)
            .values(turns=count)
        ).rowcount
        if moved == 0 and expected == 0:
            # (RETURNING, not the row count: drivers report -1 for an INSERT that did nothing.)
            inserted = connection.execute(
                dialects.insert(connection.dialect, t.rotations)
                .values(account=account, rule_id=rule_id, turns=count)
                .on_conflict_do_nothing()
                .returning(c.turns)
            ).first()
            moved = 0 if inserted is None else 1
        if moved == 0:
            raise ConcurrencyConflict(
                f"rule {rule_id} gave a turn since this decision read its rotation: retry"
            )

    # ------------------------------------------------------------ conversations

    def _conversations(
        self,
        connection: sa.Connection,
        changes: Sequence[ConversationChange],
        new_inboxes: set[InboxId],
        counters: _Counters,
    ) -> None:
        """The conversations' states and rows, each kind of row written for all of them by one
        ``executemany`` (a batch's change set holds hundreds; an action's, one or two). A new conversation
        still claims its contact's pair one by one: the checks differ per conversation, and a batch starts
        each conversation once."""
        moved = [change for change in changes if change.expected_version != 0]
        for change in changes:
            if change.expected_version == 0:
                self._start(connection, change, new_inboxes)
        if moved:
            self._move_all(connection, [self._move(change) for change in moved], moved)
            for change in moved:  # a stale version first, as one by one
                change.check_follows()
        rows = _Rows(self._account)
        for change in changes:
            rows.add(change, counters)
        rows.write(connection, self._t, self._q)

    def _move(self, change: ConversationChange) -> dict[str, Any]:
        conversation = change.state
        return {
            "of_account": self._account,
            "of_id": conversation.id.value,
            "expected": change.expected_version,
            "new_version": conversation.version,
            "new_payload": encode(conversation),
        }

    def _start(
        self, connection: sa.Connection, change: ConversationChange, new_inboxes: set[InboxId]
    ) -> None:
        conversation = change.state
        stored = self._version(connection, conversation.id.value)
        if stored != 0:
            raise _version_conflict(change, stored)
        change.check_follows()
        self._claim_pair(connection, change, new_inboxes)
        connection.execute(
            self._t.conversations.insert().values(
                account=self._account,
                id=conversation.id.value,
                version=conversation.version,
                payload=encode(conversation),
            )
        )

    def _move_all(
        self, connection: sa.Connection, moves: list[dict[str, Any]], changes: list[ConversationChange]
    ) -> None:
        """Every conversation to its new version, each only from the version the batch read."""
        if connection.dialect.supports_sane_multi_rowcount:
            if connection.execute(self._q.move_conversation, moves).rowcount == len(moves):
                return
        else:  # a driver whose executemany does not count: one by one
            for row, change in zip(moves, changes, strict=True):
                if connection.execute(self._q.move_conversation, row).rowcount != 1:
                    raise _version_conflict(change, self._version(connection, row["of_id"]))
            return
        # Some moved on since the batch read them, so were not updated: name one (the transaction rolls
        # back whichever it is). One updated here holds the payload written; another writer's does not.
        v = self._t.conversations.c
        for row, change in zip(moves, changes, strict=True):
            stored = connection.execute(
                sa.select(v.version, v.payload).where(v.account == self._account, v.id == row["of_id"])
            ).first()
            if stored is None or tuple(stored) != (row["new_version"], row["new_payload"]):
                raise _version_conflict(change, 0 if stored is None else int(stored[0]))
        raise ConcurrencyConflict("a conversation of this change set changed at once: retry")

    def _version(self, connection: sa.Connection, conversation_id: str) -> int:
        stored = connection.execute(
            self._q.version, {"account": self._account, "id": conversation_id}
        ).scalar()
        return 0 if stored is None else int(stored)

    def _claim_pair(
        self, connection: sa.Connection, change: ConversationChange, new_inboxes: set[InboxId]
    ) -> None:
        """One conversation per contact and inbox: a new one takes the pair, unless a rule opened it from
        the one that holds the pair (then it takes the pair over)."""
        t, account, conversation = self._t, self._account, change.state
        b = t.between.c
        where = (
            b.account == account,
            b.contact_id == conversation.contact_id.value,
            b.inbox_id == conversation.inbox_id.value,
        )
        holder = connection.execute(sa.select(b.conversation_id).where(*where)).scalar()
        linked = conversation.linked_from.value if conversation.linked_from is not None else None
        if holder is not None and holder != linked:
            raise ConcurrencyConflict(
                f"{conversation.contact_id} already has a conversation in {conversation.inbox_id}: "
                f"{holder}; add the message to it"
            )
        if conversation.inbox_id not in new_inboxes and not self._taken(
            connection, t.inboxes, t.inboxes.c.id, [conversation.inbox_id.value]
        ):
            raise UnknownInbox(f"no inbox {conversation.inbox_id}")
        if holder is None:
            connection.execute(
                t.between.insert().values(
                    account=account,
                    contact_id=conversation.contact_id.value,
                    inbox_id=conversation.inbox_id.value,
                    conversation_id=conversation.id.value,
                )
            )
        elif not connection.execute(
            sa.update(t.between)
            .where(*where, b.conversation_id == holder)
            .values(conversation_id=conversation.id.value)
        ).rowcount:
            raise ConcurrencyConflict(f"{conversation.contact_id}'s conversation changed at once: retry")

    def _count(self, connection: sa.Connection, counters: _Counters) -> None:
        """Move the badge counters, in key order so that two writers never wait for each other in a cycle."""
        moves = [
            {
                "account": self._account,
                "inbox_id": key[0],
                "tab": key[1],
                "owner": key[2],
                "total": d[0],
                "unread": d[1],
            }
            for key, d in sorted(counters.items())
            if d[0] or d[1]
        ]
        if not moves:
            return
        if self._upsert_counters is None:
            c = self._t.tab_counters.c
            upsert = dialects.insert(connection.dialect, self._t.tab_counters)
            self._upsert_counters = upsert.on_conflict_do_update(
                index_elements=["account", "inbox_id", "tab", "owner"],
                set_={"total": c.total + upsert.excluded.total, "unread": c.unread + upsert.excluded.unread},
            )
        connection.execute(self._upsert_counters, moves)

    # ------------------------------------------------------------ deliveries and the outbox

    def _deliver(self, connection: sa.Connection, deliveries: Sequence[ExternalDelivery]) -> None:
        """Record each provider message id once: one read per inbox and chunk of ids (a batch import
        delivers thousands), then one insert for them all."""
        t, account = self._t, self._account
        d = t.deliveries.c
        by_inbox: dict[str, dict[str, ExternalDelivery]] = defaultdict(dict)
        for delivery in deliveries:
            of_inbox = by_inbox[delivery.inbox_id.value]
            if delivery.external_id in of_inbox:
                raise delivered_twice(delivery)
            of_inbox[delivery.external_id] = delivery
        for inbox_id, of_inbox in by_inbox.items():
            external_ids = list(of_inbox)
            for start in range(0, len(external_ids), _IDS_PER_READ):
                found = connection.execute(
                    sa.select(d.external_id, d.conversation_id).where(
                        d.account == account,
                        d.inbox_id == inbox_id,
                        d.external_id.in_(external_ids[start : start + _IDS_PER_READ]),
                    )
                ).first()
                if found is not None:
                    delivery = of_inbox[found[0]]
                    raise already_delivered(delivery, type(delivery.conversation_id)(found[1]))
        connection.execute(
            t.deliveries.insert(),
            [
                {
                    "account": account,
                    "inbox_id": delivery.inbox_id.value,
                    "external_id": delivery.external_id,
                    "conversation_id": delivery.conversation_id.value,
                }
                for delivery in deliveries
            ],
        )

    def _enqueue(self, connection: sa.Connection, changes: ChangeSet) -> None:
        t, account = self._t, self._account
        ids = [email.id for email in changes.emails]
        if len(set(ids)) < len(ids) or self._taken(connection, t.outbox, t.outbox.c.id, ids):
            raise InvalidInput(
                f"an email with id {_listed(ids)} is already in the outbox; ids are never reused"
            )
        row = t.accounts.c
        last = connection.execute(
            sa.update(t.accounts)
            .where(row.account == account)
            .values(next_email=row.next_email + len(ids))
            .returning(row.next_email)
        ).scalar_one()
        first = int(last) - len(ids)
        connection.execute(
            t.outbox.insert(),
            [
                {
                    "account": account,
                    "id": email.id,
                    "enqueued": first + n,
                    "conversation_id": email.conversation_id.value,
                    "requested_by": email.requested_by.value,
                    "message": email.message,
                    "created_at": micros(email.created_at),
                    "attempts": email.attempts,
                    "last_error": email.last_error,
                    "last_attempt_at": _optional_micros(email.last_attempt_at),
                    "sent_at": _optional_micros(email.sent_at),
                    "claimed_until": _optional_micros(email.claimed_until),
                    "next_attempt_at": _optional_micros(email.next_attempt_at),
                    "failed_at": _optional_micros(email.failed_at),
                }
                for n, email in enumerate(changes.emails)
            ],
        )

    def _taken(self, connection: sa.Connection, table: sa.Table, column: Any, values: Sequence[str]) -> bool:
        return (
            connection.execute(
                sa.select(sa.literal(1)).where(table.c.account == self._account, column.in_(values)).limit(1)
            ).first()
            is not None
        )


class _Rows:
    """The rows a change set writes besides the conversations' states (events, timers, tab rows,
    assignments), gathered so that each kind is written for every conversation by one ``executemany``; the
    tab counters' moves are added up in ``counters``, written once for the change set."""

    def __init__(self, account: str) -> None:
        self._account = account
        self.events: list[dict[str, Any]] = []
        self.dropped: list[dict[str, Any]] = []
        self.timers: list[dict[str, Any]] = []
        self.removed: list[dict[str, Any]] = []
        self.added: list[dict[str, Any]] = []
        self.unassigned: list[tuple[Conversation, tuple[str, ...]]] = []
        self.assigned: list[dict[str, Any]] = []

    def add(self, change: ConversationChange, counters: _Counters) -> None:
        account, conversation, expected = self._account, change.state, change.expected_version
        conversation_id = conversation.id.value
        self.events.extend(
            {
                "account": account,
                "conversation_id": conversation_id,
                "version": expected + n,
                "payload": _payload(event, conversation_id),
            }
            for n, event in enumerate(change.events, start=1)
        )
        if expected != 0:  # a conversation's timers are replaced, and any claim on them ends with them
            self.dropped.append({"account": account, "id": conversation_id})
        self.timers.extend(
            {
                "account": account,
                "conversation_id": conversation_id,
                "rule_id": timer.rule_id.value,
                "due_at": micros(check.timer_due_at(timer, conversation_id)),
                "claimed_until": None,
            }
            for timer in change.timers
        )
        tabs = change.tabs
        if tabs is NO_TAB_CHANGES:
            return
        self.removed.extend(tab_row(account, key, place) for key, place in tabs.removed)
        self.added.extend(tab_row(account, key, place) for key, place in tabs.added)
        for key, _ in tabs.removed:
            counters[key][0] -= 1
        for key, _ in tabs.added:
            counters[key][0] += 1
        for key, count in tabs.unread:
            counters[key][1] += count
        if tabs.unassigned:
            self.unassigned.append((conversation, tabs.unassigned))
        self.assigned.extend(
            {
                "account": account,
                "user_id": user,
                "inbox_id": conversation.inbox_id.value,
                "conversation_id": conversation_id,
            }
            for user in tabs.assigned
        )

    def write(self, connection: sa.Connection, t: Tables, q: Queries) -> None:
        a = t.assignments.c
        for conversation, users in self.unassigned:
            connection.execute(
                sa.delete(t.assignments).where(
                    a.account == self._account,
                    a.user_id.in_(users),
                    a.inbox_id == conversation.inbox_id.value,
                    a.conversation_id == conversation.id.value,
                )
            )
        for statement, rows in (
            (q.add_events, self.events),
            (q.drop_timers, self.dropped),
            (q.add_timers, self.timers),
            (q.remove_rows, self.removed),
            (q.add_rows, self.added),
            (t.assignments.insert(), self.assigned),
        ):
            if rows:
                connection.execute(statement, rows)


def _payload(event: Event, conversation_id: str) -> str:
    """An event's stored JSON, or InvalidInput for one that has none (a hand-made change set's: a field
    of a type JSON cannot hold), so that the error is convostate's and says which event."""
    try:
        return encode(event)
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            f"an event of conversation {conversation_id} cannot be stored ({error}): {event!r}"
        ) from error


def tab_row(account: str, key: RowKey, place: RowPlace) -> dict[str, Any]:
    """A tab row's columns (also what ``benchmarks/sql.py`` loads in bulk)."""
    return {
        "account": account,
        "inbox_id": key[0],
        "tab": key[1],
        "owner": key[2],
        "newest_first": place[0],
        "conversation_id": place[1],
    }


def _optional_micros(instant: Any) -> int | None:
    return None if instant is None else micros(instant)


def _distinct(changes: Sequence[ConversationChange]) -> bool:
    return len({change.state.id for change in changes}) == len(changes)


def _listed(ids: Iterable[str]) -> str:
    return ", ".join(ids)


def _directory_moved(stored: int, expected: int | None) -> ConcurrencyConflict:
    return ConcurrencyConflict(
        f"the account's users, inboxes or settings changed (version {stored}, not {expected}): "
        "load them again and retry"
    )


def _version_conflict(change: ConversationChange, stored: int) -> ConcurrencyConflict:
    return ConcurrencyConflict(
        f"conversation {change.state.id} is at version {stored}, not {change.expected_version}: "
        "someone else changed it; load it again and retry"
    )

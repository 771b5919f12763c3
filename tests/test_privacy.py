"""Erasure and retention from the facade: the settings and results, their bad input, and the SQLite file
itself (the conformance suites prove the rest on every store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from convostate import AccountSettings, CalendarDuration, ConversationId, Helpdesk, InvalidInput, Role
from convostate.codec import from_json, to_json
from convostate.privacy import (
    ERASED,
    ContactErasure,
    RetentionPolicy,
    RetentionSweep,
    erased_contact,
    erased_event,
)
from convostate.testing import ManualClock

T0 = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


def _desk(**kwargs: Any) -> tuple[Helpdesk, Any, Any]:
    desk = Helpdesk(clock=ManualClock(T0), **kwargs)
    admin = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
    inbox = desk.add_inbox("Support", members=[admin], by=admin).id
    return desk, admin, inbox


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "set message_bodies_after or closed_conversations_after"),
        ({"message_bodies_after": CalendarDuration()}, "longer than zero"),
        ({"message_bodies_after": pendulum.duration(days=3)}, "must be a CalendarDuration"),
        ({"closed_conversations_after": "P30D"}, "must be a CalendarDuration"),
    ],
)
def test_a_retention_policy_that_erases_nothing_or_is_not_a_duration_is_refused(
    arguments: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        RetentionPolicy(**arguments)


def test_retention_is_a_setting_an_admin_changes_and_bad_values_change_nothing() -> None:
    desk, admin, _ = _desk()
    agent = desk.add_user("Bo", "bo@example.com", by=admin).id
    policy = RetentionPolicy(message_bodies_after=CalendarDuration.parse("P90D"))

    assert desk.update_settings(by=admin, retention=policy).retention == policy
    with pytest.raises(InvalidInput):
        desk.update_settings(by=admin, retention="P90D")
    with pytest.raises(Exception, match="admin"):
        desk.update_settings(by=agent, retention=None)
    assert desk.settings().retention == policy
    assert desk.update_settings(by=admin, retention=None).retention is None


def test_the_retention_setting_is_kept_by_the_sql_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    policy = RetentionPolicy(
        message_bodies_after=CalendarDuration(days=30), closed_conversations_after=CalendarDuration(weeks=1)
    )
    with Helpdesk.open(url) as desk:
        admin = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
        desk.update_settings(by=admin, retention=policy)
    with Helpdesk.open(url) as desk:
        assert desk.settings().retention == policy


def test_settings_results_and_erased_contacts_round_trip_through_the_codec() -> None:
    desk, admin, inbox = _desk()
    maria = desk.add_contact(name="Maria", phone="+15555550100")
    desk.receive(maria.id, inbox, "Hello")
    settings = AccountSettings(retention=RetentionPolicy(closed_conversations_after=CalendarDuration(days=7)))
    erasure = desk.erase_contact(maria.id, by=admin)
    sweep = desk.apply_retention(T0)

    for value in (settings, settings.retention, erasure, erasure.contact, sweep):
        assert from_json(to_json(value), type(value)) == value
    assert isinstance(erasure, ContactErasure)
    assert isinstance(sweep, RetentionSweep)
    assert '"retention"' not in to_json(AccountSettings())  # documents written before it read the same
    assert '"erased_at"' not in to_json(maria)


def test_the_core_rules_of_erasure_are_pure_and_keep_ids_and_instants() -> None:
    desk, admin, inbox = _desk()
    maria = desk.add_contact(name="Maria", email="maria@example.com", tags=["vip"])
    conversation = desk.receive(maria.id, inbox, "Hello", external_id="SM1").conversation.id
    started, received = desk.history(conversation)[:2]

    erased = erased_contact(maria, at=T0, by=admin)
    assert (erased.id, erased.name, erased.email, erased.tags, erased.erased_at) == (
        maria.id,
        ERASED,
        None,
        frozenset(),
        T0,
    )
    assert erased_contact(erased, at=T0.add(days=1), by=admin) == erased  # the first erasure's instant
    assert erased_event(started.event) is None
    tombstone = erased_event(received.event)
    assert tombstone is not None
    assert erased_event(tombstone) is None
    assert tombstone.at == received.event.at
    assert tombstone.message.body == ERASED  # type: ignore[union-attr]
    assert tombstone.message.external_id == "SM1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda desk: desk.apply_retention(batch=0), "batch"),
        (lambda desk: desk.apply_retention(pendulum.naive(2026, 3, 2)), "timezone"),
        (lambda desk: desk.apply_retention(after="c-1"), "ConversationId"),
        (lambda desk: desk.erase_contact("maria", by=desk.store.users()[0].id), "ContactId"),
    ],
)
def test_bad_input_to_erasure_and_retention_is_refused(call: Any, says: str) -> None:
    desk, _, _ = _desk()
    before = desk.store.dump()  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match=says):
        call(desk)
    assert desk.store.dump() == before  # type: ignore[attr-defined]


def test_the_sqlite_file_keeps_no_erased_text(tmp_path: Path) -> None:
    """SQLite keeps deleted text in free pages unless secure_delete is on: the store turns it on, so once
    the connections are closed (the write-ahead log checkpointed into the file) no erased byte is left."""
    path = tmp_path / "helpdesk.db"
    marks = [b"Quillon", b"quillon.mail", b"5550777", b"Wrenfield"]
    with Helpdesk.open(f"sqlite:///{path}") as desk:
        admin = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
        inbox = desk.add_inbox("Support", members=[admin], by=admin).id
        maria = desk.add_contact(name="Maria Quillon", email="quillon.mail@example.com", phone="+15555550777")
        conversation = desk.receive(maria.id, inbox, "Wrenfield " * 200).conversation.id
        desk.reply(conversation, "About Wrenfield", by=admin)
        with desk.store.engine.connect() as connection:  # type: ignore[attr-defined]
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    stored = path.read_bytes()
    assert all(mark in stored for mark in marks)  # the test sees them before

    with Helpdesk.open(f"sqlite:///{path}") as desk:
        desk.erase_contact(maria.id, by=admin)

    leftovers = [path, *tmp_path.glob("helpdesk.db-*")]
    found = [mark for file in leftovers if file.exists() for mark in marks if mark in file.read_bytes()]
    assert found == []


def test_a_retention_sweep_with_no_conversations_reads_nothing() -> None:
    desk, _, _ = _desk()
    assert desk.apply_retention(T0, after=ConversationId("zzz")) == RetentionSweep(0, 0, 0, 0, None)

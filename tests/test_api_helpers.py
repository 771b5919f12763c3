"""What a host's JSON API needs from convostate besides the facade: the contact a webhook's message came
from, found or added once however many redeliveries race (``Helpdesk.contact_for``), and one HTTP answer
per refusal (``convostate.codec.problem``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pendulum
import pytest

from convostate import (
    ConcurrencyConflict,
    ContactId,
    ConversationId,
    DuplicateContact,
    ExportDisabled,
    Helpdesk,
    InvalidInput,
    MailerNotConfigured,
    NotAMember,
    PermissionDenied,
    Role,
    StorageBusy,
    StorageError,
    UnknownConversation,
    UnknownInbox,
)
from convostate.codec import PROBLEM_MEDIA_TYPE, problem
from convostate.ports import DeliveryFailed
from convostate.testing import ManualClock


def _helpdesk() -> Helpdesk:
    return Helpdesk(clock=ManualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC")))


def test_contact_for_finds_by_phone_then_by_email_else_adds() -> None:
    desk = _helpdesk()
    maria = desk.add_contact(name="Maria", phone="+15555550100")
    ana = desk.add_contact(name="Ana", email="ana@example.com")
    assert desk.contact_for(phone="+1 (555) 555-0100") == maria
    assert desk.contact_for(email="ANA@example.com") == ana
    assert desk.contact_for(phone="+15555550100", email="ana@example.com") == maria  # the phone first
    new = desk.contact_for(phone="+15555550199", email="new@example.com", name="Neo")
    assert (new.name, new.phone, new.email) == ("Neo", "+15555550199", "new@example.com")
    assert desk.contact_for(email="new@example.com") == new


def test_contact_for_refuses_what_names_nobody_and_adds_nothing() -> None:
    desk = _helpdesk()
    calls: list[Callable[[], object]] = [
        desk.contact_for,
        lambda: desk.contact_for(phone="not a number"),
        lambda: desk.contact_for(email="nobody"),
    ]
    for call in calls:
        with pytest.raises(InvalidInput):
            call()
    assert desk.find_contact(phone="+15555550100") is None


def test_racing_webhooks_add_a_new_number_once() -> None:
    desk = _helpdesk()
    barrier = threading.Barrier(8)
    found: list[ContactId] = []

    def webhook() -> None:
        barrier.wait(10)
        found.append(desk.contact_for(phone="+15555550100").id)

    threads = [threading.Thread(target=webhook) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(found) == 8
    assert len(set(found)) == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionDenied("no"), 403),
        (ExportDisabled("off"), 403),
        (UnknownConversation("none"), 404),
        (UnknownInbox("none"), 404),
        (ConcurrencyConflict("lost"), 409),
        (DuplicateContact("taken", ContactId("contact-1")), 409),
        (InvalidInput("bad"), 422),
        (NotAMember("not in the inbox"), 422),
        (StorageBusy("locked"), 503),
        (MailerNotConfigured("no mailer"), 503),
        (DeliveryFailed("refused", smtp_code=550), 502),
        (StorageError("read-only"), 500),
    ],
)
def test_every_refusal_has_its_status(error: Exception, status: int) -> None:
    answered, body = problem(error)
    assert answered == status
    assert json.loads(body)["status"] == status
    assert json.loads(body)["title"] == type(error).__name__
    assert json.loads(body)["detail"] == str(error)


def test_a_duplicate_names_the_existing_contact() -> None:
    _, body = problem(DuplicateContact("taken", ContactId("contact-7")))
    assert json.loads(body)["existing"] == "contact-7"


def test_anything_else_is_a_500_that_tells_nothing() -> None:
    status, body = problem(KeyError("the database password is hunter2"))
    assert status == 500
    assert "hunter2" not in body
    assert PROBLEM_MEDIA_TYPE == "application/problem+json"


def test_a_real_refusal_from_the_facade() -> None:
    desk = _helpdesk()
    admin = desk.add_user("Alex", "alex@example.com", role=Role.ADMIN).id
    with pytest.raises(UnknownConversation) as refused:
        desk.close(ConversationId("conversation-404"), by=admin)
    status, body = problem(refused.value)
    assert status == 404
    assert "conversation-404" in json.loads(body)["detail"]

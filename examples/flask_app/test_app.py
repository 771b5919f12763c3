"""The Flask example's routes, through Flask's test client, on a SQLite file with a manual clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from convostate import (
    ConversationId,
    EmailStatus,
    Helpdesk,
    Role,
    Tab,
    UserId,
)
from convostate.testing import CollectingMailer, ManualClock

from .app import create_app

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


@dataclass
class Desk:
    url: str
    helpdesk: Helpdesk
    clock: ManualClock
    app: Flask
    ana: str  # an admin
    bo: str  # an agent of Support
    cy: str  # an agent of no inbox
    support: str

    def client(self, user: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        if user is not None:
            client.environ_base["HTTP_X_USER_ID"] = user
        return client

    def inbound(self, message_id: str, phone: str = "+15555550100", body: str = "Hello") -> Any:
        message = {"message_id": message_id, "from": phone, "inbox_id": self.support, "body": body}
        return ok(self.client().post("/webhooks/inbound", json=message))


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    clock = ManualClock(START)
    with Helpdesk.open(url, clock=clock) as helpdesk:
        ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
        bo = helpdesk.add_user("Bo", "bo@example.com", by=ana).id
        cy = helpdesk.add_user("Cy", "cy@example.com", by=ana).id
        support = helpdesk.add_inbox("Support", members=[ana, bo], by=ana).id
        app = create_app(helpdesk)
        yield Desk(url, helpdesk, clock, app, ana.value, bo.value, cy.value, support.value)


def ok(response: TestResponse) -> Any:
    """The JSON of a 200 response."""
    assert response.status_code == 200, response.json
    assert response.json is not None
    return response.json


def refusal(response: TestResponse) -> tuple[int, str]:
    """The status and the error's name of a refused request."""
    assert response.json is not None
    return response.status_code, response.json["title"]


def conversation_of(outcome: Any) -> ConversationId:
    return ConversationId(outcome["conversation"]["id"])


# ---------------------------------------------------------------- the webhook


def test_a_webhook_starts_a_conversation_and_a_redelivery_adds_nothing(desk: Desk) -> None:
    first = desk.inbound("SM1")
    assert first["type"] == "Outcome"
    assert [event["type"] for event in first["events"]] == ["ConversationStarted", "MessageReceived"]
    conversation = conversation_of(first)

    again = desk.inbound("SM1")  # the provider did not hear our 200 and sends it again
    assert conversation_of(again) == conversation
    assert again["events"] == []
    assert len(desk.helpdesk.history(conversation)) == 2

    desk.inbound("SM2", body="Anyone there?")  # a new message id is a new message
    assert len(desk.helpdesk.history(conversation)) == 3


def test_redeliveries_racing_on_threads_add_one_contact_and_one_message(desk: Desk) -> None:
    for round_ in range(5):
        phone = f"+1555555020{round_}"  # a new sender each round: the contact is added in the race too
        racers = 4
        barrier = threading.Barrier(racers)
        answers: list[Any] = []

        def deliver(
            phone: str = phone,
            round_: int = round_,
            barrier: threading.Barrier = barrier,
            answers: list[Any] = answers,
        ) -> None:
            barrier.wait()
            answers.append(desk.inbound(f"race-{round_}", phone=phone))

        threads = [threading.Thread(target=deliver) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(answers) == racers
        conversations = {conversation_of(answer) for answer in answers}
        assert len(conversations) == 1
        assert sum(1 for answer in answers if answer["events"]) == 1  # one delivery changed anything
        (conversation,) = conversations
        assert [entry.event.__class__.__name__ for entry in desk.helpdesk.history(conversation)] == [
            "ConversationStarted",
            "MessageReceived",
        ]
        found = desk.helpdesk.find_contact(phone=phone)
        assert found is not None
        assert desk.helpdesk.conversation(conversation).contact_id == found.id


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ({}, 422),
        ({"message_id": "SM1", "from": "+15555550100", "body": "Hi"}, 422),  # no inbox
        ({"message_id": "SM1", "from": "+15555550100", "inbox_id": "support", "body": "  "}, 422),
        ({"message_id": 7, "from": "+15555550100", "inbox_id": "support", "body": "Hi"}, 422),
        ({"message_id": "SM1", "from": "not a phone", "inbox_id": "support", "body": "Hi"}, 422),
        ({"message_id": "SM1", "from": "+15555550100", "inbox_id": "nowhere", "body": "Hi"}, 404),
    ],
)
def test_a_bad_webhook_is_refused_and_changes_nothing(
    desk: Desk, message: dict[str, object], status: int
) -> None:
    if message.get("inbox_id") == "support":
        message = {**message, "inbox_id": desk.support}
    response = desk.client().post("/webhooks/inbound", json=message)
    assert response.status_code == status
    assert response.json is not None
    assert response.json["detail"]
    assert desk.helpdesk.find_contact(phone="+15555550100") is None
    assert desk.helpdesk.badges(desk.helpdesk.store.users()[0].id)[Tab.ALL_OPEN].total == 0


def test_a_body_that_is_not_json_is_refused(desk: Desk) -> None:
    response = desk.client().post("/webhooks/inbound", data="message_id=SM1")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json == {
        "title": "InvalidInput",
        "status": 422,
        "detail": "send a JSON object whose 'message_id' is non-empty text",
    }


# ---------------------------------------------------------------- tabs and badges


def test_badges_and_a_tab_paged_with_its_cursor(desk: Desk) -> None:
    started = []
    for n in range(5):
        desk.clock.advance(minutes=1)
        started.append(conversation_of(desk.inbound(f"SM{n}", phone=f"+1555555010{n}")))

    badges = desk.client(desk.bo).get("/tabs")
    assert badges.status_code == 200
    assert badges.json is not None
    assert badges.json["type"] == "Badges"
    assert badges.json["unassigned"] == {"type": "TabCount", "total": 5, "unread": 5}

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = desk.client(desk.bo).get("/tabs/unassigned", query_string=query)
        assert page.status_code == 200
        assert page.json is not None
        assert page.json["type"] == "Page"
        seen += [conversation["id"] for conversation in page.json["conversations"]]
        cursor = page.json["next_cursor"]
    assert cursor is None
    assert seen == [conversation.value for conversation in reversed(started)]  # newest first, each once


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/tabs/everything", {}, 422),
        ("/tabs/unassigned", {"limit": "lots"}, 422),
        ("/tabs/unassigned", {"limit": "0"}, 422),
        ("/tabs/unassigned", {"cursor": "not-a-cursor"}, 422),
    ],
)
def test_a_bad_tab_request_is_refused(desk: Desk, path: str, query: dict[str, str], status: int) -> None:
    response = desk.client(desk.bo).get(path, query_string=query)
    assert response.status_code == status
    assert response.json is not None
    assert response.json["title"] == "InvalidInput"


def test_without_x_user_id_a_request_is_refused(desk: Desk) -> None:
    response = desk.client().get("/tabs")
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["title"] == "PermissionDenied"
    assert desk.client("nobody").get("/tabs").status_code == 404  # UnknownUser


# ---------------------------------------------------------------- the actions


def test_assign_read_star_close_each_answer_the_outcome(desk: Desk) -> None:
    conversation = conversation_of(desk.inbound("SM1")).value
    bo = desk.client(desk.bo)

    assigned = bo.post(f"/conversations/{conversation}/assign", json={"user_id": desk.bo})
    assert assigned.status_code == 200
    assert assigned.json is not None
    assert assigned.json["conversation"]["assignees"] == [desk.bo]
    assert ok(bo.get("/tabs"))["assigned_to_you"] == {"type": "TabCount", "total": 1, "unread": 1}

    read = bo.post(f"/conversations/{conversation}/read")
    assert [event["type"] for event in ok(read)["events"]] == ["MarkedRead"]
    assert ok(bo.get("/tabs"))["assigned_to_you"]["unread"] == 0

    starred = bo.post(f"/conversations/{conversation}/star")
    assert ok(starred)["conversation"]["starred_by"] == [desk.bo]
    assert ok(bo.get("/tabs"))["starred"]["total"] == 1

    closed = bo.post(f"/conversations/{conversation}/close")
    assert ok(closed)["conversation"]["status"] == "closed"
    assert ok(bo.get("/tabs"))["closed"]["total"] == 1


@pytest.mark.parametrize(
    ("who", "path", "body", "refused"),
    [
        ("bo", "/conversations/{c}/assign", {"user_id": "cy"}, (422, "NotAMember")),
        ("bo", "/conversations/{c}/assign", {"user": "bo"}, (422, "InvalidInput")),
        ("cy", "/conversations/{c}/close", None, (403, "PermissionDenied")),
        ("cy", "/conversations/{c}/star", None, (403, "PermissionDenied")),
        ("bo", "/conversations/nope/close", None, (404, "UnknownConversation")),
        ("bo", "/conversations/nope/read", None, (404, "UnknownConversation")),
        ("cy", "/conversations/{c}/export", None, (403, "PermissionDenied")),
        ("cy", "/contacts/{contact}", None, (403, "PermissionDenied")),
        ("bo", "/contacts/nobody", None, (404, "UnknownContact")),
    ],
)
def test_a_refused_action_answers_its_status_and_changes_nothing(
    desk: Desk, who: str, path: str, body: dict[str, str] | None, refused: tuple[int, str]
) -> None:
    outcome = desk.inbound("SM1")
    conversation = conversation_of(outcome)
    users = {"bo": desk.bo, "cy": desk.cy}
    body = {key: users.get(value, value) for key, value in (body or {}).items()}
    url = path.format(c=conversation.value, contact=outcome["conversation"]["contact_id"])
    client = desk.client(users[who])
    response = client.get(url) if url.startswith("/contacts") else client.post(url, json=body)
    assert refusal(response) == refused
    assert len(desk.helpdesk.history(conversation)) == 2
    assert desk.helpdesk.emails() == ()


def test_contact_info(desk: Desk) -> None:
    contact = desk.inbound("SM1")["conversation"]["contact_id"]
    info = desk.client(desk.bo).get(f"/contacts/{contact}")
    assert info.status_code == 200
    assert info.json is not None
    assert info.json["type"] == "ContactInfo"
    assert info.json["contact"]["phone"] == "+15555550100"
    assert info.json["figures"]["messages_in"] == 1
    assert info.json["waiting_since"] is not None


def test_export_queues_the_email_and_the_sweep_sends_it(desk: Desk) -> None:
    conversation = conversation_of(desk.inbound("SM1")).value
    exported = desk.client(desk.bo).post(f"/conversations/{conversation}/export")
    assert exported.status_code == 200
    assert exported.json is not None
    assert exported.json["type"] == "ExportResult"
    assert exported.json["email"]["sent_at"] is None
    assert len(desk.helpdesk.emails(EmailStatus.PENDING)) == 1  # no mailer: it waits in the outbox

    mailer = CollectingMailer()
    with Helpdesk.open(desk.url, clock=desk.clock, mailer=mailer) as with_mailer:
        result = create_app(with_mailer).test_cli_runner().invoke(args=["convostate-sweep"])
    assert result.exit_code == 0, result.output
    assert result.output == "ran 0 due timers, 0 stuck\nsent 1 emails, 0 failed\n"
    assert len(mailer.sent) == 1
    assert "bo@example.com" in mailer.sent[0]["To"]
    assert desk.helpdesk.emails(EmailStatus.PENDING) == ()


# ---------------------------------------------------------------- the scheduler's entry


def test_the_sweep_command_runs_the_due_timers_once(desk: Desk) -> None:
    conversation = conversation_of(desk.inbound("SM1"))
    desk.helpdesk.snooze(conversation, START.add(hours=2), by=UserId(desk.bo))
    runner = desk.app.test_cli_runner()

    early = runner.invoke(args=["convostate-sweep"])
    assert (early.exit_code, early.output) == (0, "ran 0 due timers, 0 stuck\n")

    desk.clock.advance(hours=3)
    due = runner.invoke(args=["convostate-sweep"])
    assert (due.exit_code, due.output) == (0, "ran 1 due timers, 0 stuck\n")
    assert [entry.event.__class__.__name__ for entry in desk.helpdesk.history(conversation)][
        -1
    ] == "Unsnoozed"
    assert runner.invoke(args=["convostate-sweep"]).output == "ran 0 due timers, 0 stuck\n"  # once only

"""The Django example: its views through Django's test client, convostate's writes in the view's transaction,
the migration that makes convostate's tables, and the sweep command; on SQLite (a file) and, when
``CONVOSTATE_POSTGRES_URL`` is set, on PostgreSQL too."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import TYPE_CHECKING, Any

import pendulum
import pytest
import sqlalchemy as sa
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from convostate import ConversationId, EmailStatus, InboxId, Role, Status, Unsnoozed, UserId
from convostate.testing import CollectingMailer, ManualClock

from .inbox import desk as desk_module
from .inbox import views
from .inbox.desk import helpdesk, lending_engine
from .inbox.models import Activity

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response  # what Client returns (stubs)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
PAST = pendulum.now("UTC").subtract(days=2)


class Boom(Exception):
    """Something the host's own code raised after convostate's change."""


@dataclass
class Desk:
    alias: str
    ana: UserId  # an admin
    bo: UserId  # an agent of Support
    cy: UserId  # an agent of no inbox
    support: InboxId

    def client(self, user: UserId | None = None) -> Client:
        return Client(headers={"X-User-Id": user.value} if user else {})

    def inbound(self, message_id: str, phone: str = "+15555550100", body: str = "Hello") -> Any:
        message = {"message_id": message_id, "from": phone, "inbox_id": self.support.value, "body": body}
        return ok(self.client().post("/webhooks/inbound", message, content_type="application/json"))


def ok(response: Response) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def refusal(response: Response) -> tuple[int, str]:
    return response.status_code, response.json()["title"]


def conversation_of(outcome: Any) -> ConversationId:
    return ConversationId(outcome["conversation"]["id"])


def in_transaction(alias: str) -> Any:
    return transaction.atomic(using=alias)


@pytest.fixture(params=["default", "postgres"])
def desk(request: pytest.FixtureRequest) -> Iterator[Desk]:
    alias: str = request.param
    if alias not in django_settings.DATABASES:
        pytest.skip("PostgreSQL: set CONVOSTATE_POSTGRES_URL")
    account = f"test-{uuid.uuid4().hex}"  # an account per test: Django's flush leaves convostate's tables
    with override_settings(CONVOSTATE_DATABASE=alias, CONVOSTATE_ACCOUNT=account):
        with in_transaction(alias), helpdesk(ManualClock(PAST)) as seed:
            ana = seed.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
            bo = seed.add_user("Bo", "bo@example.com", by=ana).id
            cy = seed.add_user("Cy", "cy@example.com", by=ana).id
            support = seed.add_inbox("Support", members=[ana, bo], by=ana).id
        yield Desk(alias, ana, bo, cy, support)


def history_length(conversation: ConversationId) -> int:
    with in_transaction(django_settings.CONVOSTATE_DATABASE), helpdesk() as desk:
        return len(desk.history(conversation))


# ---------------------------------------------------------------- the host's transaction is convostate's


def test_the_hosts_row_and_convostates_change_commit_together(desk: Desk) -> None:
    with in_transaction(desk.alias), helpdesk() as helpdesk_:
        maria = helpdesk_.add_contact(name="Maria")
        conversation = helpdesk_.receive(maria.id, desk.support, "Hello").conversation.id
        Activity.objects.create(user_id="webhook", action="receive", conversation_id=conversation.value)
    assert Activity.objects.get().conversation_id == conversation.value
    assert history_length(conversation) == 2


def test_an_exception_after_both_rolls_back_both(desk: Desk) -> None:
    def view() -> None:
        with in_transaction(desk.alias), helpdesk() as helpdesk_:
            Activity.objects.create(user_id="webhook", action="receive", conversation_id="?")
            maria = helpdesk_.add_contact(name="Maria", phone="+15555550100")
            helpdesk_.receive(maria.id, desk.support, "Hello")
            raise Boom

    with pytest.raises(Boom):
        view()
    assert not Activity.objects.exists()
    with in_transaction(desk.alias), helpdesk() as helpdesk_:
        assert helpdesk_.find_contact(phone="+15555550100") is None
        assert helpdesk_.badges(desk.ana).all_open.total == 0


def test_an_exception_in_a_view_after_both_writes_rolls_back_both(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = conversation_of(desk.inbound("SM1"))

    def fail(value: object) -> Any:
        raise Boom  # the view's last step, after convostate's assignment and the Activity row

    monkeypatch.setattr(views, "as_json", fail)
    with pytest.raises(Boom):
        desk.client(desk.bo).post(
            f"/conversations/{conversation.value}/assign", {"user_id": desk.bo.value}, "application/json"
        )
    assert not Activity.objects.exists()
    with in_transaction(desk.alias), helpdesk() as helpdesk_:
        assert helpdesk_.conversation(conversation).assignees == frozenset()
        assert len(helpdesk_.history(conversation)) == 2


def test_a_refusal_after_the_hosts_write_rolls_the_write_back(desk: Desk) -> None:
    @views.json_view
    def writes_then_refused(request: HttpRequest) -> HttpResponse:
        Activity.objects.create(user_id=desk.bo.value, action="close", conversation_id="nope")
        with helpdesk() as helpdesk_:
            return views.as_json(helpdesk_.close(ConversationId("nope"), by=desk.bo))

    request = RequestFactory().post("/", headers={"X-User-Id": desk.bo.value})
    with transaction.atomic(using=desk.alias):  # what ATOMIC_REQUESTS does around a view
        response = writes_then_refused(request)
    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_convostate_outside_a_transaction_is_refused(desk: Desk) -> None:
    with pytest.raises(TransactionManagementError, match="inside atomic"), helpdesk():
        pass


# ---------------------------------------------------------------- the webhook


def test_a_webhook_starts_a_conversation_and_a_redelivery_adds_nothing(desk: Desk) -> None:
    first = desk.inbound("SM1")
    assert [event["type"] for event in first["events"]] == ["ConversationStarted", "MessageReceived"]
    conversation = conversation_of(first)
    again = desk.inbound("SM1")
    assert conversation_of(again) == conversation
    assert again["events"] == []
    assert history_length(conversation) == 2


def test_redeliveries_racing_on_threads_add_one_contact_and_one_message(desk: Desk) -> None:
    racers = 4
    barrier = threading.Barrier(racers)
    answers: list[Any] = []

    def deliver() -> None:
        try:
            barrier.wait()
            answers.append(desk.inbound("race", phone="+15555550199"))
        finally:
            connections.close_all()  # this thread's own Django connections

    threads = [threading.Thread(target=deliver) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == racers
    assert len({conversation_of(answer) for answer in answers}) == 1
    assert sum(1 for answer in answers if answer["events"]) == 1
    assert history_length(conversation_of(answers[0])) == 2


@pytest.mark.parametrize(
    ("message", "refused"),
    [
        ({}, (422, "InvalidInput")),
        ({"message_id": "SM1", "from": "+15555550100", "body": "Hi"}, (422, "InvalidInput")),
        (
            {"message_id": "SM1", "from": "not a phone", "inbox_id": "support", "body": "Hi"},
            (422, "InvalidInput"),
        ),
        (
            {"message_id": "SM1", "from": "+15555550100", "inbox_id": "nowhere", "body": "Hi"},
            (404, "UnknownInbox"),
        ),
    ],
)
def test_a_bad_webhook_is_refused_and_changes_nothing(
    desk: Desk, message: dict[str, str], refused: tuple[int, str]
) -> None:
    if message.get("inbox_id") == "support":
        message = {**message, "inbox_id": desk.support.value}
    response = desk.client().post("/webhooks/inbound", message, content_type="application/json")
    assert refusal(response) == refused
    with in_transaction(desk.alias), helpdesk() as helpdesk_:
        assert helpdesk_.find_contact(phone="+15555550100") is None


# ---------------------------------------------------------------- tabs, actions, contact info, export


def test_badges_and_a_tab_paged_with_its_cursor(desk: Desk) -> None:
    started = [conversation_of(desk.inbound(f"SM{n}", phone=f"+1555555010{n}")).value for n in range(5)]
    badges = ok(desk.client(desk.bo).get("/tabs"))
    assert badges["unassigned"] == {"type": "TabCount", "total": 5, "unread": 5}

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = ok(desk.client(desk.bo).get("/tabs/unassigned", query))
        seen += [conversation["id"] for conversation in page["conversations"]]
        cursor = page["next_cursor"]
    assert cursor is None
    assert sorted(seen) == sorted(started)
    assert refusal(desk.client(desk.bo).get("/tabs/everything")) == (422, "InvalidInput")
    assert refusal(desk.client(desk.bo).get("/tabs/closed", {"limit": "x"})) == (422, "InvalidInput")


def test_each_action_commits_with_the_hosts_activity_row(desk: Desk) -> None:
    conversation = conversation_of(desk.inbound("SM1")).value
    bo = desk.client(desk.bo)
    post = "/conversations/" + conversation + "/{}"
    assigned = ok(bo.post(post.format("assign"), {"user_id": desk.bo.value}, "application/json"))
    assert assigned["conversation"]["assignees"] == [desk.bo.value]
    assert [event["type"] for event in ok(bo.post(post.format("read")))["events"]] == ["MarkedRead"]
    assert ok(bo.post(post.format("star")))["conversation"]["starred_by"] == [desk.bo.value]
    assert ok(bo.post(post.format("close")))["conversation"]["status"] == Status.CLOSED.value
    exported = ok(bo.post(post.format("export")))
    assert exported["type"] == "ExportResult"
    assert exported["email"]["sent_at"] is None  # no mailer: the sweep sends it

    rows = Activity.objects.order_by("id").values_list("user_id", "action", "conversation_id")
    assert list(rows) == [
        (desk.bo.value, action, conversation) for action in ("assign", "read", "star", "close", "export")
    ]
    assert ok(bo.get("/tabs"))["closed"]["total"] == 1


@pytest.mark.parametrize(
    ("who", "path", "body", "refused"),
    [
        ("bo", "/conversations/{c}/assign", {"user_id": "cy"}, (422, "NotAMember")),
        ("bo", "/conversations/{c}/assign", {}, (422, "InvalidInput")),
        ("cy", "/conversations/{c}/close", None, (403, "PermissionDenied")),
        ("bo", "/conversations/nope/star", None, (404, "UnknownConversation")),
        ("cy", "/conversations/{c}/export", None, (403, "PermissionDenied")),
        (None, "/conversations/{c}/read", None, (403, "PermissionDenied")),
    ],
)
def test_a_refused_action_answers_its_status_and_changes_nothing(
    desk: Desk, who: str | None, path: str, body: dict[str, str] | None, refused: tuple[int, str]
) -> None:
    conversation = conversation_of(desk.inbound("SM1"))
    users = {"bo": desk.bo.value, "cy": desk.cy.value}
    body = {key: users.get(value, value) for key, value in (body or {}).items()}
    client = desk.client(UserId(users[who]) if who else None)
    response = client.post(path.format(c=conversation.value), body, "application/json")
    assert refusal(response) == refused
    assert not Activity.objects.exists()
    assert history_length(conversation) == 2


def test_contact_info(desk: Desk) -> None:
    contact = desk.inbound("SM1")["conversation"]["contact_id"]
    info = ok(desk.client(desk.bo).get(f"/contacts/{contact}"))
    assert info["type"] == "ContactInfo"
    assert info["contact"]["phone"] == "+15555550100"
    assert refusal(desk.client(desk.cy).get(f"/contacts/{contact}")) == (403, "PermissionDenied")


# ---------------------------------------------------------------- the sweep, the migration


def test_the_sweep_command_runs_the_due_timers_once(desk: Desk) -> None:
    with in_transaction(desk.alias), helpdesk(ManualClock(PAST)) as helpdesk_:
        maria = helpdesk_.add_contact(name="Maria")
        conversation = helpdesk_.receive(maria.id, desk.support, "Hello").conversation.id
        helpdesk_.snooze(conversation, PAST.add(days=1), by=desk.bo)
        helpdesk_.export(conversation, by=desk.bo)

    out = StringIO()
    call_command("convostate_sweep", stdout=out)
    assert out.getvalue() == "ran 1 due timers, 0 stuck\n"  # no mailer configured: no delivery
    with in_transaction(desk.alias), helpdesk() as helpdesk_:
        assert isinstance(helpdesk_.history(conversation)[-1].event, Unsnoozed)
        assert len(helpdesk_.emails(EmailStatus.PENDING)) == 1
    again = StringIO()
    call_command("convostate_sweep", stdout=again)
    assert again.getvalue() == "ran 0 due timers, 0 stuck\n"


def test_the_sweep_command_sends_the_queued_emails(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    conversation = conversation_of(desk.inbound("SM1")).value
    ok(desk.client(desk.bo).post(f"/conversations/{conversation}/export"))  # no mailer: queued
    sent = CollectingMailer()
    monkeypatch.setattr(desk_module, "mailer", lambda: sent)  # as CONVOSTATE_SMTP_URL would configure one

    out = StringIO()
    call_command("convostate_sweep", stdout=out)
    assert out.getvalue() == "ran 0 due timers, 0 stuck\nsent 1 emails, 0 failed\n"
    assert len(sent.sent) == 1
    assert "bo@example.com" in sent.sent[0]["To"]


def test_migrating_back_drops_convostates_tables_and_forward_makes_them(desk: Desk) -> None:
    def tables() -> set[str]:
        with lending_engine(desk.alias).connect() as connection:
            return set(sa.inspect(connection).get_table_names())

    assert {"inbox_activity", "convostate_conversations", "convostate_alembic_version"} <= tables()
    call_command("migrate", "inbox", "0001", database=desk.alias, verbosity=0)
    assert not {name for name in tables() if name.startswith("convostate_")}
    assert "inbox_activity" in tables()
    call_command("migrate", "inbox", database=desk.alias, verbosity=0)
    assert "convostate_conversations" in tables()

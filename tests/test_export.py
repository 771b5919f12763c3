"""Export: a user asks for a conversation and gets an email with it as a CSV attachment.

DESIGN.md, "Export": "an email with the conversation as a CSV attachment is sent to that user's address.
Admins can turn exports off and on for the account; when off, the request is refused with an error that
says an admin must enable it. A failed send is retried, never lost and never sent twice."
"""

from __future__ import annotations

import csv
import io
from email.message import EmailMessage

import pendulum
import pytest

from convostate import (
    Actor,
    ConversationId,
    Delivery,
    ExportDisabled,
    Helpdesk,
    InvalidInput,
    MailerNotConfigured,
    MemoryStore,
    MessageId,
    PermissionDenied,
    Role,
    RuleId,
    UnknownConversation,
    UnknownUser,
    UserId,
)
from convostate._ports.changes import ChangeSet
from convostate._service.export_email import conversation_csv, email_address, message_id
from convostate._service.pipeline import Loaded, Pipeline, Turns
from convostate.core import SendReply
from convostate.rules import RuleSet
from convostate.testing import CollectingMailer, ManualClock, SequentialIds
from tests.helpdesk_builders import Account, build_account, open_conversation

HEADER = ["sent_at", "direction", "author", "body", "message_id", "external_id"]


def mailer_of(account: Account) -> CollectingMailer:
    mailer = account.helpdesk.mailer
    assert isinstance(mailer, CollectingMailer)
    return mailer


def store_of(account: Account) -> MemoryStore:
    store = account.helpdesk.store
    assert isinstance(store, MemoryStore)
    return store


def attachment(message: EmailMessage) -> EmailMessage:
    [attached] = list(message.iter_attachments())
    assert isinstance(attached, EmailMessage)
    return attached


def rows(message: EmailMessage) -> list[list[str]]:
    """The CSV attached to ``message``, read back with the csv module."""
    content = attachment(message).get_content()
    assert isinstance(content, str)
    assert content.startswith("\ufeff"), "a byte-order mark first, so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"), newline="")))


def reply_as_a_rule(account: Account, conversation: ConversationId, rule: RuleId, body: str) -> None:
    """Store a reply a rule wrote, through the pipeline as a host's own automation would (the facade's
    ``execute`` runs only what a rule of its rule set could do, and no rule action replies)."""
    helpdesk, store = account.helpdesk, store_of(account)
    state = helpdesk.conversation(conversation)
    loaded = Loaded(state, helpdesk.inbox(state.inbox_id), helpdesk.settings(), None)
    command = SendReply(conversation, MessageId(f"{rule}-1"), body, Actor.rule(rule))
    _, changes = Pipeline(RuleSet(()), max_depth=8).command(loaded, command, state.updated_at, Turns({}))
    store.commit(ChangeSet(tuple(changes)))


def a_conversation(account: Account) -> ConversationId:
    """Maria writes to Support at 09:01 UTC, ana replies at 09:06, Maria writes again at 09:10."""
    conversation = open_conversation(account, contact=account.contact, body="Hello, my order has not arrived")
    account.clock.advance(minutes=5)
    account.helpdesk.reply(conversation, "Sorry! It ships today.", by=account.ana)
    account.clock.advance(minutes=4)
    account.helpdesk.receive(account.contact, account.support, 'Thanks, "great", bye', external_id="SM2")
    return conversation


# ---------------------------------------------------------------- the email and its CSV


def test_the_email_goes_to_the_requesting_user_with_the_conversation_attached_as_csv() -> None:
    account = build_account()
    conversation = a_conversation(account)

    result = account.helpdesk.export(conversation, by=account.ana)

    assert result.delivered
    assert result.error is None
    [sent] = mailer_of(account).sent
    assert sent["To"].addresses[0].addr_spec == "ana@example.com"
    assert sent["To"].addresses[0].display_name == "Ana Lima"
    assert sent["From"] == "convostate@localhost"
    assert "Maria Lopez" in sent["Subject"]
    assert str(conversation) in sent["Subject"]
    assert attachment(sent).get_content_type() == "text/csv"
    assert attachment(sent).get_filename() == f"{conversation}.csv"
    assert attachment(sent).get_content_charset() == "utf-8"
    body = sent.get_body(("plain",))
    assert body is not None
    assert "3 messages" in body.get_content()


def test_the_csv_has_a_header_and_one_row_per_message_oldest_first() -> None:
    account = build_account()
    conversation = a_conversation(account)

    account.helpdesk.export(conversation, by=account.ana)

    [sent] = mailer_of(account).sent
    assert rows(sent) == [
        HEADER,
        [
            "2026-03-02T09:01:00+00:00",
            "inbound",
            "Maria Lopez",
            "Hello, my order has not arrived",
            "message-1",
            "",
        ],
        ["2026-03-02T09:06:00+00:00", "outbound", "Ana Lima", "Sorry! It ships today.", "message-2", ""],
        ["2026-03-02T09:10:00+00:00", "inbound", "Maria Lopez", 'Thanks, "great", bye', "message-3", "SM2"],
    ]


def test_times_are_in_the_accounts_time_zone() -> None:
    account = build_account()
    account.helpdesk.update_settings(by=account.admin, timezone="America/New_York")
    conversation = a_conversation(account)

    account.helpdesk.export(conversation, by=account.ana)

    [sent] = mailer_of(account).sent
    assert [row[0] for row in rows(sent)[1:]] == [
        "2026-03-02T04:01:00-05:00",
        "2026-03-02T04:06:00-05:00",
        "2026-03-02T04:10:00-05:00",
    ]


def test_a_body_with_line_breaks_commas_quotes_and_accents_reads_back_the_same() -> None:
    account = build_account()
    body = 'Línea uno, "dos"\nline two\r\nZoë said: =SUM(A1)'
    conversation = open_conversation(account, contact=account.contact, body=body)

    account.helpdesk.export(conversation, by=account.ana)

    [sent] = mailer_of(account).sent
    assert rows(sent)[1][3] == body


def test_a_contact_without_a_name_is_named_by_phone_and_a_rule_by_its_id() -> None:
    account = build_account()
    texter = account.helpdesk.add_contact(phone="+15550001111").id
    conversation = open_conversation(account, contact=texter, body="hi")
    reply_as_a_rule(account, conversation, RuleId("auto-reply"), "We got it")

    account.helpdesk.export(conversation, by=account.ana)

    [sent] = mailer_of(account).sent
    assert [(row[1], row[2]) for row in rows(sent)[1:]] == [
        ("inbound", "'+15550001111"),  # text in a spreadsheet, not the number 15550001111
        ("outbound", "auto-reply"),
    ]
    assert "+15550001111" in sent["Subject"]


def test_a_contact_name_with_a_line_break_cannot_add_a_header() -> None:
    account = build_account()
    sneaky = account.helpdesk.add_contact(name="Eve\r\nBcc: everyone@example.com").id
    conversation = open_conversation(account, contact=sneaky)

    account.helpdesk.export(conversation, by=account.ana)

    [sent] = mailer_of(account).sent
    assert sent["Bcc"] is None
    assert "Eve Bcc: everyone@example.com" in sent["Subject"]


def test_an_empty_conversation_export_is_just_the_header() -> None:
    assert list(csv.reader(io.StringIO(conversation_csv([], timezone="UTC", author=str)))) == [HEADER]


# ---------------------------------------------------------------- who may export


def test_a_member_of_the_inbox_and_an_admin_may_export() -> None:
    account = build_account()
    conversation = a_conversation(account)

    account.helpdesk.export(conversation, by=account.ben)
    account.helpdesk.export(conversation, by=account.admin)  # a member of no inbox

    assert [sent["To"].addresses[0].addr_spec for sent in mailer_of(account).sent] == [
        "ben@example.com",
        "alex@example.com",
    ]


def test_the_owner_of_a_single_user_inbox_may_export_its_conversations() -> None:
    account = build_account()
    conversation = open_conversation(account, account.ana_line)

    assert account.helpdesk.export(conversation, by=account.ana).delivered


def test_an_agent_who_is_not_a_member_is_refused_and_nothing_is_queued() -> None:
    account = build_account()
    conversation = a_conversation(account)
    before = store_of(account).dump()

    with pytest.raises(PermissionDenied, match="not a member of inbox") as refused:
        account.helpdesk.export(conversation, by=account.outsider)

    assert not isinstance(refused.value, ExportDisabled)
    assert store_of(account).dump() == before
    assert mailer_of(account).sent == []


def test_an_unknown_conversation_or_user_is_refused() -> None:
    account = build_account()
    conversation = a_conversation(account)

    with pytest.raises(UnknownConversation):
        account.helpdesk.export(ConversationId("nope"), by=account.ana)
    with pytest.raises(UnknownUser):
        account.helpdesk.export(conversation, by=UserId("nobody"))


# ---------------------------------------------------------------- turning exports off and on


def test_exports_turned_off_are_refused_with_export_disabled_and_nothing_is_queued() -> None:
    account = build_account()
    conversation = a_conversation(account)
    account.helpdesk.update_settings(by=account.admin, exports_enabled=False)
    before = store_of(account).dump()

    with pytest.raises(ExportDisabled, match="an admin must enable") as refused:
        account.helpdesk.export(conversation, by=account.ana)

    assert isinstance(refused.value, PermissionDenied)
    assert "exports_enabled=True" in str(refused.value)
    assert store_of(account).dump() == before
    assert mailer_of(account).sent == []
    assert account.helpdesk.deliver_pending() == Delivery((), ())


def test_exports_turned_off_refuse_admins_too() -> None:
    account = build_account()
    conversation = a_conversation(account)
    account.helpdesk.update_settings(by=account.admin, exports_enabled=False)

    with pytest.raises(ExportDisabled):
        account.helpdesk.export(conversation, by=account.admin)


def test_exports_turned_back_on_work_again() -> None:
    account = build_account()
    conversation = a_conversation(account)
    account.helpdesk.update_settings(by=account.admin, exports_enabled=False)
    with pytest.raises(ExportDisabled):
        account.helpdesk.export(conversation, by=account.ana)

    account.helpdesk.update_settings(by=account.admin, exports_enabled=True)

    assert account.helpdesk.export(conversation, by=account.ana).delivered
    assert len(mailer_of(account).sent) == 1


# ---------------------------------------------------------------- retried, never lost, never sent twice


def test_a_failed_send_is_reported_retried_and_sent_exactly_once() -> None:
    account = build_account()
    conversation = a_conversation(account)
    mailer = mailer_of(account)
    mailer.fail_next(2)

    exported = account.helpdesk.export(conversation, by=account.ana)

    assert not exported.delivered
    assert exported.error is not None
    assert "MailerUnavailable" in exported.error
    assert exported.email.attempts == 1
    assert mailer.sent == []

    assert exported.email.next_attempt_at is not None
    assert account.helpdesk.deliver_pending() == Delivery((), ())  # not before its next attempt
    account.clock.set(exported.email.next_attempt_at)
    second = account.helpdesk.deliver_pending()
    assert second.sent == ()
    assert [email.id for email in second.failed] == [exported.email.id]
    assert second.failed[0].attempts == 2
    assert second.given_up == ()
    assert mailer.sent == []

    account.clock.advance(hours=1)
    third = account.helpdesk.deliver_pending()
    assert [email.id for email in third.sent] == [exported.email.id]
    assert third.sent[0].attempts == 3
    assert third.failed == ()
    assert len(mailer.sent) == 1
    assert mailer.sent[0]["To"].addresses[0].addr_spec == "ana@example.com"

    assert account.helpdesk.deliver_pending() == Delivery((), ())
    assert len(mailer.sent) == 1


def test_a_failed_email_is_kept_in_the_store_until_it_is_sent() -> None:
    account = build_account()
    conversation = a_conversation(account)
    mailer_of(account).fail_next(1)

    exported = account.helpdesk.export(conversation, by=account.ana)

    kept = account.helpdesk.store.outgoing_email(exported.email.id)
    assert kept is not None
    assert kept.sent_at is None
    assert kept.last_error == exported.error
    assert [email.id for email in account.helpdesk.store.pending_emails(10)] == [exported.email.id]


class RecordingMailer:
    """Fails its first ``failures`` sends, and records the Message-ID of every attempt and what the store
    held while each was made."""

    def __init__(self, store: MemoryStore, failures: int) -> None:
        self.store = store
        self.failures = failures
        self.attempts: list[str] = []
        self.pending_while_sending: list[list[str]] = []

    def send(self, message: EmailMessage) -> None:
        self.attempts.append(str(message["Message-ID"]))
        self.pending_while_sending.append([email.id for email in self.store.pending_emails(10)])
        if self.failures:
            self.failures -= 1
            raise TimeoutError("the mail server did not answer")


def recording_helpdesk(failures: int) -> tuple[Helpdesk, RecordingMailer, ConversationId, Account]:
    store = MemoryStore()
    account = build_account(store=store)
    mailer = RecordingMailer(store, failures)
    helpdesk = Helpdesk(store=store, clock=account.clock, mailer=mailer, ids=SequentialIds())
    return helpdesk, mailer, a_conversation(account), account


def test_the_message_id_is_the_same_on_every_attempt() -> None:
    helpdesk, mailer, conversation, account = recording_helpdesk(failures=2)

    exported = helpdesk.export(conversation, by=account.ana)
    account.clock.advance(hours=1)
    helpdesk.deliver_pending()
    account.clock.advance(hours=1)
    helpdesk.deliver_pending()

    assert len(mailer.attempts) == 3
    assert len(set(mailer.attempts)) == 1
    assert mailer.attempts[0] == exported.email.parsed()["Message-ID"]
    assert mailer.attempts[0] == message_id(exported.email.id, email_address("sender", helpdesk.sender))


def test_the_email_is_in_the_store_before_the_first_attempt_to_send_it() -> None:
    helpdesk, mailer, conversation, account = recording_helpdesk(failures=0)

    exported = helpdesk.export(conversation, by=account.ana)

    assert exported.delivered
    assert mailer.pending_while_sending == [[exported.email.id]]
    assert helpdesk.store.pending_emails(10) == []


def test_two_exports_are_two_emails() -> None:
    account = build_account()
    conversation = a_conversation(account)

    first = account.helpdesk.export(conversation, by=account.ana)
    second = account.helpdesk.export(conversation, by=account.ana)

    assert first.email.id != second.email.id
    sent = mailer_of(account).sent
    assert len(sent) == 2
    assert sent[0]["Message-ID"] != sent[1]["Message-ID"]


def test_pending_emails_are_retried_oldest_first_up_to_the_limit() -> None:
    account = build_account()
    conversation = a_conversation(account)
    mailer_of(account).fail_next(3)
    exports = []
    for _ in range(3):
        exports.append(account.helpdesk.export(conversation, by=account.ana).email.id)
        account.clock.advance(minutes=1)

    first = account.helpdesk.deliver_pending(limit=2)
    rest = account.helpdesk.deliver_pending(limit=2)

    assert [email.id for email in first.sent] == exports[:2]
    assert [email.id for email in rest.sent] == exports[2:]


def test_an_email_another_worker_is_sending_is_left_alone_until_its_claim_ends() -> None:
    account = build_account()
    conversation = a_conversation(account)
    mailer_of(account).fail_next(1)
    exported = account.helpdesk.export(conversation, by=account.ana)
    now = account.clock.advance(minutes=5)  # past the backoff of the export's own failed attempt
    assert account.helpdesk.store.claim_email(exported.email.id, now, now.add(minutes=10)) is not None

    assert account.helpdesk.deliver_pending() == Delivery((), ())
    account.clock.advance(minutes=10)  # the other worker died without marking it: its claim ends
    assert [email.id for email in account.helpdesk.deliver_pending().sent] == [exported.email.id]
    assert len(mailer_of(account).sent) == 1


def test_deliver_pending_takes_a_positive_limit() -> None:
    helpdesk = Helpdesk(mailer=CollectingMailer())
    with pytest.raises(InvalidInput, match="limit must be at least 1"):
        helpdesk.deliver_pending(limit=0)
    with pytest.raises(InvalidInput, match="limit must be a int"):
        helpdesk.deliver_pending(limit="10")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the sender


def test_the_sender_is_configurable_and_names_the_message_id_domain() -> None:
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC"))
    helpdesk = Helpdesk(
        clock=clock, ids=SequentialIds(), sender="support@acme.example", mailer=CollectingMailer()
    )
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN)
    inbox = helpdesk.add_inbox("Support", by=admin.id)
    contact = helpdesk.add_contact(name="Maria").id
    conversation = helpdesk.receive(contact, inbox.id, "Hi").conversation.id

    helpdesk.export(conversation, by=admin.id)

    mailer = helpdesk.mailer
    assert isinstance(mailer, CollectingMailer)
    [sent] = mailer.sent
    assert sent["From"] == "support@acme.example"
    assert sent["Message-ID"] == "<export-1.convostate@acme.example>"
    assert helpdesk.sender == "support@acme.example"


@pytest.mark.parametrize("sender", ["not an address", "a@", "@example.com", "Support <s@example.com>", ""])
def test_a_sender_that_is_not_an_email_address_is_refused(sender: str) -> None:
    with pytest.raises(InvalidInput, match="sender must be an email address"):
        Helpdesk(sender=sender)


def test_an_export_id_that_cannot_go_in_a_message_id_is_hashed_the_same_way_every_time() -> None:
    helpdesk = Helpdesk(sender="support@acme.example")
    made = message_id("export 1@x", email_address("sender", helpdesk.sender))

    assert made == message_id("export 1@x", email_address("sender", helpdesk.sender))
    assert made.startswith("<")
    assert made.endswith(".convostate@acme.example>")
    assert " " not in made
    assert made.count("@") == 1


class ReentrantMailer:
    """While it sends, "another worker" runs ``deliver_pending`` on the same store, as a scheduler might
    while a web server's ``export`` is still talking to the mail server."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.other_worker: Helpdesk | None = None
        self.seen_by_other_worker: list[Delivery] = []

    def send(self, message: EmailMessage) -> None:
        if self.other_worker is not None:
            self.seen_by_other_worker.append(self.other_worker.deliver_pending())
        self.sent.append(message)


def test_a_worker_running_deliver_pending_during_an_export_does_not_send_it_again() -> None:
    store = MemoryStore()
    account = build_account(store=store)
    conversation = a_conversation(account)
    mailer = ReentrantMailer()
    web = Helpdesk(store=store, clock=account.clock, mailer=mailer, ids=SequentialIds())
    mailer.other_worker = Helpdesk(store=store, clock=account.clock, mailer=mailer)

    assert web.export(conversation, by=account.ana).delivered

    assert mailer.seen_by_other_worker == [Delivery((), ())]
    assert len(mailer.sent) == 1


def test_a_user_whose_address_cannot_receive_mail_cannot_be_added_so_every_user_can_export() -> None:
    account = build_account()
    before = store_of(account).dump()

    with pytest.raises(InvalidInput, match=r"must be an email address"):
        account.helpdesk.add_user("Odd Address", "a,b@example.com", role=Role.ADMIN, by=account.admin)

    assert store_of(account).dump() == before


def test_a_cell_that_starts_like_a_formula_is_kept_as_text() -> None:
    account = build_account()
    conversation = a_conversation(account)
    account.helpdesk.reply(conversation, '=HYPERLINK("http://evil.example","click")', by=account.ana)

    account.helpdesk.export(conversation, by=account.ana)

    [*_, last] = rows(mailer_of(account).sent[-1])
    assert last[3] == '\'=HYPERLINK("http://evil.example","click")'


# ---------------------------------------------------------------- no mailer configured


def test_without_a_mailer_an_export_stays_queued_and_the_result_says_why() -> None:
    account = build_account()
    helpdesk = Helpdesk(store=account.helpdesk.store, clock=account.clock, ids=SequentialIds())
    conversation = open_conversation(account)

    exported = helpdesk.export(conversation, by=account.ana)

    assert not exported.delivered
    assert exported.error is not None
    assert "no mailer is configured" in exported.error
    assert [email.id for email in helpdesk.store.pending_emails(10)] == [exported.email.id]
    assert exported.email.attempts == 0


def test_without_a_mailer_deliver_pending_refuses_and_sends_nothing() -> None:
    account = build_account()
    helpdesk = Helpdesk(store=account.helpdesk.store, clock=account.clock, ids=SequentialIds())
    exported = helpdesk.export(open_conversation(account), by=account.ana)

    with pytest.raises(MailerNotConfigured, match=r"Helpdesk\(mailer=...\)"):
        helpdesk.deliver_pending()
    assert helpdesk.store.outgoing_email(exported.email.id) == exported.email


def test_an_email_queued_without_a_mailer_is_sent_by_a_helpdesk_with_one() -> None:
    account = build_account()
    queued = Helpdesk(store=account.helpdesk.store, clock=account.clock, ids=SequentialIds())
    exported = queued.export(open_conversation(account), by=account.ana)

    delivered = account.helpdesk.deliver_pending()

    assert [email.id for email in delivered.sent] == [exported.email.id]
    assert len(mailer_of(account).sent) == 1


def test_a_body_with_a_nul_character_is_refused_so_no_export_can_meet_one() -> None:
    """A JSON webhook can deliver "\u0000": PostgreSQL cannot store it and the csv module cannot write it
    before Python 3.12, so it is refused where it enters, with nothing changed."""
    account = build_account()
    conversation = open_conversation(account)
    store = store_of(account)
    before = store.dump()

    with pytest.raises(InvalidInput, match="body holds a NUL character at 6"):
        account.helpdesk.receive(account.contact, account.support, "before\x00after")

    assert store.dump() == before
    assert account.helpdesk.export(conversation, by=account.ana).delivered

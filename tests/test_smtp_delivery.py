"""Exports that really arrive: Helpdesk, SmtpMailer and a real SMTP server (aiosmtpd, in this process, on
127.0.0.1) that fails on purpose. Every export is received exactly once, by Message-ID, however often the
server fails it for now; one the server refuses for good is tried once and reported.

The clock is a ManualClock: each round moves it past the backoff of every email still waiting, so a
thousand exports and their retries take seconds, not the hours the backoff spans.
"""

from __future__ import annotations

import collections
import csv
import io
import threading
import time
from email.message import EmailMessage

import attrs
import pendulum
import pytest

from convostate import (
    ConversationId,
    EmailStatus,
    Helpdesk,
    Mailer,
    MemoryStore,
    OutgoingEmail,
    Role,
    UserId,
)
from convostate._service.export_email import SEND_CLAIM
from convostate.testing import ManualClock, SequentialIds
from tests.smtp_server import HEADERS, SmtpServer, temporary_failures

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


@attrs.frozen
class Desk:
    helpdesk: Helpdesk
    clock: ManualClock
    ana: UserId
    conversations: tuple[ConversationId, ...]


def a_desk(mailer: Mailer | None, *, conversations: int = 10, ana: str = "Ana Lima") -> Desk:
    clock = ManualClock(START)
    helpdesk = Helpdesk(
        store=MemoryStore(), clock=clock, ids=SequentialIds(), mailer=mailer, sender="support@acme.example"
    )
    admin = helpdesk.add_user("Alex Morgan", "alex@acme.example", role=Role.ADMIN).id
    agent = helpdesk.add_user(ana, "ana@acme.example", by=admin).id
    support = helpdesk.add_inbox("Support", members=[agent], by=admin).id
    started = tuple(
        helpdesk.receive(helpdesk.add_contact(name=f"Contact {n}").id, support, f"Hello {n}").conversation.id
        for n in range(conversations)
    )
    return Desk(helpdesk, clock, agent, started)


def pending(helpdesk: Helpdesk) -> tuple[OutgoingEmail, ...]:
    return helpdesk.emails(EmailStatus.PENDING, limit=100_000)


def past_every_backoff(desk: Desk) -> bool:
    """Move the clock to when every email still waiting may be tried again; False when none is waiting."""
    waiting = pending(desk.helpdesk)
    if not waiting:
        return False
    desk.clock.set(max(email.next_attempt_at or desk.clock.now() for email in waiting))
    return True


def message_ids(emails: tuple[OutgoingEmail, ...]) -> set[str]:
    """The emails' Message-IDs, read from their headers alone (parsing a thousand whole emails takes
    seconds)."""
    return {str(HEADERS.parsebytes(email.message)["Message-ID"]) for email in emails}


def test_a_thousand_exports_with_30_percent_temporary_failures_each_arrive_once(
    smtp_server: SmtpServer,
) -> None:
    exports = 1000
    smtp_server.handler.outcome = temporary_failures(0.3, seed=13)
    desk = a_desk(smtp_server.mailer())
    started = time.perf_counter()

    results = [
        desk.helpdesk.export(desk.conversations[n % len(desk.conversations)], by=desk.ana)
        for n in range(exports)
    ]
    rounds = 0
    while past_every_backoff(desk):
        rounds += 1
        assert rounds <= 30, "still pending after 30 rounds of retries"
        desk.helpdesk.deliver_pending(limit=exports)
    elapsed = time.perf_counter() - started

    sent = desk.helpdesk.emails(EmailStatus.SENT, limit=exports + 1)
    received = smtp_server.handler.received_ids()
    attempts = sum(email.attempts for email in sent)
    outcomes = smtp_server.handler.outcomes
    failed = attempts - outcomes["250"]
    print(
        f"\n{exports} exports, {attempts} attempts ({failed} failed temporarily: {outcomes['421']} x 421, "
        f"{outcomes['451']} x 451, {outcomes['drop']} dropped), {len(received)} received, "
        f"{sum(received.values()) - len(received)} duplicates, {rounds} rounds of retries, {elapsed:.1f} s"
    )
    assert len(sent) == exports
    assert desk.helpdesk.emails(EmailStatus.FAILED) == ()
    assert set(received.values()) == {1}, "an export was received twice"
    assert set(received) == message_ids(sent) == message_ids(tuple(result.email for result in results))
    assert attempts == sum(smtp_server.handler.attempts.values())  # every attempt reached the server
    assert 0.25 < failed / attempts < 0.35
    assert min(outcomes["421"], outcomes["451"], outcomes["drop"]) > 0
    assert max(email.attempts for email in sent) >= 3


def test_a_permanent_refusal_is_tried_once_and_reported(smtp_server: SmtpServer) -> None:
    smtp_server.handler.outcome = lambda _: "550 5.7.1 message content rejected"
    desk = a_desk(smtp_server.mailer())

    result = desk.helpdesk.export(desk.conversations[0], by=desk.ana)
    desk.clock.advance(days=4)
    later = desk.helpdesk.deliver_pending()

    assert not result.delivered
    assert (
        result.error
        == "PermanentDeliveryFailure: the server refused the email: 550 5.7.1 message content rejected"
    )
    assert later.sent == later.failed == ()
    [failed] = desk.helpdesk.emails(EmailStatus.FAILED)
    assert failed.id == result.email.id
    assert failed.attempts == 1
    assert failed.requested_by == desk.ana
    assert sum(smtp_server.handler.attempts.values()) == 1
    assert smtp_server.handler.received == []


def test_a_refused_recipient_is_tried_once_and_reported(smtp_server: SmtpServer) -> None:
    smtp_server.handler.refused = {"ana@acme.example"}
    desk = a_desk(smtp_server.mailer())

    result = desk.helpdesk.export(desk.conversations[0], by=desk.ana)

    assert result.email.status is EmailStatus.FAILED
    assert result.error is not None
    assert "ana@acme.example: 550 5.1.1 no such user here" in result.error
    desk.clock.advance(days=4)
    assert desk.helpdesk.deliver_pending().failed == ()
    assert desk.helpdesk.emails(EmailStatus.FAILED) == (result.email,)


def test_four_threads_delivering_at_once_send_each_export_once(smtp_server: SmtpServer) -> None:
    exports, workers = 200, 4
    smtp_server.handler.outcome = temporary_failures(0.3, seed=7)
    desk = a_desk(None)  # the web app queues; the workers deliver
    queued = [
        desk.helpdesk.export(desk.conversations[n % len(desk.conversations)], by=desk.ana).email
        for n in range(exports)
    ]
    helpdesks = [
        Helpdesk(store=desk.helpdesk.store, clock=desk.clock, mailer=smtp_server.mailer())
        for _ in range(workers)
    ]
    errors: list[BaseException] = []

    def work(helpdesk: Helpdesk) -> None:
        try:
            while helpdesk.deliver_pending(limit=20).sent or helpdesk.store.pending_emails(
                1, due_at=desk.clock.now()
            ):
                pass
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    rounds = 0
    while True:
        rounds += 1
        threads = [threading.Thread(target=work, args=(helpdesk,)) for helpdesk in helpdesks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert not any(thread.is_alive() for thread in threads)
        if not past_every_backoff(desk):
            break
        assert rounds <= 30

    received = smtp_server.handler.received_ids()
    assert set(received.values()) == {1}, "an export was received twice"
    assert set(received) == message_ids(tuple(queued))
    assert len(desk.helpdesk.emails(EmailStatus.SENT, limit=1000)) == exports
    assert smtp_server.handler.outcomes["250"] == exports


def test_the_received_export_parses_with_its_csv_and_headers_intact(smtp_server: SmtpServer) -> None:
    desk = a_desk(smtp_server.mailer(), conversations=0, ana="Zoë Ñúñez\r\nBcc: eve@evil.example")
    helpdesk = desk.helpdesk
    [support] = [inbox.id for inbox in helpdesk.store.inboxes()]
    contact = helpdesk.add_contact(name="Łukasz 李\nSubject: hacked").id
    conversation = helpdesk.receive(contact, support, 'Café ☕ crème,\r\n"brûlée"').conversation.id
    desk.clock.advance(minutes=5)
    helpdesk.reply(conversation, "=1+1 ça marche", by=desk.ana)

    assert helpdesk.export(conversation, by=desk.ana).delivered

    [received] = smtp_server.handler.received
    message = received.message
    assert received.rcpt_tos == ["ana@acme.example"]  # and nobody else: the Bcc stayed inside a name
    assert received.mail_from == "support@acme.example"
    assert message["Bcc"] is None
    assert message["From"] == "support@acme.example"
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zoë Ñúñez Bcc: eve@evil.example", "ana@acme.example")
    assert message["Subject"] == f"Export of conversation {conversation} with Łukasz 李 Subject: hacked"
    assert message["Message-ID"] == "<export-1.convostate@acme.example>"
    body = message.get_body(("plain",))
    assert body is not None
    assert "Hello Zoë Ñúñez Bcc: eve@evil.example," in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_filename() == f"{conversation}.csv"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))
    assert [row[1:4] for row in rows[1:]] == [
        ["inbound", "Łukasz 李\nSubject: hacked", 'Café ☕ crème,\r\n"brûlée"'],
        ["outbound", "Zoë Ñúñez\r\nBcc: eve@evil.example", "'=1+1 ça marche"],
    ]
    assert collections.Counter(smtp_server.handler.received_ids()) == {
        "<export-1.convostate@acme.example>": 1
    }


class WorkerDies(BaseException):
    """The process is killed: nothing after it runs, as with a SIGKILL between two lines."""


class DiesAfterTheServerAccepts:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, message: EmailMessage) -> None:
        self.mailer.send(message)
        raise WorkerDies


def test_a_worker_that_dies_after_the_server_accepted_sends_one_duplicate_with_the_same_message_id(
    smtp_server: SmtpServer,
) -> None:
    """The one case no outbox can rule out, as docs/export.md says: the server has the email, the store
    does not know. Once the dead worker's claim ends, the email is sent once more, with the same
    Message-ID, so the receiving side can drop the copy; and never a third time."""
    desk = a_desk(None)
    email = desk.helpdesk.export(desk.conversations[0], by=desk.ana).email
    store = desk.helpdesk.store
    dying = Helpdesk(store=store, clock=desk.clock, mailer=DiesAfterTheServerAccepts(smtp_server.mailer()))
    with pytest.raises(WorkerDies):
        dying.deliver_pending()

    survivor = Helpdesk(store=store, clock=desk.clock, mailer=smtp_server.mailer())
    assert survivor.deliver_pending().sent == ()  # the dead worker's claim still holds
    desk.clock.advance(SEND_CLAIM)
    assert [sent.id for sent in survivor.deliver_pending().sent] == [email.id]
    desk.clock.advance(days=4)
    assert survivor.deliver_pending().sent == ()

    assert smtp_server.handler.received_ids() == collections.Counter({str(email.parsed()["Message-ID"]): 2})

"""Delivery that a host drives: temporary failures retried with backoff, permanent ones kept as failed, and
what is pending, sent or failed, as a host asks for it. (Against a real SMTP server: test_smtp_delivery.)"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.message import EmailMessage

import pendulum
import pytest

from convostate import (
    ConversationId,
    EmailStatus,
    Helpdesk,
    InvalidInput,
    OutgoingEmail,
    PermanentDeliveryFailure,
    RetryPolicy,
    TemporaryDeliveryFailure,
)
from tests.helpdesk_builders import Account, build_account, open_conversation


class ScriptedMailer:
    """Raises the next of ``failures`` on each send (then accepts), and counts what it accepted."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.accepted: list[str] = []

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(str(message["Message-ID"]))


def with_mailer(mailer: ScriptedMailer, retries: RetryPolicy | None = None) -> tuple[Account, ConversationId]:
    built = build_account()
    helpdesk = Helpdesk(
        store=built.helpdesk.store,
        clock=built.clock,
        ids=built.helpdesk.ids,
        mailer=mailer,
        retries=retries if retries is not None else RetryPolicy(),
    )
    account = dataclasses.replace(built, helpdesk=helpdesk)
    return account, open_conversation(account)


def stored(account: Account, email: OutgoingEmail) -> OutgoingEmail:
    kept = account.helpdesk.store.outgoing_email(email.id)
    assert kept is not None
    return kept


def test_a_temporary_failure_waits_for_its_backoff_then_is_sent_once() -> None:
    mailer = ScriptedMailer(TemporaryDeliveryFailure("451 busy", smtp_code=451))
    account, conversation = with_mailer(mailer)

    exported = account.helpdesk.export(conversation, by=account.ana)

    email = exported.email
    assert email.status is EmailStatus.PENDING
    assert email.last_error == "TemporaryDeliveryFailure: 451 busy"
    assert email.next_attempt_at is not None
    assert email.last_attempt_at is not None
    waited = email.next_attempt_at - email.last_attempt_at
    assert timedelta(seconds=45) <= waited <= timedelta(minutes=1)
    account.clock.set(email.next_attempt_at.subtract(microseconds=1))
    assert account.helpdesk.deliver_pending().sent == ()
    account.clock.set(email.next_attempt_at)
    assert [sent.id for sent in account.helpdesk.deliver_pending().sent] == [email.id]
    assert mailer.accepted == [str(email.parsed()["Message-ID"])]
    assert stored(account, email).status is EmailStatus.SENT


def test_a_permanent_failure_is_tried_once_and_kept_as_failed_with_its_error() -> None:
    mailer = ScriptedMailer(PermanentDeliveryFailure("550 5.1.1 no such user", smtp_code=550))
    account, conversation = with_mailer(mailer)

    exported = account.helpdesk.export(conversation, by=account.ana)

    assert not exported.delivered
    failed = exported.email
    assert failed.status is EmailStatus.FAILED
    assert failed.attempts == 1
    assert failed.failed_at == account.clock.now()
    assert failed.next_attempt_at is None
    assert failed.last_error == "PermanentDeliveryFailure: 550 5.1.1 no such user"
    assert failed.requested_by == account.ana  # who to tell
    account.clock.advance(days=30)
    assert account.helpdesk.deliver_pending().failed == ()
    assert mailer.accepted == []
    assert account.helpdesk.emails(EmailStatus.FAILED) == (failed,)
    assert account.helpdesk.emails(EmailStatus.PENDING) == ()


def test_deliver_pending_reports_what_it_gave_up_on() -> None:
    mailer = ScriptedMailer(ConnectionRefusedError("no mail server"), PermanentDeliveryFailure("554 no"))
    account, conversation = with_mailer(mailer)
    exported = account.helpdesk.export(conversation, by=account.ana)
    assert exported.email.next_attempt_at is not None
    account.clock.set(exported.email.next_attempt_at)

    delivery = account.helpdesk.deliver_pending()

    assert delivery.sent == ()
    assert [email.id for email in delivery.given_up] == [exported.email.id]
    assert delivery.given_up == delivery.failed
    assert delivery.given_up[0].attempts == 2


def test_backoff_doubles_up_to_its_cap_then_gives_up() -> None:
    retries = RetryPolicy(
        first_delay=pendulum.duration(minutes=1),
        max_delay=pendulum.duration(minutes=10),
        give_up_after=pendulum.duration(hours=1),
    )
    mailer = ScriptedMailer(*[TimeoutError("timed out") for _ in range(100)])
    account, conversation = with_mailer(mailer, retries)
    email = account.helpdesk.export(conversation, by=account.ana).email
    waits: list[timedelta] = []
    while email.status is EmailStatus.PENDING:
        assert email.next_attempt_at is not None
        assert email.last_attempt_at is not None
        waits.append(email.next_attempt_at - email.last_attempt_at)
        account.clock.set(email.next_attempt_at)
        [email] = account.helpdesk.deliver_pending().failed

    caps = [min(timedelta(minutes=2**n), timedelta(minutes=10)) for n in range(len(waits))]
    assert all(cap * 0.75 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))
    assert email.status is EmailStatus.FAILED
    assert email.last_error is not None
    assert email.last_error.endswith("(gave up 1 hour after it was queued)")
    assert email.attempts == len(waits) + 1
    assert email.failed_at is not None
    assert email.failed_at - email.created_at <= timedelta(hours=1)
    assert mailer.accepted == []


def test_the_jitter_is_the_same_for_an_email_and_attempt_and_spreads_emails_apart() -> None:
    retries = RetryPolicy()
    assert retries.delay("export-1", 3) == retries.delay("export-1", 3)
    spread = {retries.delay(f"export-{n}", 3) for n in range(100)}
    assert len(spread) == 100
    assert min(spread) >= timedelta(minutes=3)
    assert max(spread) <= timedelta(minutes=4)
    assert retries.delay("export-1", 10_000) <= timedelta(hours=1)


@pytest.mark.parametrize(
    "arguments",
    [
        {"first_delay": timedelta(0)},
        {"first_delay": timedelta(seconds=-1)},
        {"max_delay": timedelta(days=366)},
        {"give_up_after": 60},
        {"first_delay": timedelta(hours=2), "max_delay": timedelta(hours=1)},
    ],
)
def test_a_retry_policy_that_cannot_work_is_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        RetryPolicy(**arguments)  # type: ignore[arg-type]


def test_the_retry_policy_is_settable_and_used_from_then_on() -> None:
    mailer = ScriptedMailer(TimeoutError("timed out"))
    account, conversation = with_mailer(mailer)
    account.helpdesk.retries = RetryPolicy(
        first_delay=pendulum.duration(days=1), max_delay=pendulum.duration(days=1)
    )

    email = account.helpdesk.export(conversation, by=account.ana).email

    assert email.next_attempt_at is not None
    assert email.next_attempt_at - account.clock.now() >= timedelta(hours=18)
    with pytest.raises(InvalidInput):
        account.helpdesk.retries = "fast"  # type: ignore[assignment]


def test_emails_lists_each_status_oldest_first_in_pages() -> None:
    mailer = ScriptedMailer()
    account, conversation = with_mailer(mailer)
    sent = [account.helpdesk.export(conversation, by=account.ana).email.id for _ in range(5)]

    first = account.helpdesk.emails(EmailStatus.SENT, limit=2)
    second = account.helpdesk.emails(EmailStatus.SENT, limit=2, after=first[-1].id)
    third = account.helpdesk.emails(EmailStatus.SENT, limit=2, after=second[-1].id)

    assert [email.id for email in (*first, *second, *third)] == sent
    assert account.helpdesk.emails() == ()  # pending, by default
    assert account.helpdesk.emails(EmailStatus.FAILED) == ()


@pytest.mark.parametrize(
    ("status", "limit", "after"),
    [("sent", 10, None), (EmailStatus.SENT, 0, None), (EmailStatus.SENT, 10, "no-such-email")],
)
def test_emails_refuses_what_it_cannot_list(status: object, limit: int, after: str | None) -> None:
    account, _ = with_mailer(ScriptedMailer())
    with pytest.raises(InvalidInput):
        account.helpdesk.emails(status, limit=limit, after=after)  # type: ignore[arg-type]


def test_an_error_of_any_length_or_character_is_kept_as_text_every_store_can_hold() -> None:
    mailer = ScriptedMailer(TemporaryDeliveryFailure("451 \0 bad \ud800 reply " + "x" * 5000))
    account, conversation = with_mailer(mailer)

    error = account.helpdesk.export(conversation, by=account.ana).email.last_error

    assert error is not None
    assert error.startswith("TemporaryDeliveryFailure: 451 \ufffd bad ? reply xxx")
    assert len(error) == 1000
    assert error.endswith("x\u2026")
    error.encode("utf-8")  # no lone surrogate

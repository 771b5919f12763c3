"""Exports: a conversation emailed as CSV through the outbox, and the delivery a host's scheduler drives.

The email is queued by a commit of its own (so it is never lost), then sent: each attempt claims the email
first, so several workers can deliver at once and each email is sent by one of them. A claim covers one
send, not a batch, so a slow batch never outlives the claims on its last emails.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Final

from convostate._core.actors import Actor
from convostate._core.errors import ExportDisabled, MailerNotConfigured, PermanentDeliveryFailure
from convostate._core.ids import ContactId, ConversationId, UserId
from convostate._core.validate import MAX_TEXT_CHARACTERS, at_least_one, aware_datetime, check_type
from convostate._ports.changes import ChangeSet
from convostate._ports.records import EmailStatus, OutgoingEmail
from convostate._ports.roles import DEFAULT_ACCOUNT, Clock, IdGenerator, Mailer, Store
from convostate._service.access import Access
from convostate._service.export_email import SEND_CLAIM, contact_label, email_address, export_email
from convostate._service.results import Delivery, ExportResult
from convostate._service.retries import RetryPolicy
from convostate._service.unit_of_work import UnitOfWork
from convostate._service.views import ViewService

NO_MAILER: Final = (
    "no mailer is configured, so the email stays queued in the outbox: build the helpdesk with "
    "Helpdesk(mailer=...) (any object with send(EmailMessage)) and call deliver_pending()"
)


class ExportService:
    def __init__(
        self,
        *,
        store: Store,
        work: UnitOfWork,
        clock: Clock,
        ids: IdGenerator,
        access: Access,
        views: ViewService,
        mailer: Mailer | None,
        sender: str,
        retries: RetryPolicy,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self._store = store
        self._work = work
        self._clock = clock
        self._ids = ids
        self._access = access
        self._views = views
        self._mailer = mailer
        self._sender = email_address("sender", sender)
        self._account = account
        self._retries = check_type("retries", retries, RetryPolicy, "RetryPolicy()")

    def export(self, conversation_id: ConversationId, *, by: UserId) -> ExportResult:
        export_id = self._ids.new_id("export")

        def attempt() -> tuple[ChangeSet, tuple[OutgoingEmail, EmailMessage]]:
            directory_version = self._store.directory_version()
            user = self._access.user(by)
            conversation = self._access.conversation(conversation_id)
            self._access.may_act(user, self._access.inbox(conversation.inbox_id))
            settings = self._store.settings()
            if not settings.exports_enabled:
                raise ExportDisabled(
                    "exports are turned off for this account; an admin must enable them: "
                    "helpdesk.update_settings(by=<an admin's user id>, exports_enabled=True)"
                )
            recipient = email_address(f"the email of {user.name} ({user.id})", user.email)
            author = self._author()
            now = aware_datetime(self._clock.now())  # in UTC, like every instant convostate keeps
            message = export_email(
                export_id=export_id,
                conversation_id=conversation.id,
                events=self._store.events(conversation.id),
                contact_name=author(Actor.contact(conversation.contact_id)),
                sender=self._sender,
                account=self._account,
                recipient_name=user.name,
                recipient=recipient,
                timezone=settings.timezone,
                now=now,
                author=author,
            )
            email = OutgoingEmail(export_id, conversation.id, user.id, message.as_bytes(), now)
            return ChangeSet(directory_version=directory_version, emails=(email,)), (email, message)

        email, message = self._work.run(attempt, "the account's settings")
        if self._mailer is None:
            return ExportResult(email, NO_MAILER)
        sent = self._send(email.id, self._mailer, message)
        if sent is None:  # another worker picked it up first (deliver_pending): it sends it
            stored = self._store.outgoing_email(email.id)
            return ExportResult(stored if stored is not None else email)
        return ExportResult(*sent)

    def deliver_pending(self, limit: int = 100) -> Delivery:
        at_least_one("limit", limit, "100")
        if self._mailer is None:
            raise MailerNotConfigured(NO_MAILER)
        sent: list[OutgoingEmail] = []
        failed: list[OutgoingEmail] = []
        due_at = aware_datetime(self._clock.now())
        for pending in self._store.pending_emails(limit, due_at=due_at):
            attempt = self._send(pending.id, self._mailer)
            if attempt is not None:
                stored, error = attempt
                (sent if error is None else failed).append(stored)
        return Delivery(tuple(sent), tuple(failed))

    def emails(self, status: EmailStatus, *, limit: int, after: str | None) -> tuple[OutgoingEmail, ...]:
        check_type("status", status, EmailStatus, "EmailStatus.FAILED")
        at_least_one("limit", limit, "100")
        return tuple(self._store.emails(status, limit=limit, after=after))

    def _send(
        self, email_id: str, mailer: Mailer, built: EmailMessage | None = None
    ) -> tuple[OutgoingEmail, str | None] | None:
        """Claim, send and mark one email: the email as stored afterwards and the error of a failed attempt
        (None if it was sent); None when it is not pending, not due, or another worker holds it.

        ``built`` is the message that was just stored, for the first attempt, which so skips parsing the
        stored bytes back (the email package's headers cost milliseconds an email).

        Only the mailer's own :class:`PermanentDeliveryFailure` ends the retries early: anything else it
        raises may pass (a mail server down, a network that drops), so it is retried with backoff until
        the retry policy gives up.
        """
        now = aware_datetime(self._clock.now())
        claimed = self._store.claim_email(email_id, now, now + SEND_CLAIM)
        if claimed is None:
            return None
        error: str | None = None
        try:
            mailer.send(built if built is not None else claimed.parsed())
        except PermanentDeliveryFailure as failure:
            error = _described(failure)
            self._store.email_failed(email_id, aware_datetime(self._clock.now()), error, retry_at=None)
        except Exception as failure:  # whatever else the mailer raises is a temporary failure, to retry
            failed_at = aware_datetime(self._clock.now())
            retry_at = self._retries.retry_at(claimed, failed_at)
            error = _described(failure) + (
                ""
                if retry_at is not None
                else f" (gave up {self._retries.give_up_after} after it was queued)"
            )
            self._store.email_failed(email_id, failed_at, error, retry_at=retry_at)
        else:
            self._store.email_sent(email_id, aware_datetime(self._clock.now()))
        stored = self._store.outgoing_email(email_id)
        assert stored is not None
        return stored, error

    def _author(self) -> Callable[[Actor], str]:
        """Who wrote each message, in an export: a user's name, a contact's name (or phone or email), a
        rule's id; each looked up once."""
        name = self._views.namer()
        labels: dict[Actor, str] = {}

        def author(actor: Actor) -> str:
            if actor not in labels:
                contact = self._store.contact(actor.id) if isinstance(actor.id, ContactId) else None
                labels[actor] = (
                    contact_label(contact.name, contact.phone, contact.email, str(contact.id))
                    if contact is not None
                    else name(actor.id)
                )
            return labels[actor]

        return author


def _described(failure: Exception) -> str:
    """What a failed attempt raised, as text every store can keep: the mail server's reply or an exception
    can carry a NUL or a lone surrogate (which PostgreSQL, or UTF-8, refuses) and be of any length."""
    text = f"{type(failure).__name__}: {failure}".encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\0", "\ufffd")
    return text if len(text) <= MAX_TEXT_CHARACTERS else text[: MAX_TEXT_CHARACTERS - 1] + "\u2026"

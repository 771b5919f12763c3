"""Erasure of a contact and the retention sweep: personal text rewritten in its erased form, each in one
unit of work.

The core says what erased values are (``_core/erasure.py``); this service reads what is stored, asks the
core, and commits one change set with an :class:`~convostate.ports.Erasure`. The change set also moves
the directory's version on (an empty ``DirectoryChange``): every action that reads the directory (a
message received, a reply, an export) and was decided before the erasure is refused at its commit and
decided again after it, so an erasure and a racing message end as "erased" or as "came after the erasure
and keeps its body", never half of each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs
import pendulum

from convostate._core.erasure import (
    ERASED_EMAIL,
    conversation_past_retention,
    erased_contact,
    erased_event,
    past_retention,
)
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, UserId
from convostate._core.model import Contact, Conversation
from convostate._core.validate import at_least_one, aware_datetime, check_type
from convostate._ports.changes import EMPTY_CHANGE_SET, ChangeSet, DirectoryChange, Erasure, RewrittenEvent
from convostate._ports.records import EmailStatus, OutgoingEmail
from convostate._ports.roles import Clock, Store
from convostate._service.access import Access
from convostate._service.unit_of_work import UnitOfWork

ERASED_BEFORE_SENDING = "not sent: its contact's personal data was erased before it was sent"
"""The ``last_error`` of an export that was still pending when its contact was erased (it fails for good)."""


@attrs.frozen
class ContactErasure:
    """What :meth:`Helpdesk.erase_contact` did: the contact as stored now (``erased_at`` set), and how much
    this call erased. Erasing a contact again erases only what was stored since (a message that came after
    the first erasure); with nothing new, it commits nothing and ``changed`` is False."""

    contact: Contact
    conversations: int
    """The contact's conversations (their events and ids stay)."""
    messages: int
    """Message bodies this call replaced with the tombstone."""
    emails: int
    """Outbox emails (exports) this call replaced with the tombstone; pending ones fail for good."""
    changed: bool


@attrs.frozen
class RetentionSweep:
    """What :meth:`Helpdesk.apply_retention` did on one batch of conversations: the bodies and emails it
    erased, and where the next batch starts (``next_after``; None when this batch reached the last
    conversation, so the next call starts from the first again)."""

    conversations: int
    """Conversations read in this batch."""
    erased_conversations: int
    """Conversations of the batch in which something was erased."""
    messages: int
    emails: int
    next_after: ConversationId | None


def _erased_email(email: OutgoingEmail, at: pendulum.DateTime) -> OutgoingEmail:
    """The email with its bytes replaced by the tombstone; a pending one fails for good, so it is never
    sent. (An email erased already comes back as it is.)"""
    pending = email.status is EmailStatus.PENDING
    if not pending:
        return attrs.evolve(email, message=ERASED_EMAIL)
    return attrs.evolve(
        email,
        message=ERASED_EMAIL,
        failed_at=at,
        last_error=ERASED_BEFORE_SENDING,
        claimed_until=None,
        next_attempt_at=None,
    )


def _erased_emails(
    emails: Sequence[OutgoingEmail], at: pendulum.DateTime
) -> list[tuple[OutgoingEmail, OutgoingEmail]]:
    """Each email as stored and as erased."""
    return [(email, _erased_email(email, at)) for email in emails]


def _rewrites(
    store: Store,
    conversations: Sequence[Conversation],
    erase: Callable[[Conversation, Event], Event | None],
) -> tuple[list[RewrittenEvent], list[tuple[ConversationId, int]], set[ConversationId]]:
    """The events of ``conversations`` that ``erase`` rewrites, the versions read, and the conversations
    in which it rewrote something."""
    rewritten: list[RewrittenEvent] = []
    touched: set[ConversationId] = set()
    for state in conversations:
        for version, event in enumerate(store.events(state.id), start=1):
            erased = erase(state, event)
            if erased is not None:
                rewritten.append(RewrittenEvent(state.id, version, erased))
                touched.add(state.id)
    return rewritten, [(state.id, state.version) for state in conversations], touched


class ErasureService:
    def __init__(self, *, store: Store, work: UnitOfWork, clock: Clock, access: Access) -> None:
        self._store = store
        self._work = work
        self._clock = clock
        self._access = access

    def erase_contact(self, contact_id: ContactId, *, by: UserId) -> ContactErasure:
        check_type("contact id", contact_id, ContactId, "ContactId('contact-1')")
        check_type("user id", by, UserId, "UserId('user-1')")

        def attempt() -> tuple[ChangeSet, ContactErasure]:
            version = self._store.directory_version()
            admin = self._access.admin(by)
            contact = self._access.contact(contact_id)
            conversations = list(self._store.contact_conversations(contact.id))
            events, read, _ = _rewrites(self._store, conversations, lambda _state, event: erased_event(event))
            emails_of = tuple(state.id for state in conversations)
            stored_emails = self._store.conversation_emails(emails_of)
            # Read after what it erases: every message erased was stored, so decided, before this instant
            # (one stored since makes the commit refused and this attempt run again).
            now = aware_datetime(self._clock.now())
            erased = erased_contact(contact, at=now, by=admin.id)
            emails = _erased_emails(stored_emails, now)
            erased_emails = sum(new != old for old, new in emails)
            result = ContactErasure(erased, len(conversations), len(events), erased_emails, changed=True)
            if erased == contact and not events and not erased_emails:
                return EMPTY_CHANGE_SET, attrs.evolve(result, changed=False)
            erasure = Erasure(erased, tuple(read), tuple(events), tuple(new for _, new in emails), emails_of)
            return ChangeSet(directory_version=version, directory=DirectoryChange(), erasure=erasure), result

        return self._work.run(attempt, f"contact {contact_id}")

    def apply_retention(
        self, now: datetime | None, *, batch: int, after: ConversationId | None
    ) -> RetentionSweep:
        at_least_one("batch", batch, "100")
        if after is not None:
            check_type("after", after, ConversationId, "ConversationId('conversation-1')")
        at = aware_datetime(now) if now is not None else aware_datetime(self._clock.now())
        conversations = list(self._store.conversations_after(after, limit=batch))
        next_after = conversations[-1].id if len(conversations) == batch else None

        def attempt() -> tuple[ChangeSet, RetentionSweep]:
            version = self._store.directory_version()
            settings = self._store.settings()
            policy, timezone = settings.retention, settings.timezone
            if policy is None or not conversations:
                return EMPTY_CHANGE_SET, RetentionSweep(len(conversations), 0, 0, 0, next_after)
            fresh = [
                state
                for state in (self._store.conversation(each.id) for each in conversations)
                if state is not None
            ]
            events, read, touched = _rewrites(
                self._store,
                fresh,
                lambda state, event: (
                    erased_event(event) if past_retention(state, event, policy, at, timezone) else None
                ),
            )
            whole = tuple(
                state.id for state in fresh if conversation_past_retention(state, policy, at, timezone)
            )
            emails = _erased_emails(self._store.conversation_emails(whole) if whole else (), at)
            changed = [new for old, new in emails if new != old]
            touched |= {email.conversation_id for email in changed}
            result = RetentionSweep(len(conversations), len(touched), len(events), len(changed), next_after)
            if not events and not changed:
                return EMPTY_CHANGE_SET, result
            erasure = Erasure(None, tuple(read), tuple(events), tuple(new for _, new in emails), whole)
            return ChangeSet(directory_version=version, directory=DirectoryChange(), erasure=erasure), result

        return self._work.run(attempt, "the retention sweep")

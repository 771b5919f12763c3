"""What "erased" means: the pure rules that turn a contact's stored values into their erased form.

An erasure keeps that something happened, and when, and by whom (ids, instants, counts, the analytics),
and drops the personal text: a contact's name, phone, email and tags, every message body, every exported
email. The stores only persist what these functions return, so a host reads the rules here, in one place.
"""

from __future__ import annotations

from typing import Final

import attrs
import pendulum

from convostate._core.events import Event, MessageReceived, MessageSent
from convostate._core.ids import UserId
from convostate._core.model import Contact, Conversation, Status
from convostate._core.retention import RetentionPolicy

ERASED: Final = "[erased]"
"""The tombstone that replaces erased text: a contact's name and every erased message body."""

ERASED_EMAIL: Final = (
    b"X-Convostate-Erased: yes\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"This email was erased: it held personal data of a contact who was erased.\r\n"
)
"""The bytes that replace an erased email of the outbox (an export's CSV holds bodies and names)."""


def erased_contact(contact: Contact, *, at: pendulum.DateTime, by: UserId | None) -> Contact:
    """The contact with no personal data left: same id (so conversations, counts and reports still join),
    marked erased at ``at`` by ``by``. A contact erased already keeps its first erasure's instant and
    author."""
    if contact.erased_at is not None:
        return contact
    return Contact(contact.id, ERASED, None, None, frozenset(), erased_at=at, erased_by=by)


def erased_event(event: Event) -> Event | None:
    """The event without its personal text, or None when it holds none (nothing to rewrite).

    Only messages carry text a person wrote; every other event holds ids, instants and enums. A message's
    ``external_id`` (the provider's id, such as ``SM1``) is kept: it identifies a delivery, not a person,
    and the store keeps it to recognise a redelivered webhook.
    """
    if isinstance(event, MessageReceived | MessageSent) and event.message.body != ERASED:
        return attrs.evolve(event, message=attrs.evolve(event.message, body=ERASED))
    return None


def is_erased_email(message: bytes) -> bool:
    """Whether an outbox email's bytes are the tombstone already."""
    return message == ERASED_EMAIL


def past_retention(
    state: Conversation, event: Event, policy: RetentionPolicy, now: pendulum.DateTime, timezone: str
) -> bool:
    """Whether ``policy`` says the text of ``event`` (of the conversation now at ``state``) has been kept
    long enough at ``now``: its message was sent ``message_bodies_after`` ago or more, or the conversation
    has been closed for ``closed_conversations_after`` or more. The exact boundary instant counts as past."""
    if not isinstance(event, MessageReceived | MessageSent):
        return False
    bodies = policy.message_bodies_after
    if bodies is not None and bodies.end(event.at, timezone) <= now:
        return True
    return conversation_past_retention(state, policy, now, timezone)


def conversation_past_retention(
    state: Conversation, policy: RetentionPolicy, now: pendulum.DateTime, timezone: str
) -> bool:
    """Whether the whole conversation is past ``closed_conversations_after`` (its exports go too)."""
    closed = policy.closed_conversations_after
    return (
        closed is not None
        and state.status is Status.CLOSED
        and state.closed_at is not None
        and closed.end(state.closed_at, timezone) <= now
    )

"""What users, contacts and rules ask of a conversation.

A command is a request that may be refused; the events the decider returns say what it changed. Commands are
the boundary: each checks its fields when built, so a bad value fails here with a clear message and never
reaches the rules.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs
import pendulum

from convostate._core.actors import Actor, ActorKind
from convostate._core.errors import InvalidInput
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, UserId
from convostate._core.validate import (
    aware_datetime,
    body,
    instance_of,
    optional_aware_datetime,
    optional_instance_of,
    text,
)

_a_conversation_id = instance_of(ConversationId, "ConversationId('conv-1')")
_a_user_id = instance_of(UserId, "UserId('ana')")
_maybe_a_user_id = optional_instance_of(UserId, "UserId('ana')")


def _an_external_id(_instance: object, attribute: Any, value: Any) -> None:
    """The provider's message id, if any: never blank, since it is what makes a redelivery a no-op."""
    if value is not None:
        text(_instance, attribute, value)


_AN_ACTOR = instance_of(Actor, "Actor.user(UserId('ana'))")


def _an_actor(instance: object, attribute: Any, value: Any) -> None:
    """Users and rules act on conversations; the contact only writes (ReceiveMessage)."""
    if type(value) is Actor and value.kind is not ActorKind.CONTACT:
        return  # the commonest case, checked inline: every command but an inbound message has an actor
    _AN_ACTOR(instance, attribute, value)
    if value.kind is ActorKind.CONTACT:
        raise InvalidInput(
            f"{type(instance).__name__} is done by a user or a rule, not by the contact {value.id}; "
            "pass Actor.user(...) or Actor.rule(...)"
        )


@attrs.frozen
class ReceiveMessage:
    """The contact wrote. Starts the conversation if it is new; otherwise adds to it (the rules decide
    whether a closed conversation reopens)."""

    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    inbox_id: InboxId = attrs.field(validator=instance_of(InboxId, "InboxId('support')"))
    contact_id: ContactId = attrs.field(validator=instance_of(ContactId, "ContactId('c-1')"))
    message_id: MessageId = attrs.field(validator=instance_of(MessageId, "MessageId('m-1')"))
    body: str = attrs.field(validator=body)
    external_id: str | None = attrs.field(default=None, validator=_an_external_id)
    sent_at: pendulum.DateTime | None = attrs.field(default=None, converter=optional_aware_datetime)
    linked_from: ConversationId | None = attrs.field(
        default=None, validator=optional_instance_of(ConversationId, "ConversationId('conv-1')")
    )
    """For a follow-up: the earlier conversation it is linked to (only when it starts a conversation)."""

    @property
    def actor(self) -> Actor:
        return Actor.contact(self.contact_id)


@attrs.frozen
class SendReply:
    """A user (or a rule) replies to the contact."""

    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    message_id: MessageId = attrs.field(validator=instance_of(MessageId, "MessageId('m-2')"))
    body: str = attrs.field(validator=body)
    actor: Actor = attrs.field(validator=_an_actor)
    external_id: str | None = attrs.field(default=None, validator=_an_external_id)


@attrs.frozen
class Assign:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId = attrs.field(validator=_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Unassign:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId = attrs.field(validator=_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Close:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Reopen:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Snooze:
    """Put the conversation aside until ``until``; the default rules wake it then, or when the contact
    writes."""

    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    until: pendulum.DateTime = attrs.field(converter=aware_datetime)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Unsnooze:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Star:
    """Star the conversation for ``user_id`` (stars are per user)."""

    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId = attrs.field(validator=_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class Unstar:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId = attrs.field(validator=_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class MarkRead:
    """``user_id`` has read the conversation (for everyone, in the shared read model).

    ``user_id=None`` marks it for everyone in either read model (what a rule does).
    """

    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId | None = attrs.field(validator=_maybe_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


@attrs.frozen
class MarkUnread:
    conversation_id: ConversationId = attrs.field(validator=_a_conversation_id)
    user_id: UserId | None = attrs.field(validator=_maybe_a_user_id)
    actor: Actor = attrs.field(validator=_an_actor)


Command: TypeAlias = (
    ReceiveMessage
    | SendReply
    | Assign
    | Unassign
    | Close
    | Reopen
    | Snooze
    | Unsnooze
    | Star
    | Unstar
    | MarkRead
    | MarkUnread
)
"""Every command the decider knows."""

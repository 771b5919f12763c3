"""Who or what caused a change, recorded on every event so a host can show an activity log."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from convostate._core.ids import ContactId, RuleId, UserId
from convostate._core.validate import instance_of


class ActorKind(enum.Enum):
    USER = "user"
    CONTACT = "contact"
    RULE = "rule"


_ID_TYPE = {ActorKind.USER: UserId, ActorKind.CONTACT: ContactId, ActorKind.RULE: RuleId}
_ID_CHECK = {kind: instance_of(id_type, f"{id_type.__name__}('x')") for kind, id_type in _ID_TYPE.items()}


def _matching_id(instance: Actor, attribute: Any, value: Any) -> None:
    kind, id_type = instance.kind, type(value)
    if (
        (kind is ActorKind.USER and id_type is UserId)
        or (kind is ActorKind.RULE and id_type is RuleId)
        or (kind is ActorKind.CONTACT and id_type is ContactId)
    ):
        return  # by identity: looking the kind up hashes an enum member, a Python call, for every actor
    _ID_CHECK[kind](instance, attribute, value)


@attrs.frozen
class Actor:
    """A user, the contact, or a rule. Build one with :meth:`user`, :meth:`contact` or :meth:`rule`."""

    kind: ActorKind = attrs.field(validator=instance_of(ActorKind, "ActorKind.USER"))
    id: UserId | ContactId | RuleId = attrs.field(validator=_matching_id)

    @classmethod
    def user(cls, user_id: UserId) -> Actor:
        """The user as an actor: one shared value per user, since every event records its actor and an
        account has millions of events but few users."""
        actor = _USER_ACTORS.get(user_id) if type(user_id) is UserId else None
        if actor is None:
            actor = cls(ActorKind.USER, user_id)
            _USER_ACTORS[user_id] = actor
        return actor

    @classmethod
    def contact(cls, contact_id: ContactId) -> Actor:
        """The contact as an actor, shared while the contact keeps writing (each inbound message's events
        record it); at most ``_MOST_SHARED`` are kept, since an account has as many contacts as it likes."""
        actor = _CONTACT_ACTORS.get(contact_id) if type(contact_id) is ContactId else None
        if actor is None:
            actor = cls(ActorKind.CONTACT, contact_id)
            if len(_CONTACT_ACTORS) >= _MOST_SHARED:
                _CONTACT_ACTORS.clear()
            _CONTACT_ACTORS[contact_id] = actor
        return actor

    @classmethod
    def rule(cls, rule_id: RuleId) -> Actor:
        """The rule as an actor: one shared value per rule, as for users, since a rule acts on every
        command whose events it holds for."""
        actor = _RULE_ACTORS.get(rule_id) if type(rule_id) is RuleId else None
        if actor is None:
            actor = cls(ActorKind.RULE, rule_id)
            if len(_RULE_ACTORS) >= _MOST_SHARED:
                _RULE_ACTORS.clear()
            _RULE_ACTORS[rule_id] = actor
        return actor

    @property
    def user_id(self) -> UserId | None:
        """The acting user, or None when the contact or a rule acted."""
        return self.id if isinstance(self.id, UserId) else None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


_USER_ACTORS: dict[UserId, Actor] = {}
_RULE_ACTORS: dict[RuleId, Actor] = {}
_CONTACT_ACTORS: dict[ContactId, Actor] = {}
_MOST_SHARED = 10_000
"""How many rule actors, and how many contact actors, are kept: rule ids are the host's, one set per
account, and contacts are many, so that a process serving many accounts keeps at most this many."""

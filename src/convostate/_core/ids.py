"""Typed identifiers.

Each kind of id is its own type, so a user id can never be passed where a contact id belongs: the type
checker catches it, and at run time the two are never equal even when their text is.
"""

from __future__ import annotations

from typing import Any

import attrs

from convostate._core.validate import is_plain_text, non_empty_text


def _id_text(instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    if not is_plain_text(value):  # inline first: an id is built for every message and every event
        non_empty_text(f"{type(instance).__name__}.{attribute.name}", value)


@attrs.frozen(repr=False, eq=False)
class _Id:
    value: str = attrs.field(validator=_id_text)

    # Written out rather than generated: ids are hashed and compared on every write, and these are the
    # cheapest a Python class can have. Ids of different kinds are never equal, even with the same text.
    # ``type(other) is type(self)`` (not ``other.__class__``) is what lets type checkers narrow ``other``.
    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is type(self) and other.value == self.value)

    def __ne__(self, other: object) -> bool:
        return self is not other and (type(other) is not type(self) or other.value != self.value)

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


@attrs.frozen(repr=False, eq=False)
class UserId(_Id):
    """Identifies a user (an agent or admin) of the account."""


@attrs.frozen(repr=False, eq=False)
class InboxId(_Id):
    """Identifies an inbox."""


@attrs.frozen(repr=False, eq=False)
class ContactId(_Id):
    """Identifies a contact, the customer on the other side of a conversation."""


@attrs.frozen(repr=False, eq=False)
class ConversationId(_Id):
    """Identifies a conversation."""


@attrs.frozen(repr=False, eq=False)
class MessageId(_Id):
    """Identifies a message inside convostate (the provider's id is ``Message.external_id``)."""


@attrs.frozen(repr=False, eq=False)
class RuleId(_Id):
    """Identifies a rule, recorded as the cause of what the rule did."""

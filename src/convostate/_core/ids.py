"""Typed identifiers.

Each kind of id is its own type, so a user id can never be passed where a contact id belongs: the type
checker catches it, and at run time the two are never equal even when their text is.
"""

from __future__ import annotations

from typing import Any

import attrs

from convostate._core.validate import non_empty_text


def _id_text(instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    non_empty_text(f"{type(instance).__name__}.{attribute.name}", value)


@attrs.frozen(repr=False)
class _Id:
    value: str = attrs.field(validator=_id_text)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


@attrs.frozen(repr=False)
class UserId(_Id):
    """Identifies a user (an agent or admin) of the account."""


@attrs.frozen(repr=False)
class InboxId(_Id):
    """Identifies an inbox."""


@attrs.frozen(repr=False)
class ContactId(_Id):
    """Identifies a contact, the customer on the other side of a conversation."""


@attrs.frozen(repr=False)
class ConversationId(_Id):
    """Identifies a conversation."""


@attrs.frozen(repr=False)
class MessageId(_Id):
    """Identifies a message inside convostate (the provider's id is ``Message.external_id``)."""


@attrs.frozen(repr=False)
class RuleId(_Id):
    """Identifies a rule, recorded as the cause of what the rule did."""

"""How long an account keeps personal text: the retention policy, a setting of the account.

A retention sweep erases what the policy says has been kept long enough, with the same rules as an
erasure (``convostate._core.erasure``): the events, counts and times stay, the text goes.
"""

from __future__ import annotations

from typing import Any

import attrs

from convostate._core.errors import InvalidInput
from convostate._core.timing import CalendarDuration


def _optional_positive_duration(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, CalendarDuration):
        raise InvalidInput(
            f"{attribute.name} must be a CalendarDuration (e.g. CalendarDuration(days=90) or "
            f"CalendarDuration.parse('P90D')) or None, got {type(value).__name__} {value!r}"
        )
    if str(value) == "PT0S":
        raise InvalidInput(f"{attribute.name} must be longer than zero, got {value}; None keeps text forever")


@attrs.frozen
class RetentionPolicy:
    """What an account keeps, and for how long (``AccountSettings.retention``; None keeps everything).

    ``message_bodies_after``: a message's body is erased once this long has passed since it was sent
    (calendar units on the account's wall clock). ``closed_conversations_after``: a conversation closed
    for this long is reduced to its counts and times: every body it holds and every export of it is
    erased, while its history still says what happened and when. At least one must be set.
    """

    message_bodies_after: CalendarDuration | None = attrs.field(
        default=None, validator=_optional_positive_duration, kw_only=True
    )
    closed_conversations_after: CalendarDuration | None = attrs.field(
        default=None, validator=_optional_positive_duration, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if self.message_bodies_after is None and self.closed_conversations_after is None:
            raise InvalidInput(
                "a retention policy erases something: set message_bodies_after or "
                "closed_conversations_after (e.g. CalendarDuration(days=90)), or set retention=None"
            )

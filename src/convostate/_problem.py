"""convostate's refusals as HTTP answers: one table, so that every host's JSON API (the Flask, Django and
FastAPI examples among them) answers the same refusal with the same status, and says what went wrong the
way RFC 9457 ("problem details") does."""

from __future__ import annotations

import json
from typing import Final

from convostate._core.errors import (
    ConcurrencyConflict,
    ConvostateError,
    DeliveryFailed,
    DuplicateContact,
    MailerNotConfigured,
    PermissionDenied,
    StorageBusy,
)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

_STATUSES: Final[tuple[tuple[type[BaseException], int], ...]] = (
    (PermissionDenied, 403),  # ExportDisabled too: the caller may not, whatever it sends
    (LookupError, 404),  # UnknownConversation, UnknownUser, UnknownContact, UnknownInbox
    (DuplicateContact, 409),  # the contact exists: the body names it
    (ConcurrencyConflict, 409),  # every retry lost a race: the client may send it again
    (ValueError, 422),  # InvalidInput, NotAMember, SingleUserInbox: the request cannot be done as sent
    (StorageBusy, 503),  # the database's write lock stayed taken: try again later
    (MailerNotConfigured, 503),
    (DeliveryFailed, 502),  # the mail server refused or did not answer
)
"""The first match wins: subclasses before the classes they refine."""


def problem(error: BaseException) -> tuple[int, str]:
    """The HTTP status and the ``application/problem+json`` body that answer ``error``.

    A convostate refusal gets its status (403 may not, 404 no such id, 409 a conflict, 422 bad input, 503
    busy or unable to send, 502 the mail server failed) and its message as the ``detail``; a
    :class:`~convostate.DuplicateContact` also names the ``existing`` contact. Anything else is a 500 whose
    body says nothing of the error, which may hold what a client must not see (log it yourself).
    """
    if not isinstance(error, ConvostateError):
        return 500, json.dumps({"title": "Internal Server Error", "status": 500})
    status = next((status for kind, status in _STATUSES if isinstance(error, kind)), 500)
    body: dict[str, object] = {"title": type(error).__name__, "status": status, "detail": str(error)}
    if isinstance(error, DuplicateContact):
        body["existing"] = error.existing.value
    return status, json.dumps(body)

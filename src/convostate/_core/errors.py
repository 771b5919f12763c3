"""The library's exceptions.

One base class, so a host can catch everything convostate refuses with a single ``except``; one subclass per
thing that can go wrong, each inheriting from the matching builtin too (``LookupError``, ``ValueError``,
``PermissionError``) so that generic handlers in web frameworks map them sensibly. Every message says what
was wrong and what to do instead. A command that raises changes nothing and records nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # ids import the validators, which raise these errors
    from convostate._core.ids import ContactId

__all__ = [
    "ConcurrencyConflict",
    "ConvostateError",
    "DeliveryFailed",
    "DuplicateContact",
    "ExportDisabled",
    "InvalidInput",
    "NotAMember",
    "PermanentDeliveryFailure",
    "PermissionDenied",
    "SchemaMismatch",
    "SingleUserInbox",
    "StorageBusy",
    "StorageError",
    "TemporaryDeliveryFailure",
    "UnknownContact",
    "UnknownConversation",
    "UnknownInbox",
    "UnknownUser",
]


class ConvostateError(Exception):
    """Base class of every error convostate raises on purpose."""


class InvalidInput(ConvostateError, ValueError):
    """A value of the wrong type or shape: a naive datetime, an empty id, an empty message body."""


class DuplicateContact(InvalidInput):
    """Another contact of the account has this phone number or email address: a webhook would not know
    which of the two wrote. ``existing`` is that contact's id."""

    def __init__(self, message: str, existing: ContactId) -> None:
        super().__init__(message)
        self.existing = existing


def duplicate_contact(what: str, value: str, existing: ContactId) -> DuplicateContact:
    """The one wording of the refusal, for every store."""
    return DuplicateContact(
        f"contact {existing} already has the {what} {value}: look it up (Helpdesk.find_contact) instead "
        "of adding another",
        existing,
    )


class UnknownConversation(ConvostateError, LookupError):
    """No conversation has this id (or the command needs one that has been started)."""


class UnknownUser(ConvostateError, LookupError):
    """No user of the account has this id."""


class UnknownContact(ConvostateError, LookupError):
    """No contact has this id."""


class UnknownInbox(ConvostateError, LookupError):
    """No inbox has this id."""


class NotAMember(ConvostateError, ValueError):
    """Only members of a conversation's inbox can be assigned to it."""


class SingleUserInbox(ConvostateError, ValueError):
    """A single-user inbox has one owner and no assignment: its owner is always the only participant."""


class PermissionDenied(ConvostateError, PermissionError):
    """The acting user may not do this (not a member of the inbox, or not an admin)."""


class ExportDisabled(PermissionDenied):
    """Exports are turned off for the account; an admin must enable them."""


class ConcurrencyConflict(ConvostateError):
    """Someone else saved the conversation first: load it again and retry the command."""


class MailerNotConfigured(ConvostateError):
    """Emails are queued but nothing can send them: the helpdesk was built without a mailer."""


class DeliveryFailed(ConvostateError):
    """A mailer could not deliver an email. Raise a subclass from ``Mailer.send`` to say whether trying
    again can help; any other exception from a mailer counts as temporary."""

    def __init__(self, message: str, *, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.smtp_code = smtp_code
        """The mail server's reply code (``451``, ``550``), or None when it never answered (a dropped
        connection, a timeout)."""


class TemporaryDeliveryFailure(DeliveryFailed):
    """Trying again later may work (a 4xx reply, a refused or dropped connection, a timeout, a login the
    host must fix): the email stays pending and is retried with backoff."""


class PermanentDeliveryFailure(DeliveryFailed):
    """Trying again cannot work (a 5xx reply, every recipient refused): the email is not retried, and stays
    in the outbox as failed, with the server's answer as its error."""


class StorageError(ConvostateError):
    """The database could not be read or written as convostate needs: it is not a database, it is read-only,
    it is unreachable. Nothing was written; the message says what the database answered and what to do."""


class SchemaMismatch(StorageError):
    """The database does not hold the schema this release of convostate reads: it is empty where it must not
    be, it belongs to another application, or its schema is older or newer. The message gives the command
    that brings it up to date (or says to upgrade convostate)."""


class StorageBusy(StorageError):
    """Another writer held the database's write lock for longer than the busy timeout: nothing was written;
    try again later, or give the store a longer timeout."""

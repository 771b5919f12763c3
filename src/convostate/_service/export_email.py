"""The export of a conversation: a CSV of its messages and the email that carries it.

Pure: these functions read no clock, no store and no network. The facade (``Helpdesk.export``) loads what
they need, passes in the instant and how to name an author, and queues the email they build.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

import pendulum

from convostate._core.actors import Actor
from convostate._core.errors import InvalidInput
from convostate._core.events import Event, MessageReceived, MessageSent
from convostate._core.ids import ConversationId
from convostate._core.validate import check_type

DEFAULT_SENDER: Final = "convostate@localhost"
"""The ``From`` address of export emails unless the ``Helpdesk`` is given another ``sender``."""

SEND_CLAIM: Final = pendulum.duration(minutes=10)
"""How long a worker's claim on an email lasts while it sends it; other workers leave the email alone
meanwhile. It must outlast a send (the mailer's timeouts): once it ends, another worker may send it too."""

CSV_COLUMNS: Final = ("sent_at", "direction", "author", "body", "message_id", "external_id")

_DOT_ATOM: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def email_address(name: str, value: object) -> Address:
    """``value`` as an email address such as ``support@example.com``, or :class:`InvalidInput`."""
    text = check_type(name, value, str, "'support@example.com'")
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, MessageError) as error:  # what the email package raises for bad ones
        reason = str(error) or type(error).__name__
    else:
        if address.username and address.domain:
            return address
        reason = "it needs a name and a domain"
    raise InvalidInput(
        f"{name} must be an email address such as 'support@example.com', got {text!r} ({reason})"
    )


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks included) as one space, for a header."""
    return " ".join(text.split())


def contact_label(name: str, phone: str | None, email: str | None, fallback: str) -> str:
    """What to call a contact in an export: its name, else its phone number or email, else its id."""
    return name.strip() or phone or email or fallback


def conversation_csv(events: Iterable[Event], *, timezone: str, author: Callable[[Actor], str]) -> str:
    """The conversation's messages as CSV text: a header row (:data:`CSV_COLUMNS`), then one row per
    ``MessageReceived`` or ``MessageSent`` event, in the order they were recorded (oldest first).

    ``sent_at`` is ISO 8601 in ``timezone``; ``author`` names who wrote a message (a user's or contact's
    name, a rule's id). Bodies keep their line breaks (quoted, as CSV does); a cell that starts like a
    formula gets a leading apostrophe, and a NUL becomes U+FFFD (see ``_inert``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the csv module's default: comma, double quotes, CRLF (RFC 4180)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        if isinstance(event, (MessageReceived, MessageSent)):
            message = event.message
            writer.writerow(
                (
                    message.sent_at.in_timezone(timezone).isoformat(),
                    message.direction.value,
                    _inert(author(message.author)),
                    _inert(message.body),
                    message.id.value,
                    _inert(message.external_id or ""),
                )
            )
    return buffer.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """Text a spreadsheet will show rather than run: contacts write these cells, and a cell that starts like
    a formula (``=HYPERLINK(...)``) would be evaluated when an agent opens the export. A leading apostrophe
    is the usual guard (OWASP's advice for CSV injection). A NUL character, which a JSON webhook can carry
    but a CSV file cannot (the csv module refuses it before Python 3.12), is shown as U+FFFD, the
    replacement character; the text is otherwise exactly as written."""
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def message_id(export_id: str, sender: Address) -> str:
    """The ``Message-ID`` of an export's email: always the same for the same export, so a receiving server
    can drop a second copy. An id that cannot go in a Message-ID as it is (spaces, ``@``) is hashed."""
    local = (
        export_id if _DOT_ATOM.fullmatch(export_id) else hashlib.sha256(export_id.encode()).hexdigest()[:32]
    )
    return f"<{local}.convostate@{sender.domain}>"


def export_email(
    *,
    export_id: str,
    conversation_id: ConversationId,
    events: Sequence[Event],
    contact_name: str,
    sender: Address,
    recipient_name: str,
    recipient: Address,
    timezone: str,
    now: pendulum.DateTime,
    author: Callable[[Actor], str],
) -> EmailMessage:
    """The email that carries an export: to ``recipient``, with the CSV attached as
    ``<conversation id>.csv`` (``text/csv``, UTF-8) and a ``Message-ID`` made from ``export_id``."""
    csv_text = conversation_csv(events, timezone=timezone, author=author)
    rows = sum(isinstance(event, (MessageReceived, MessageSent)) for event in events)
    contact, conversation = one_line(contact_name), one_line(str(conversation_id))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=one_line(recipient_name), addr_spec=recipient.addr_spec)
    message["Subject"] = f"Export of conversation {conversation} with {contact}"
    message["Date"] = format_datetime(now.in_timezone("UTC"))
    message["Message-ID"] = message_id(export_id, sender)
    asked = now.in_timezone(timezone).format("YYYY-MM-DD HH:mm zz")
    message.set_content(
        f"Hello {one_line(recipient_name)},\n\n"
        f"Attached is conversation {conversation} with {contact}, as you asked on {asked}:\n"
        f"{rows} message{'' if rows == 1 else 's'}, oldest first, times in {timezone}.\n"
    )
    message.add_attachment(
        csv_text.encode("utf-8-sig"),  # with a byte-order mark, so Excel reads it as UTF-8
        maintype="text",
        subtype="csv",
        filename=f"{conversation}.csv",
        params={"charset": "utf-8"},
    )
    return message

"""The export of a conversation: a CSV of its messages and the email that carries it.

Pure: these functions read no clock, no store and no network. The facade (``Helpdesk.export``) loads what
they need, passes in the instant and how to name an author, and queues the email they build.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
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
from convostate._ports.roles import DEFAULT_ACCOUNT

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
    """``text`` with every run of white space (line breaks included) as one space, for a header; what no
    UTF-8 header can carry is shown as U+FFFD (see ``_writable``)."""
    return " ".join(_writable(text).split())


def contact_label(name: str, phone: str | None, email: str | None, fallback: str) -> str:
    """What to call a contact in an export: its name, else its phone number or email, else its id."""
    return name.strip() or phone or email or fallback


def conversation_csv(events: Iterable[Event], *, timezone: str, author: Callable[[Actor], str]) -> str:
    """The conversation's messages as CSV text: a header row (:data:`CSV_COLUMNS`), then one row per
    ``MessageReceived`` or ``MessageSent`` event, in the order they were recorded (oldest first).

    ``sent_at`` is ISO 8601 in ``timezone``; ``author`` names who wrote a message (a user's or contact's
    name, a rule's id). Bodies keep their line breaks (quoted, as CSV does); a cell that a spreadsheet
    would read as a formula gets a leading apostrophe, and a NUL or a lone surrogate becomes U+FFFD (see
    ``_inert``).
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
                    _inert(message.id.value),
                    _inert(message.external_id or ""),
                )
            )
    return buffer.getvalue()


FORMULA_STARTS: Final = frozenset("=+-@")
"""What starts a formula in a spreadsheet (OWASP's CSV injection list, with tab and carriage return,
which are checked as the first character of a cell). A character that folds to one of these under NFKC
(full-width U+FF1D, small U+FE62, superscript U+207C) starts one too: spreadsheets fold them."""
_IGNORED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
"""Characters a spreadsheet may skip before it looks for a formula: control characters (NUL, tab, line
breaks), format characters (zero-width space and joiners, the byte-order mark, direction marks) and
every kind of space (NBSP, ideographic space, line and paragraph separators)."""
_REPLACEMENT: Final = "\ufffd"
_GUARD: Final = "'"


def _writable(text: str) -> str:
    """``text`` with what a UTF-8 file cannot hold as U+FFFD, the replacement character: NUL (which the csv
    module refuses before Python 3.12) and lone surrogates (which a JSON webhook can deliver as
    ``\\ud800``, and which UTF-8 cannot encode). A surrogate pair is joined into its character."""
    if "\0" in text:
        text = text.replace("\0", _REPLACEMENT)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def starts_like_a_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula, once it has skipped what it skips (see
    ``_IGNORED_CATEGORIES``, and U+FFFD, which stands for a NUL here) and folded the first character it
    reads (NFKC). Checked character by character with the running Python's Unicode tables, so a newer
    Python's new spaces or look-alikes are covered without a list to update."""
    if text.startswith(("\t", "\r")):
        return True
    for char in text:
        if char == _REPLACEMENT or unicodedata.category(char) in _IGNORED_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS
    return False


def _inert(text: str) -> str:
    """Text a spreadsheet will show rather than run: contacts write these cells, and a cell that starts like
    a formula (``=HYPERLINK(...)``, also after spaces, a NUL or a zero-width space, or as a full-width
    U+FF1D) would be evaluated when an agent opens the export. A leading apostrophe is OWASP's guard for
    CSV injection. A cell that already starts with apostrophes followed by such text gets one more, so the
    guard can be undone exactly (``restored``); the text is otherwise as written, but for ``_writable``."""
    text = _writable(text)
    if text[:1].isalnum():
        return text  # the commonest case: no formula starts with a letter or a digit
    return _GUARD + text if starts_like_a_formula(text.lstrip(_GUARD)) else text


def restored(cell: str) -> str:
    """The text of a cell as convostate wrote it, without its guard: the inverse of the apostrophe
    ``_inert`` adds (docs/export.md)."""
    unguarded = cell[1:]
    return unguarded if cell.startswith(_GUARD) and starts_like_a_formula(unguarded.lstrip(_GUARD)) else cell


def message_id(export_id: str, sender: Address, account: str = DEFAULT_ACCOUNT) -> str:
    """The ``Message-ID`` of an export's email: always the same for the same export, so a receiving server
    can drop a second copy, and never another account's, whose ids may be the same (an account other than
    the default is part of it). An id that cannot go in a Message-ID as it is (spaces, ``@``) is hashed."""
    unique = export_id if account == DEFAULT_ACCOUNT else f"{export_id}.{account}"
    local = unique if _DOT_ATOM.fullmatch(unique) else hashlib.sha256(unique.encode()).hexdigest()[:32]
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
    account: str = DEFAULT_ACCOUNT,
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
    message["Message-ID"] = message_id(export_id, sender, account)
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

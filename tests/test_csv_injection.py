"""CSV injection (OWASP): no exported cell is read as a formula by a spreadsheet, whatever a contact writes.

A spreadsheet skips leading spaces, control and format characters and folds look-alike characters before
it decides that a cell is a formula, so the export guards a cell (a leading apostrophe) when its first
character that is not skipped folds (NFKC) to ``= + - @``, and when it starts with a tab or a carriage
return. The guard is undone exactly by ``restored``. What a UTF-8 file cannot hold (NUL, lone surrogates)
is written as U+FFFD instead of failing the export of data stored before such input was refused.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import Actor, ContactId, ConversationId, Inbox, InboxId, MessageId, MessageReceived, UserId
from convostate._service.export_email import (
    _IGNORED_CATEGORIES,
    FORMULA_STARTS,
    _inert,
    conversation_csv,
    email_address,
    export_email,
    restored,
    starts_like_a_formula,
)
from convostate.core import INITIAL_STATE, DecisionContext, ReceiveMessage, decide

ALL_CHARACTERS = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
LOOK_ALIKES = frozenset(char for char in ALL_CHARACTERS if unicodedata.normalize("NFKC", char)[:1] in "=+-@")
"""Every character this Python's Unicode folds to a formula start: derived, not listed by hand."""
SKIPPED = "".join(char for char in ALL_CHARACTERS if unicodedata.category(char) in _IGNORED_CATEGORIES)
"""Every character a spreadsheet may skip at the start of a cell (spaces, controls, format characters)."""


def spreadsheet_view(cell: str) -> str:
    """A cell as a spreadsheet that skips and folds the most would read it, in either order."""
    skipped = SKIPPED + "\ufffd"
    return unicodedata.normalize("NFKC", cell.lstrip(skipped)).lstrip(skipped)


def read_as_formula(cell: str) -> bool:
    return cell.startswith(("\t", "\r")) or spreadsheet_view(cell)[:1] in FORMULA_STARTS


def written(text: str) -> str:
    """``text`` as the export writes it, before any guard: NUL and lone surrogates as U+FFFD."""
    return text.replace("\0", "\ufffd").encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# ---------------------------------------------------------------- the behaviour table

CELLS: list[tuple[str, str, str]] = [
    ("a formula", '=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("a plus", "+1 555 0100", "'+1 555 0100"),
    ("a minus", "-2+3", "'-2+3"),
    ("an at", "@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("a leading tab", "\tplain", "'\tplain"),
    ("a leading carriage return", "\rplain", "'\rplain"),
    ("a tab then a formula", "\t=1+1", "'\t=1+1"),
    ("a NUL then a formula", "\0=1+1", "'\ufffd=1+1"),
    ("spaces then a formula", "   =1+1", "'   =1+1"),
    ("a line feed then a formula", "\n=1+1", "'\n=1+1"),
    ("NBSP then a formula", "\u00a0=1+1", "'\u00a0=1+1"),
    ("a zero-width space then a formula", "\u200b=1+1", "'\u200b=1+1"),
    ("a byte-order mark then a formula", "\ufeff@x", "'\ufeff@x"),
    ("an ideographic space then a formula", "\u3000+1", "'\u3000+1"),
    ("a line separator then a formula", "\u2028-1", "'\u2028-1"),
    ("a right-to-left mark then a formula", "\u200f=1", "'\u200f=1"),
    ("a full-width equals", "\uff1d1+1", "'\uff1d1+1"),
    ("a full-width plus", "\uff0b1", "'\uff0b1"),
    ("a full-width minus", "\uff0d1", "'\uff0d1"),
    ("a full-width at", "\uff20x", "'\uff20x"),
    ("a small equals", "\ufe661", "'\ufe661"),
    ("a small plus", "\ufe621", "'\ufe621"),
    ("a small minus", "\ufe631", "'\ufe631"),
    ("a superscript equals", "\u207c1", "'\u207c1"),
    ("two consecutive equals", "\u2a751", "'\u2a751"),
    ("a lone surrogate then a formula", "\ud800=1", "'\ufffd=1"),
    ("an apostrophe then a formula", "'=1+1", "''=1+1"),
    ("two apostrophes then a formula", "''=1+1", "'''=1+1"),
    ("an apostrophe then text", "'tis the season", "'tis the season"),
    ("a formula sign inside", "1+1=2", "1+1=2"),
    ("an email address", "ana@example.com", "ana@example.com"),
    ("spaces then text", "  hello", "  hello"),
    ("a lone surrogate inside", "a\ud800b", "a\ufffdb"),
    ("a surrogate pair", "\ud83d\ude00!", "\U0001f600!"),
    ("a NUL inside", "before\0after", "before\ufffdafter"),
    ("nothing", "", ""),
    ("only spaces", "   ", "   "),
]


@pytest.mark.parametrize(("text", "cell"), [(t, c) for _, t, c in CELLS], ids=[name for name, _, _ in CELLS])
def test_a_cell_is_written_as_the_table_says(text: str, cell: str) -> None:
    assert _inert(text) == cell
    assert not read_as_formula(cell)
    assert restored(cell) == written(text)


def test_every_character_that_folds_to_a_formula_start_is_guarded() -> None:
    assert {"\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe66", "\ufe62", "\ufe63"} <= LOOK_ALIKES
    assert FORMULA_STARTS <= LOOK_ALIKES
    assert [char for char in LOOK_ALIKES if not _inert(f"{char}1").startswith("'")] == []


def test_every_skipped_character_before_a_formula_is_guarded() -> None:
    assert {"\0", " ", "\t", "\n", "\u00a0", "\u200b", "\ufeff", "\u3000", "\u2028"} <= set(SKIPPED)
    assert [char for char in SKIPPED if not _inert(f"{char}=1").startswith("'")] == []
    assert [char for char in SKIPPED if not _inert(f"{char}{char}\uff201").startswith("'")] == []


def test_text_that_starts_with_anything_else_is_left_as_it_is() -> None:
    # The guard changes what an agent sees, so it is added only where a formula could start.
    # U+FFFD is skipped too: the export writes it for a NUL, which spreadsheets skip.
    left = [c for c in ALL_CHARACTERS if c not in LOOK_ALIKES and c not in SKIPPED and c not in "'\ufffd"]

    assert [char for char in left if _inert(f"{char}=1") != f"{char}=1"] == []


# ---------------------------------------------------------------- properties

_prefixes = st.text(
    st.sampled_from([*"\0 \t\r\n'\u00a0\u200b\ufeff\u3000\u2028\ufffd", "\ud800"]), max_size=4
)
_starts = st.sampled_from([*sorted(LOOK_ALIKES), "a", "1", "\u0338", "\U0001f600", "\ud83d", "\ude00"])
_any = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
cells = st.one_of(_any, st.builds(lambda p, s, rest: p + s + rest, _prefixes, _starts, _any))
"""Text as a contact could write it: any code point (lone surrogates and NUL included), often starting
with what a spreadsheet skips and then a formula start or one of its look-alikes."""


@given(cells)
def test_no_exported_cell_is_read_as_a_formula(text: str) -> None:
    cell = _inert(text)

    assert not read_as_formula(cell)
    assert "\0" not in cell
    cell.encode("utf-8")  # a lone surrogate would raise here


@given(cells)
def test_the_guard_is_one_apostrophe_and_restored_undoes_it(text: str) -> None:
    as_written = written(text)
    cell = _inert(text)

    assert cell in (as_written, "'" + as_written)
    assert restored(cell) == as_written
    assert (cell != as_written) == starts_like_a_formula(as_written.lstrip("'"))


# ---------------------------------------------------------------- the export itself

_SUPPORT = Inbox.multi_user(InboxId("support"), "Support", frozenset({UserId("ana")}))
_NOW = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


def _stored_message(body: str) -> MessageReceived:
    """A received message whose body is ``body`` as a store written before bad text was refused at the
    door may still hold it: set after the message is built, past any check."""
    command = ReceiveMessage(ConversationId("c-1"), _SUPPORT.id, ContactId("maria"), MessageId("m-1"), "x")
    [event] = [
        e
        for e in decide(INITIAL_STATE, command, DecisionContext(_NOW, inbox=_SUPPORT))
        if isinstance(e, MessageReceived)
    ]
    object.__setattr__(event.message, "body", body)
    return event


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_stored_body_with_lone_surrogates_and_a_formula_is_exported_guarded() -> None:
    exported = conversation_csv(
        [_stored_message("\ud800=cmd|' /C calc'!A0\udfff")], timezone="UTC", author=str
    )

    assert _rows(exported)[1][3] == "'\ufffd=cmd|' /C calc'!A0\ufffd"


def test_names_with_lone_surrogates_do_not_fail_the_email() -> None:
    message = export_email(
        export_id="export-1",
        conversation_id=ConversationId("c-1"),
        events=[_stored_message("hi")],
        contact_name="Ma\udfffria",
        sender=email_address("sender", "support@example.com"),
        recipient_name="A\ud800na",
        recipient=email_address("recipient", "ana@example.com"),
        timezone="UTC",
        now=_NOW,
        author=lambda actor: "=\ud800" if actor == Actor.contact(ContactId("maria")) else "?",
    )

    message.as_bytes()  # what a mailer sends: a lone surrogate would raise UnicodeEncodeError here
    assert message["Subject"] == "Export of conversation c-1 with Ma\ufffdria"
    assert message["To"].addresses[0].display_name == "A\ufffdna"
    [attached] = list(message.iter_attachments())
    content = attached.get_content()
    assert _rows(content.removeprefix("\ufeff"))[1][2] == "'=\ufffd"

"""What Jupyter shows: the ``_repr_html_`` of conversations, tab pages, badges, histories, contact info and
reports hold the cells a person looks for, escape whatever a contact or a user wrote, and say so when
there is nothing to show."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import attrs
import pendulum
import pytest

from convostate import ContactId, ConversationId, Helpdesk, HistoryEntry, Page, Role, Tab, UserId
from convostate._core import display
from convostate.testing import ManualClock, SequentialIds

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
HOSTILE = "<script>alert('x')</script> & \"friends\""


class Story:
    """A contact writes, Ana is assigned, replies 12 minutes later and closes; the contact writes again."""

    def __init__(self, contact_name: str = "Maria", body: str = "Where is my order?") -> None:
        self.clock = ManualClock(START)
        self.desk = Helpdesk(clock=self.clock, ids=SequentialIds())
        self.ana = self.desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
        self.bo = self.desk.add_user("Bo", "bo@example.com", by=self.ana).id
        self.inbox = self.desk.add_inbox("Support", members=[self.ana, self.bo], by=self.ana).id
        self.contact = self.desk.add_contact(name=contact_name, phone="+15555550100", tags={"vip"}).id
        self.conversation = self.desk.receive(self.contact, self.inbox, body).conversation.id
        self.desk.assign(self.conversation, self.ana, by=self.ana)
        self.clock.advance(minutes=12)
        self.desk.reply(self.conversation, "On its way", by=self.ana)
        self.clock.advance(hours=1)
        self.desk.close(self.conversation, by=self.ana)
        self.clock.advance(days=2)
        self.desk.receive(self.contact, self.inbox, "Thanks!")


def cells(markup: str) -> list[str]:
    """The text of every table cell, tags removed and entities decoded."""
    found = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", markup, flags=re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in found]


def test_a_conversation_shows_its_fields() -> None:
    story = Story()
    conversation = story.desk.conversation(story.conversation)

    shown = cells(conversation._repr_html_())

    assert ["inbox", story.inbox.value] == shown[0:2]
    assert ["contact", story.contact.value] == shown[2:4]
    assert shown[4:6] == ["status", "open"]
    assert ["assignees", story.ana.value] == shown[6:8]
    assert shown[8:10] == ["read state", "unread"]
    assert shown[12:14] == ["started", "2026-03-02 09:00:00+00:00"]
    assert shown[14:16] == ["last activity", "2026-03-04 10:12:00+00:00"]
    assert shown[16:18] == ["awaiting a reply since", "2026-03-04 10:12:00+00:00"]
    assert f"Conversation {story.conversation.value}" in conversation._repr_html_()


def test_an_instant_keeps_its_own_offset_and_says_it_in_the_markup() -> None:
    shown = display.instant(pendulum.datetime(2026, 3, 2, 9, 30, 15, 500, tz="Asia/Kathmandu"))
    assert shown == '<time datetime="2026-03-02T09:30:15.000500+05:45">2026-03-02 09:30:15+05:45</time>'
    assert display.instant(None) == "&ndash;"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (42, "42 s"), (125, "2 min 05 s"), (3900, "1 h 05 min"), (2 * 86_400 + 3 * 3600, "2 d 3 h")],
)
def test_durations_read_as_a_person_says_them(seconds: int, shown: str) -> None:
    assert display.duration(timedelta(seconds=seconds)) == shown


def test_a_tab_page_lists_one_row_per_conversation() -> None:
    story = Story()
    page = story.desk.tab(story.ana, Tab.ASSIGNED_TO_YOU)

    markup = page._repr_html_()

    assert "1 conversation" in markup
    assert "the last page" in markup
    assert cells(markup)[7:] == [
        story.conversation.value,
        story.inbox.value,
        story.contact.value,
        "open",
        story.ana.value,
        "\u25cf",  # unread
        "2026-03-04 10:12:00+00:00",
    ]


def test_a_page_with_more_after_it_says_so() -> None:
    story = Story()
    other = story.desk.add_contact(name="Ola").id
    story.desk.receive(other, story.inbox, "Hi")
    page = story.desk.tab(story.bo, Tab.ALL_OPEN, limit=1)
    assert page.next_cursor is not None
    assert "more after this page" in page._repr_html_()


def test_an_empty_tab_says_there_are_no_conversations() -> None:
    story = Story()
    markup = story.desk.tab(story.bo, Tab.STARRED)._repr_html_()
    assert "0 conversations" in markup
    assert "No conversations." in markup
    assert "<tbody>" not in markup


def test_badges_show_every_tab_with_its_count_and_unread() -> None:
    story = Story()
    shown = cells(story.desk.badges(story.ana)._repr_html_())
    assert shown == [
        "",
        "Assigned to You",
        "Unassigned",
        "Closed",
        "Starred",
        "All Open",
        "conversations",
        "1",
        "0",
        "0",
        "0",
        "1",
        "unread",
        "1",
        "0",
        "0",
        "0",
        "1",
    ]


def test_a_history_is_still_a_list_and_shows_a_row_per_entry() -> None:
    story = Story()
    history = story.desk.history(story.conversation)
    assert isinstance(history, list)
    assert history == list(history)
    assert all(isinstance(entry, HistoryEntry) for entry in history)

    shown = cells(history._repr_html_())  # type: ignore[attr-defined]

    assert shown[:5] == ["version", "at", "by", "event", "what happened"]
    rows = [shown[index : index + 5] for index in range(5, len(shown), 5)]
    assert len(rows) == len(history)
    assert rows[0][:4] == [
        "1",
        "2026-03-02 09:00:00+00:00",
        f"contact:{story.contact.value}",
        "ConversationStarted",
    ]
    assert [row[3] for row in rows] == [type(entry.event).__name__ for entry in history]
    assert [row[4] for row in rows] == [entry.summary for entry in history]
    assert any(row[3] == "Reopened" for row in rows)


def test_one_history_entry_is_one_row() -> None:
    story = Story()
    entry = story.desk.history(story.conversation)[2]
    shown = cells(entry._repr_html_())
    assert shown[5:] == [
        str(entry.version),
        entry.event.at.isoformat(sep=" "),
        str(entry.event.actor),
        type(entry.event).__name__,
        entry.summary,
    ]


def test_an_empty_history_says_so() -> None:
    assert "No history." in display.history([])
    assert "<table" not in display.history([])


def test_contact_info_shows_the_contact_its_figures_and_its_conversations() -> None:
    story = Story()
    info = story.desk.contact_info(story.contact, by=story.ana)

    markup = info._repr_html_()
    shown = cells(markup)

    assert "<strong>Maria</strong>" in markup
    assert shown[2:4] == ["phone", "+15555550100"]
    assert shown[6:8] == ["tags", "vip"]
    assert shown[8:10] == ["conversations open / closed", "1 / 0"]
    assert shown[10:12] == ["waiting since", "2026-03-04 10:12:00+00:00"]
    assert "first response" in shown
    assert shown[shown.index("first response") + 1].startswith("median 12 min 00 s, 90% within 12 min 00 s")
    assert shown[shown.index("reopens") + 1] == "1 to the assignees, 0 to Unassigned, 0 by a user"
    assert shown[shown.index("response rate") + 1] == "0%"  # it wrote back after 24 hours
    assert shown[-7:] == [
        story.conversation.value,
        story.inbox.value,
        "open",
        story.ana.value,
        "\u25cf",
        "2026-03-04 10:12:00+00:00",
        "2026-03-04 10:12:00+00:00",
    ]


def test_contact_info_with_no_conversation_to_show_says_so() -> None:
    story = Story()
    info = attrs.evolve(
        story.desk.contact_info(story.contact, by=story.ana),
        conversations=(),
        waiting_since=None,
    )

    markup = info._repr_html_()

    assert "No conversations." in markup
    assert cells(markup)[10:12] == ["waiting since", "\u2013"]


def test_a_report_has_a_row_per_day_and_a_total() -> None:
    story = Story()
    report = story.desk.report(
        by=story.ana, inbox_id=story.inbox, first_day=START.date(), last_day=START.date().add(days=2)
    )

    markup = report._repr_html_()
    shown = cells(markup)

    assert f"Inbox {story.inbox.value}" in markup
    assert "2026-03-02 to 2026-03-04" in markup
    assert shown[:8] == [
        "day",
        "conversations",
        "in",
        "out",
        "closes",
        "reopens",
        "first response",
        "resolution",
    ]
    assert shown[8:16] == ["2026-03-02", "1", "1", "1", "1", "0", "12 min 00 s", "1 h 12 min"]
    assert shown[16:24] == ["2026-03-03", "0", "0", "0", "0", "0", "\u2013", "\u2013"]
    assert shown[24:32] == ["2026-03-04", "0", "1", "0", "0", "1", "\u2013", "\u2013"]
    assert shown[32:40] == ["total", "1", "2", "1", "1", "1", "12 min 00 s", "1 h 12 min"]


def test_hostile_names_and_bodies_come_out_escaped() -> None:
    story = Story(contact_name=HOSTILE, body=HOSTILE)
    desk = story.desk
    markups = [
        desk.contact_info(story.contact, by=story.ana)._repr_html_(),
        desk.history(story.conversation)._repr_html_(),  # type: ignore[attr-defined]
        desk.history(story.conversation)[1]._repr_html_(),
    ]
    for markup in markups:
        assert "<script>" not in markup
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;friends&quot;" in markup
    assert f"<strong>{html.escape(HOSTILE)}</strong>" in markups[0]


def test_hostile_ids_come_out_escaped() -> None:
    """Ids are a host's text (its own id generator, a webhook's external ids): escaped like the rest."""
    story = Story()
    conversation = attrs.evolve(
        story.desk.conversation(story.conversation),
        id=ConversationId("<img src=x onerror=alert(1)>"),
        assignees=frozenset({UserId("<b>ana</b>")}),
        contact_id=ContactId("<i>maria</i>"),
    )
    page = Page((conversation,), next_cursor=None)
    for markup in (conversation._repr_html_(), page._repr_html_()):
        assert "<img" not in markup
        assert "<i>" not in markup
        assert "<b>" not in markup
        assert "&lt;img src=x onerror=alert(1)&gt;" in markup


class Printer:
    """Collects what ``_repr_pretty_`` prints, as IPython's printer would."""

    def __init__(self) -> None:
        self.printed: list[str] = []

    def text(self, text: str, /) -> None:
        self.printed.append(text)


def test_ipython_prints_a_conversation_on_one_line_and_repr_stays_attrs() -> None:
    story = Story()
    conversation = story.desk.conversation(story.conversation)
    printer = Printer()

    conversation._repr_pretty_(printer, cycle=False)

    assert printer.printed == [
        f"<Conversation {story.conversation.value}: open, inbox {story.inbox.value}, contact "
        f"{story.contact.value}, assigned to {story.ana.value}, unread, last activity "
        f"2026-03-04 10:12:00+00:00; version {conversation.version}>"
    ]
    assert repr(conversation).startswith(f"Conversation(id={story.conversation!r}, inbox_id=")


def test_ipython_prints_a_history_entry_on_one_line() -> None:
    story = Story()
    entry = story.desk.history(story.conversation)[0]
    printer = Printer()

    entry._repr_pretty_(printer, cycle=False)

    assert printer.printed == [
        f"<1. 2026-03-02 09:00:00+00:00 contact:{story.contact.value} ConversationStarted: {entry.summary}>"
    ]
    assert repr(entry).startswith("HistoryEntry(version=1, event=ConversationStarted(")


def test_an_unassigned_conversation_says_so_in_its_line() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, ids=SequentialIds())
    ana = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
    inbox = desk.add_inbox("Support", members=[ana], by=ana).id
    contact = desk.add_contact(name="Maria").id
    conversation = desk.receive(contact, inbox, "Hi").conversation
    desk.mark_read(conversation.id, by=ana)
    printer = Printer()
    desk.conversation(conversation.id)._repr_pretty_(printer, cycle=False)
    assert "unassigned, last activity" in printer.printed[0]

"""The "Contact Info" sidebar and a week's report, as a host would print them.

A texting shop's week: Maria writes, gets answers, comes back within the week and after it; Omar asks Sales
a question nobody has answered yet. The inbound webhook finds each contact by the number the provider
sends (in any spelling), then the sidebar shows Maria's details, conversations and analytics, and the
reports page shows Support's week, day by day.

Run it with ``python examples/contact_sidebar.py`` (memory store, manual clock, no server), or give it a
database URL (``sqlite:///shop.db``) to keep the history.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta

import pendulum

from convostate import Contact, ConversationId, DuplicateContact, Helpdesk, InboxId, Role
from convostate.analytics import ContactInfo, DurationStats, Report
from convostate.testing import ManualClock


def contact_for(desk: Helpdesk, phone: str, name: str) -> Contact:
    """What an inbound webhook does: find the sender by phone, or add them (once, even when racing)."""
    found = desk.find_contact(phone=phone)
    if found is not None:
        return found
    try:
        return desk.add_contact(name=name, phone=phone)
    except DuplicateContact as duplicate:
        return desk.contact(duplicate.existing)


def webhook(desk: Helpdesk, phone: str, name: str, inbox: InboxId, body: str) -> ConversationId:
    return desk.receive(contact_for(desk, phone, name).id, inbox, body).conversation.id


def took(stats: DurationStats) -> str:
    if stats.count == 0:
        return "-"
    assert stats.median is not None
    assert stats.p90 is not None
    return f"median {_short(stats.median)}, p90 {_short(stats.p90)} (n={stats.count})"


def _short(elapsed: timedelta) -> str:
    minutes = round(elapsed.total_seconds() / 60)
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def print_sidebar(desk: Helpdesk, info: ContactInfo, timezone: str) -> None:
    contact, figures = info.contact, info.figures

    def local(instant: pendulum.DateTime | None) -> str:
        return "-" if instant is None else instant.in_timezone(timezone).format("ddd D MMM HH:mm")

    print(f"{contact.name}  {contact.phone}  {contact.email or ''}".rstrip())
    print(f"  first contact {local(info.first_contact_at)}, last contact {local(info.last_contact_at)}")
    print(f"  last inbound {local(info.last_inbound_at)}, last outbound {local(info.last_outbound_at)}")
    print(f"  waiting for an answer: {'since ' + local(info.waiting_since) if info.waiting else 'no'}")
    print(f"  conversations: {figures.conversations} ({info.open} open, {info.closed} closed)")
    for conversation in info.conversations:
        inbox = desk.inbox(conversation.inbox_id).name
        who = ", ".join(sorted(desk.user(user).name for user in conversation.assignees)) or "unassigned"
        unread = ", unread" if conversation.unread else ""
        status, last = conversation.status.value, local(conversation.last_activity_at)
        print(f"    {inbox:<8} {status:<6} {who:<10} {last}{unread}")
    print(f"  messages: {figures.messages_in} in, {figures.messages_out} out")
    reopens = figures.reopens
    print(
        f"  reopens: {reopens.to_assignees} back to the assignees, {reopens.to_unassigned} to Unassigned, "
        f"{reopens.by_user} by a user"
    )
    print(f"  first response: {took(figures.first_response)}")
    print(f"  after a reopen: {took(figures.reopen_first_response)}")
    print(f"  reply time:     {took(figures.reply)}")
    print(f"  resolution:     {took(figures.resolution)}")
    rate = figures.response_rate
    print(f"  response rate:  {'-' if rate is None else f'{rate:.0%}'} answered within 24 hours")


def print_report(report: Report) -> None:
    print(f"{'day':<12}{'new':>5}{'in':>5}{'out':>5}{'closed':>8}  first response")
    rows = [(row.day.isoformat(), row.figures) for row in report.rows] + [("total", report.total)]
    for day, f in rows:
        counts = f"{f.conversations:>5}{f.messages_in:>5}{f.messages_out:>5}{f.closed:>8}"
        print(f"{day:<12}{counts}  {took(f.first_response)}")


def main(url: str | None = None) -> None:
    timezone = "America/New_York"
    clock = ManualClock(pendulum.datetime(2026, 11, 2, 9, 0, tz=timezone))  # Monday
    desk = Helpdesk(clock=clock) if url is None else Helpdesk.open(url, clock=clock)
    with desk:
        ana = desk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
        bo = desk.add_user("Bo", "bo@example.com", by=ana.id)
        desk.update_settings(timezone=timezone, by=ana.id)
        support = desk.add_inbox("Support", members=[ana.id, bo.id], by=ana.id).id
        sales = desk.add_inbox("Sales", members=[ana.id], by=ana.id).id

        talk = webhook(desk, "+1 (555) 555-0100", "Maria", support, "My order never arrived")
        desk.assign(talk, bo.id, by=ana.id)
        clock.advance(minutes=12)
        desk.reply(talk, "Sorry! Checking with the courier", by=bo.id)
        clock.advance(minutes=20)
        webhook(desk, "+15555550100", "Maria", support, "Thanks")
        clock.advance(minutes=40)
        desk.close(talk, by=bo.id)

        clock.advance(days=2)  # Wednesday, within the week: back to Bo
        webhook(desk, "+1 555 555 0100", "Maria", support, "Still nothing")
        clock.advance(hours=1, minutes=5)
        desk.reply(talk, "A new parcel is on its way", by=bo.id)
        clock.advance(hours=3)
        desk.close(talk, by=bo.id)

        clock.advance(hours=2)
        webhook(desk, "+15555550142", "Omar", sales, "Do you sell gift cards?")
        clock.advance(days=8)  # eight days after the close, past the week: to Unassigned
        webhook(desk, "+15555550100", "Maria", support, "It came, thank you!")

        maria = desk.find_contact(phone="+1 555 555 0100")
        assert maria is not None
        print_sidebar(desk, desk.contact_info(maria.id, by=bo.id), timezone)
        print()
        print_report(
            desk.report(by=ana.id, inbox_id=support, first_day=date(2026, 11, 2), last_day=date(2026, 11, 8))
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

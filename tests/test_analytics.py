"""Contact info and reports, as docs/analytics.md defines them: each test is one line of its tables or one of
its edge cases, and a scripted three-conversation history is checked against counts made by hand."""

from __future__ import annotations

import runpy
import threading
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import (
    ContactId,
    ConversationId,
    DuplicateContact,
    Helpdesk,
    InboxId,
    InvalidInput,
    PermissionDenied,
    Role,
    UnknownContact,
    UserId,
)
from convostate.analytics import DurationStats, Figures, Reopens, local_day
from convostate.core import BusinessHours
from convostate.testing import ManualClock

MONDAY = pendulum.datetime(2026, 11, 2, 9, 0, tz="UTC")
EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")


class Desk:
    """An account with an admin (Ana), two agents in Support (Bo, Cy), Dee in Sales, and Maria."""

    def __init__(self, start: pendulum.DateTime = MONDAY, timezone: str = "UTC") -> None:
        self.clock = ManualClock(start)
        self.desk = Helpdesk(clock=self.clock)
        self.ana = self.desk.add_user("Ana", "ana@example.com", role=Role.ADMIN).id
        self.bo = self.desk.add_user("Bo", "bo@example.com", by=self.ana).id
        self.cy = self.desk.add_user("Cy", "cy@example.com", by=self.ana).id
        self.dee = self.desk.add_user("Dee", "dee@example.com", by=self.ana).id
        self.desk.update_settings(timezone=timezone, by=self.ana)
        self.support = self.desk.add_inbox("Support", members=[self.bo, self.cy], by=self.ana).id
        self.sales = self.desk.add_inbox("Sales", members=[self.dee], by=self.ana).id
        self.maria = self.desk.add_contact(name="Maria", phone="+15555550100").id

    def writes(self, body: str = "Hello", inbox: InboxId | None = None) -> ConversationId:
        return self.desk.receive(self.maria, inbox or self.support, body).conversation.id

    def later(self, **elapsed: float) -> None:
        self.clock.advance(timedelta(**elapsed))

    def figures(self) -> Figures:
        return self.desk.contact_info(self.maria, by=self.ana).figures


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


# ------------------------------------------------------------------ a history counted by hand


def test_a_three_conversation_history_matches_counts_made_by_hand() -> None:
    account = Desk()
    desk = account.desk
    line = desk.add_single_user_inbox("Cy's line", owner=account.cy, by=account.ana).id
    # 1. Support, Monday: Maria writes at 9:00 and 9:04; Bo, assigned, answers at 9:20; she writes at 9:30,
    #    Bo answers at 9:40 and closes at 10:00.
    first = account.writes("My order is late")
    account.later(minutes=4)
    account.writes("Order 1234")
    desk.assign(first, account.bo, by=account.ana)
    account.later(minutes=16)
    desk.reply(first, "Looking", by=account.bo)
    account.later(minutes=10)
    account.writes("Thanks")
    account.later(minutes=10)
    desk.reply(first, "Shipped", by=account.bo)
    account.later(minutes=20)
    desk.close(first, by=account.bo)
    # 2. Sales, Monday 11:00: nobody answers; still open and waiting.
    account.later(hours=1)
    second = account.writes("Do you sell gift cards?", inbox=account.sales)
    # Support again, Tuesday 10:00 (within the week): reopens to Bo, who answers at 10:45 and closes at 11:00.
    account.later(hours=23)
    account.writes("It has not arrived")
    account.later(minutes=45)
    desk.reply(first, "Resent", by=account.bo)
    account.later(minutes=15)
    desk.close(first, by=account.bo)
    # 3. Cy's line, Tuesday 12:00: Cy answers at 12:03 and closes at 12:10.
    account.later(hours=1)
    third = account.writes("Are you open on Sunday?", inbox=line)
    account.later(minutes=3)
    desk.reply(third, "From 10 to 4", by=account.cy)
    account.later(minutes=7)
    desk.close(third, by=account.cy)
    # Support once more, Friday 12:00 (the window has not ended): back to Bo, unanswered.
    account.later(days=2, hours=23, minutes=50)
    account.writes("Still nothing")

    info = desk.contact_info(account.maria, by=account.ana)

    assert info.figures == Figures(
        conversations=3,
        messages_in=7,  # 9:00, 9:04, 9:30, Sales 11:00, Tue 10:00, line Tue 12:00, Fri 12:00
        messages_out=4,  # 9:20, 9:40, Tue 10:45, line Tue 12:03
        closed=3,  # Support twice, the line once
        reopens=Reopens(to_assignees=2, to_unassigned=0, by_user=0),
        outbound_answered=1,  # 9:20 at 9:30; 9:40 on Tuesday (> 24 h); 10:45 and 12:03 never
        first_response=DurationStats(2, minutes(11.5), minutes(3), minutes(20)),  # 9:00 -> 9:20; line 3 min
        reopen_first_response=DurationStats(1, minutes(45), minutes(45), minutes(45)),  # Tue 10:00 -> 10:45
        reply=DurationStats(4, minutes(19.5), minutes(10), minutes(45)),  # 20, 10, 45, 3
        resolution=DurationStats(
            3, minutes(43) + timedelta(seconds=20), minutes(60), minutes(60)
        ),  # 60, 60, 10
    )
    assert info.figures.response_rate == 1 / 4
    assert (info.open, info.closed) == (2, 1)  # Support reopened on Friday, Sales never closed
    assert info.first_contact_at == MONDAY
    assert info.last_contact_at == info.last_inbound_at == MONDAY.add(days=4, hours=3)
    assert info.last_outbound_at == MONDAY.add(days=1, hours=3, minutes=3)
    assert info.waiting_since == MONDAY.add(hours=2)  # the Sales question, older than Friday's message
    assert [(c.id, c.inbox_id) for c in info.conversations] == [
        (first, account.support),
        (second, account.sales),
        (third, line),
    ]
    assert [c.id for c in desk.contact_info(account.maria, by=account.cy).conversations] == [first, third]


# ------------------------------------------------------------------ the counts


def test_each_close_counts_and_its_resolution_runs_from_the_start_or_the_latest_reopen() -> None:
    account = Desk()
    conversation = account.writes()
    account.later(minutes=30)
    account.desk.close(conversation, by=account.ana)
    account.later(hours=2)
    account.desk.reopen(conversation, by=account.bo)
    account.later(minutes=5)
    account.desk.close(conversation, by=account.bo)

    figures = account.figures()
    assert figures.closed == 2
    assert figures.reopens == Reopens(by_user=1)
    assert figures.resolution == DurationStats(2, minutes(17.5), minutes(5), minutes(30))


def test_a_rule_reopen_within_the_window_goes_back_to_the_assignees_and_after_it_to_unassigned() -> None:
    account = Desk()
    conversation = account.writes()
    account.desk.assign(conversation, account.bo, by=account.ana)
    account.desk.close(conversation, by=account.bo)
    account.later(days=6)
    account.writes("Within the week")
    account.desk.close(conversation, by=account.bo)
    account.later(weeks=1)  # the exact end of the window counts as after it
    account.writes("A week later")

    assert account.figures().reopens == Reopens(to_assignees=1, to_unassigned=1, by_user=0)
    report = account.desk.report(
        by=account.bo, user_id=account.bo, first_day=date(2026, 11, 1), last_day=date(2026, 11, 30)
    )
    assert report.total.reopens == Reopens(to_assignees=1)  # only the one that came back to Bo
    assert report.total.closed == 2


def test_a_single_user_inbox_counts_its_owner_for_closes_and_reopens() -> None:
    account = Desk()
    line = account.desk.add_single_user_inbox("Cy's line", owner=account.cy, by=account.ana).id
    conversation = account.writes(inbox=line)
    account.desk.close(conversation, by=account.cy)
    account.later(weeks=2)
    account.writes(inbox=line)

    assert account.figures().reopens == Reopens(to_assignees=1)
    cy = account.desk.report(
        by=account.cy, user_id=account.cy, first_day=date(2026, 11, 1), last_day=date(2026, 11, 30)
    )
    assert (cy.total.closed, cy.total.reopens.to_assignees) == (1, 1)


# ------------------------------------------------------------------ the durations and their edge cases


def test_the_first_response_runs_from_the_first_inbound_message_to_the_first_reply_by_a_user() -> None:
    account = Desk()
    conversation = account.writes("One")
    account.later(minutes=3)
    account.writes("Two")
    account.later(minutes=7)
    account.desk.reply(conversation, "Hi", by=account.bo)
    account.later(minutes=1)
    account.desk.reply(conversation, "And more", by=account.cy)

    figures = account.figures()
    assert figures.first_response == DurationStats(1, minutes(10), minutes(10), minutes(10))
    assert figures.reply.count == 1  # the second reply answered nothing new


def test_a_reply_before_any_inbound_message_is_not_a_first_response() -> None:
    account = Desk()
    conversation = account.writes()
    account.desk.close(conversation, by=account.bo)
    account.later(hours=1)
    account.desk.reopen(conversation, by=account.bo)
    account.desk.reply(conversation, "Following up on your order", by=account.bo)  # Bo writes first
    account.later(minutes=30)
    account.writes("Thanks, it came")
    account.later(minutes=5)
    account.desk.reply(conversation, "Great", by=account.bo)

    figures = account.figures()
    assert figures.reopen_first_response.count == 0  # the round's first message was Bo's
    assert figures.reply == DurationStats(1, minutes(5), minutes(5), minutes(5))
    assert figures.outbound_answered == 1


def test_a_conversation_still_open_has_no_resolution_and_is_waiting_since_its_oldest_unanswered_message() -> (
    None
):
    account = Desk()
    conversation = account.writes("One")
    account.later(minutes=2)
    account.writes("Two")

    info = account.desk.contact_info(account.maria, by=account.ana)
    assert info.figures.resolution == DurationStats(0, None, None, None)
    assert info.waiting
    assert info.waiting_since == MONDAY
    assert info.conversations[0].awaiting_reply_since == MONDAY
    account.desk.reply(conversation, "Hi", by=account.bo)
    assert not account.desk.contact_info(account.maria, by=account.ana).waiting


def test_a_close_ends_the_wait_and_the_next_reply_is_measured_from_the_next_message() -> None:
    account = Desk()
    conversation = account.writes("Thanks, bye")
    account.later(minutes=1)
    account.desk.close(conversation, by=account.bo)
    assert not account.desk.contact_info(account.maria, by=account.ana).waiting
    account.later(days=1)
    account.writes("One more thing")
    account.later(minutes=15)
    account.desk.reply(conversation, "Sure", by=account.bo)

    figures = account.figures()
    assert figures.reply == DurationStats(1, minutes(15), minutes(15), minutes(15))
    assert figures.reopen_first_response == DurationStats(1, minutes(15), minutes(15), minutes(15))
    assert figures.first_response.count == 0  # the first round was closed without a reply


def test_a_reopen_with_no_reply_yet_has_no_first_response_yet() -> None:
    account = Desk()
    conversation = account.writes()
    account.desk.reply(conversation, "Hi", by=account.bo)
    account.desk.close(conversation, by=account.bo)
    account.later(days=1)
    account.writes("Again")

    figures = account.figures()
    assert figures.reopens.total == 1
    assert figures.reopen_first_response.count == 0


def test_an_outbound_message_is_answered_when_the_contact_writes_back_within_24_hours_exactly() -> None:
    account = Desk()
    conversation = account.writes()
    account.desk.reply(conversation, "One", by=account.bo)
    account.desk.reply(conversation, "Two", by=account.bo)
    account.later(hours=24)  # exactly 24 hours: both are answered
    account.writes("Back")
    account.desk.reply(conversation, "Three", by=account.bo)
    account.later(hours=24, microseconds=1)  # just over: not answered
    account.writes("Back again")

    figures = account.figures()
    assert (figures.outbound_answered, figures.messages_out) == (2, 3)
    assert figures.response_rate == pytest.approx(2 / 3)


def test_nothing_sent_has_no_response_rate() -> None:
    account = Desk()
    account.writes()
    assert account.figures().response_rate is None


# ------------------------------------------------------------------ reports


def test_a_report_has_a_row_for_every_day_in_the_accounts_time_zone_and_a_total_that_sums_them() -> None:
    # 03:30 UTC on Tuesday is still Monday in New York.
    account = Desk(start=pendulum.datetime(2026, 11, 3, 3, 30, tz="UTC"), timezone="America/New_York")
    conversation = account.writes()
    account.later(minutes=5)
    account.desk.reply(conversation, "Hi", by=account.bo)
    account.later(days=1)
    other = account.desk.add_contact(name="Omar", email="omar@example.com").id
    account.desk.receive(other, account.support, "Hello")

    report = account.desk.report(
        by=account.ana, inbox_id=account.support, first_day=date(2026, 11, 1), last_day=date(2026, 11, 4)
    )
    assert [row.day for row in report.rows] == [date(2026, 11, day) for day in (1, 2, 3, 4)]
    assert [row.figures.conversations for row in report.rows] == [0, 1, 1, 0]
    assert [row.figures.first_response.count for row in report.rows] == [0, 1, 0, 0]
    assert report.total.conversations == 2
    assert report.total.messages_in == sum(row.figures.messages_in for row in report.rows) == 2
    assert report.total.first_response == DurationStats(1, minutes(5), minutes(5), minutes(5))


def test_a_reports_percentiles_are_within_a_bucket_and_its_means_exact() -> None:
    account = Desk()
    replies = [timedelta(seconds=s) for s in (30, 45, 3_600, 3_700, 7_300)]
    for n, wait in enumerate(replies):
        contact = account.desk.add_contact(phone=f"+1555555020{n}").id
        conversation = account.desk.receive(contact, account.support, "Hi").conversation.id
        account.clock.advance(wait)
        account.desk.reply(conversation, "Hello", by=account.bo)
        account.later(minutes=1)

    total = account.desk.report(
        by=account.ana, inbox_id=account.support, first_day=MONDAY.date(), last_day=MONDAY.date()
    ).total
    exact = DurationStats.of(int(wait.total_seconds()) * 1_000_000 for wait in replies)
    assert total.first_response.count == exact.count == 5
    assert total.first_response.mean == exact.mean
    assert total.first_response.median is not None
    assert exact.median is not None
    assert abs(total.first_response.median - exact.median) <= exact.median / 32
    assert total.first_response.p90 == exact.p90  # alone in its bucket: exact


def test_a_user_report_counts_what_the_user_did() -> None:
    account = Desk()
    conversation = account.writes()
    account.desk.assign(conversation, account.bo, by=account.ana)
    account.desk.assign(conversation, account.cy, by=account.ana)
    account.later(minutes=10)
    account.desk.reply(conversation, "Hi", by=account.cy)
    account.later(minutes=10)
    account.desk.close(conversation, by=account.bo)

    def total(user: UserId) -> Figures:
        return account.desk.report(
            by=account.ana, user_id=user, first_day=MONDAY.date(), last_day=MONDAY.date()
        ).total

    bo, cy = total(account.bo), total(account.cy)
    assert (bo.messages_out, bo.first_response.count, bo.closed) == (
        0,
        0,
        1,
    )  # both assignees count the close
    assert (cy.messages_out, cy.first_response.count, cy.closed) == (1, 1, 1)
    assert (cy.conversations, cy.messages_in) == (0, 0)  # those belong to inboxes


# ------------------------------------------------------------------ who may see what


def test_contact_info_is_for_admins_and_members_of_an_inbox_the_contact_wrote_to() -> None:
    account = Desk()
    account.writes()

    assert account.desk.contact_info(account.maria, by=account.bo).contact.name == "Maria"
    with pytest.raises(PermissionDenied):
        account.desk.contact_info(account.maria, by=account.dee)  # Sales only
    account.writes(inbox=account.sales)
    dee = account.desk.contact_info(account.maria, by=account.dee)
    assert [c.inbox_id for c in dee.conversations] == [account.sales]  # lists what Dee can open
    assert dee.figures.conversations == 2  # but describes the contact


def test_reports_are_for_admins_members_of_the_inbox_and_users_themselves() -> None:
    account = Desk()
    day = MONDAY.date()
    account.desk.report(by=account.bo, inbox_id=account.support, first_day=day, last_day=day)
    account.desk.report(by=account.bo, user_id=account.bo, first_day=day, last_day=day)
    account.desk.report(by=account.ana, user_id=account.bo, first_day=day, last_day=day)
    with pytest.raises(PermissionDenied):
        account.desk.report(by=account.dee, inbox_id=account.support, first_day=day, last_day=day)
    with pytest.raises(PermissionDenied):
        account.desk.report(by=account.bo, user_id=account.cy, first_day=day, last_day=day)


# ------------------------------------------------------------------ contacts: lookup, E.164, refusals


def test_a_phone_is_kept_in_e164_and_found_in_any_spelling() -> None:
    account = Desk()
    contact = account.desk.contact(account.maria)
    assert contact.phone == "+15555550100"
    for spelling in ("+15555550100", "+1 555 555 0100", "+1 (555) 555-0100", "+1.555.555.0100"):
        assert account.desk.find_contact(phone=spelling) == contact


def test_a_national_number_needs_the_accounts_phone_region() -> None:
    pytest.importorskip("phonenumbers")
    account = Desk()
    with pytest.raises(InvalidInput, match="phone_region"):
        account.desk.add_contact(phone="(555) 555-0101")
    account.desk.update_settings(phone_region="US", by=account.ana)
    assert account.desk.add_contact(phone="(555) 555-0101").phone == "+15555550101"
    assert account.desk.find_contact(phone="555 555 0100") == account.desk.contact(account.maria)


def test_without_the_phone_extra_only_international_numbers_are_understood() -> None:
    from convostate._service.phones import e164  # noqa: PLC0415 (the fallback path, directly)

    assert e164("+44 20 7946 0958", None, parse=False) == "+442079460958"
    for bad in ("020 7946 0958", "+0 555", "+1 555 CALL NOW", "+1234567890123456"):
        with pytest.raises(InvalidInput, match="install convostate\\[phone\\]"):
            e164(bad, "GB", parse=False)


@pytest.mark.parametrize(
    ("phone", "email"),
    [("+1 555 555 0100", None), (None, "MARIA@example.com"), ("+15555550100", "new@example.com")],
)
def test_a_second_contact_with_the_same_phone_or_email_is_refused_and_nothing_is_added(
    phone: str | None, email: str | None
) -> None:
    account = Desk()
    emailed = account.desk.add_contact(name="Has the email", email="maria@example.com").id
    before = account.desk.store.dump()  # type: ignore[attr-defined]

    with pytest.raises(DuplicateContact) as refused:
        account.desk.add_contact(name="Copy", phone=phone, email=email)

    assert refused.value.existing == (account.maria if phone is not None else emailed)
    assert account.desk.store.dump() == before  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: d.desk.add_contact(phone="not a number"), "phone"),
        (lambda d: d.desk.add_contact(phone="+1 555 555 0100\x00"), "NUL"),
        (lambda d: d.desk.add_contact(email="maria at example"), "email"),
        (lambda d: d.desk.find_contact(), "a phone or an email"),
        (lambda d: d.desk.find_contact(phone="+15555550100", email="m@example.com"), "a phone or an email"),
        (lambda d: d.desk.find_contact(phone=5555550100), "phone"),
        (
            lambda d: d.desk.report(by=d.ana, first_day=MONDAY.date(), last_day=MONDAY.date()),
            "inbox_id or user_id",
        ),
        (
            lambda d: d.desk.report(by=d.ana, inbox_id=d.support, first_day=MONDAY, last_day=MONDAY.date()),
            "date",
        ),
        (
            lambda d: d.desk.report(
                by=d.ana, inbox_id=d.support, first_day=MONDAY.date(), last_day=date(2026, 11, 1)
            ),
            "before",
        ),
        (
            lambda d: d.desk.report(
                by=d.ana, inbox_id=d.support, first_day=date(2000, 1, 1), last_day=date(2026, 1, 1)
            ),
            "at most",
        ),
        (lambda d: d.desk.update_settings(phone_region="usa", by=d.ana), "ISO 3166"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(call: object, message: str) -> None:
    account = Desk()
    before = account.desk.store.dump()  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match=message):
        call(account)  # type: ignore[operator]
    assert account.desk.store.dump() == before  # type: ignore[attr-defined]


def test_unknown_contacts_and_users_are_named() -> None:
    account = Desk()
    with pytest.raises(UnknownContact):
        account.desk.contact_info(ContactId("nobody"), by=account.ana)


def test_webhooks_racing_to_add_the_same_new_number_add_one_contact() -> None:
    account = Desk()
    added: list[ContactId] = []
    refused: list[object] = []
    barrier = threading.Barrier(8)

    def webhook() -> None:
        barrier.wait()
        try:
            added.append(account.desk.add_contact(phone="+15555550177").id)
        except DuplicateContact as duplicate:
            refused.append(duplicate.existing)

    threads = [threading.Thread(target=webhook) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(added) == 1
    assert refused == added * 7


def test_the_sidebar_example_prints_what_a_host_would_show(capsys: pytest.CaptureFixture[str]) -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "contact_sidebar.py"

    runpy.run_path(str(script))["main"]()

    printed = capsys.readouterr().out
    assert "Maria  +15555550100" in printed
    assert "reopens: 1 back to the assignees, 1 to Unassigned, 0 by a user" in printed
    assert "first response: median 12 min, p90 12 min (n=1)" in printed
    assert "response rate:  50% answered within 24 hours" in printed
    assert "total           1    3    2       2  median 12 min" in printed


@given(
    instant=st.integers(0, 4_000_000_000 * 1_000_000).map(lambda micros: EPOCH.add(microseconds=micros)),
    zone=st.sampled_from(
        (
            "UTC",
            "America/New_York",
            "Asia/Kathmandu",
            "Australia/Lord_Howe",
            "Africa/Monrovia",
            "Pacific/Chatham",
        )
    ),
)
def test_a_facts_day_is_the_local_date_of_its_instant(instant: pendulum.DateTime, zone: str) -> None:
    """The quarter-hour cache of local dates agrees with converting each instant (Monrovia's -0:44:30
    until 1972 straddles midnights mid-quarter-hour; Kathmandu is +5:45; Lord Howe moves by 30 minutes)."""
    local = instant.in_timezone(zone)
    assert local_day(instant, ZoneInfo(zone)) == date(local.year, local.month, local.day)


# ------------------------------------------------------------------ business time (#15)


def test_every_duration_is_also_measured_in_business_time_where_there_are_business_hours() -> None:
    """A Friday-afternoon message in a shop open 9 to 5 on weekdays, answered on Monday morning: 66 hours
    on the calendar, two working hours."""
    friday = pendulum.datetime(2026, 11, 6, 16, 0, tz="America/New_York")
    account = Desk(start=friday, timezone="America/New_York")
    weekdays = BusinessHours(
        "America/New_York", dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00")
    )
    account.desk.set_business_hours(account.support, weekdays, by=account.ana)
    conversation = account.writes("Is my order on its way?")
    account.later(days=2, hours=18)  # Monday 10:00
    account.desk.reply(conversation, "Yes, it ships today", by=account.bo)
    account.later(hours=2)
    account.desk.close(conversation, by=account.bo)
    account.writes("Thanks", inbox=account.sales)  # Sales has no business hours, nor has the account

    figures = account.figures()
    assert figures.first_response.mean == timedelta(hours=66)
    assert figures.first_response_business == DurationStats(
        1, timedelta(hours=2), timedelta(hours=2), timedelta(hours=2)
    )
    assert figures.reply_business.mean == timedelta(hours=2)
    assert figures.resolution.mean == timedelta(hours=68)
    assert figures.resolution_business.mean == timedelta(hours=4)
    report = account.desk.report(
        by=account.ana, inbox_id=account.support, first_day=date(2026, 11, 2), last_day=date(2026, 11, 13)
    )
    assert report.total.first_response_business.median == timedelta(hours=2)


def test_without_business_hours_nothing_is_measured_in_business_time() -> None:
    account = Desk()
    conversation = account.writes()
    account.later(minutes=5)
    account.desk.reply(conversation, "Hi", by=account.bo)

    figures = account.figures()
    assert figures.first_response.count == 1
    assert figures.first_response_business == DurationStats(0, None, None, None)

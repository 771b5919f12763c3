"""Reopen timing.

DESIGN.md: "A closed conversation reopens automatically when the contact writes again. If the
message arrives within the reopen window after closing (default: one week), it returns to the users
who were assigned ("Yours"); after the window it reopens with no assignee ("Unassigned"). The window
is a calendar duration in the account's time zone (a week across a DST change is 167 or 169 hours),
set per account; the exact boundary instant counts as after the window."

Events: ``MessageReceived``, then ``Reopened`` by the rule ``REOPEN_ON_INBOUND`` (reason
``CONTACT_WROTE_WITHIN_WINDOW`` or ``CONTACT_WROTE_AFTER_WINDOW``, with ``window_ends_at``); after
the window, one ``Unassigned`` by the rule ``UNASSIGN_AFTER_WINDOW`` per assignee, in id order.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest

from convostate import (
    REOPEN_ON_INBOUND,
    UNASSIGN_AFTER_WINDOW,
    AccountSettings,
    Actor,
    Assign,
    CalendarDuration,
    Close,
    ContactId,
    Conversation,
    ConversationId,
    DecisionContext,
    Event,
    Inbox,
    InboxId,
    MessageId,
    MessageReceived,
    ReceiveMessage,
    Reopened,
    ReopenReason,
    Status,
    Unassigned,
    UserId,
    decide,
    evolve,
    replay,
)
from tests.builders import (
    ANA,
    BEN,
    CARA,
    CONVERSATION,
    assign,
    by,
    close,
    context,
    inbound,
    reopen,
    run,
    step,
)

NEW_YORK = "America/New_York"
NY = AccountSettings(timezone=NEW_YORK)
UTC = AccountSettings(timezone="UTC")

WITHIN = ReopenReason.CONTACT_WROTE_WITHIN_WINDOW
AFTER = ReopenReason.CONTACT_WROTE_AFTER_WINDOW
REOPEN_RULE = Actor.rule(REOPEN_ON_INBOUND)
UNASSIGN_RULE = Actor.rule(UNASSIGN_AFTER_WINDOW)

BEFORE_SPRING_FORWARD = pendulum.datetime(2026, 3, 5, 12, tz=NEW_YORK)
"""Thursday noon; clocks spring forward on Sunday 2026-03-08: the week to Thursday is 167 hours."""

BEFORE_FALL_BACK = pendulum.datetime(2026, 10, 29, 12, tz=NEW_YORK)
"""Thursday noon; clocks fall back on Sunday 2026-11-01, so the week to Thursday is 169 hours."""

IN_UTC = pendulum.datetime(2026, 6, 11, 12, tz="UTC")


def closed_at(
    when: pendulum.DateTime,
    settings: AccountSettings,
    assignees: tuple[UserId, ...] = (CARA, ANA),
) -> tuple[Conversation, tuple[Event, ...]]:
    """A conversation the contact opened an hour before ``when``, assigned (cara first, then ana),
    closed at ``when``; and every event so far."""
    opened = when.subtract(hours=1)
    state, events = run(
        [inbound(), *(assign(user) for user in assignees)],
        context(opened, settings=settings),
    )
    state, closing = step(state, close(), context(when, settings=settings))
    return state, (*events, *closing)


def contact_writes(
    state: Conversation, at: pendulum.DateTime, settings: AccountSettings
) -> tuple[Conversation, tuple[Event, ...]]:
    return step(state, inbound("Hi again", message_id="m-later"), context(at, settings=settings))


def reason_of(events: tuple[Event, ...]) -> ReopenReason:
    [reopened] = [event for event in events if isinstance(event, Reopened)]
    return reopened.reason


# ---------------------------------------------------------------- within / after


def test_within_the_window_it_reopens_back_to_its_assignees() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(days=3)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert events[0].actor == Actor.contact(state.contact_id)
    assert events[1] == Reopened(CONVERSATION, REOPEN_RULE, at, WITHIN, IN_UTC, IN_UTC.add(weeks=1))
    assert state.status is Status.OPEN
    assert state.assignees == {ANA, CARA}
    assert state.unread


def test_after_the_window_it_reopens_unassigned_one_event_per_assignee_in_id_order() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(days=10)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened, Unassigned, Unassigned]
    assert events[1] == Reopened(CONVERSATION, REOPEN_RULE, at, AFTER, IN_UTC, IN_UTC.add(weeks=1))
    assert events[2:] == (
        Unassigned(CONVERSATION, UNASSIGN_RULE, at, ANA),
        Unassigned(CONVERSATION, UNASSIGN_RULE, at, CARA),
    )
    assert state.status is Status.OPEN
    assert state.assignees == frozenset()


def test_after_the_window_with_nobody_assigned_there_is_nobody_to_unassign() -> None:
    state, _ = closed_at(IN_UTC, UTC, assignees=())

    state, events = contact_writes(state, IN_UTC.add(weeks=2), UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert reason_of(events) is AFTER
    assert state.assignees == frozenset()


def test_a_message_on_an_open_conversation_only_records_the_message() -> None:
    state, _ = run([inbound(), assign(ANA)], context(IN_UTC, settings=UTC))

    state, events = contact_writes(state, IN_UTC.add(weeks=3), UTC)

    assert [type(event) for event in events] == [MessageReceived]
    assert state.assignees == {ANA}


def test_a_user_reopening_keeps_the_assignees_even_long_after_the_window() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(weeks=5)

    state, events = step(state, reopen(actor=BEN), context(at, settings=UTC))

    assert events == (Reopened(CONVERSATION, by(BEN), at, ReopenReason.BY_USER, IN_UTC, None),)
    assert state.assignees == {ANA, CARA}


def test_the_default_window_is_one_week() -> None:
    assert AccountSettings().reopen_window == CalendarDuration(weeks=1)


# ---------------------------------------------------------------- the boundary in UTC


@pytest.mark.parametrize(
    ("elapsed", "reason"),
    [
        (timedelta(days=7) - timedelta(microseconds=1), WITHIN),
        (timedelta(days=7), AFTER),
        (timedelta(days=7, microseconds=1), AFTER),
    ],
    ids=["one microsecond before", "the boundary instant", "one microsecond after"],
)
def test_utc_a_week_is_168_hours_and_the_boundary_instant_counts_as_after(
    elapsed: timedelta, reason: ReopenReason
) -> None:
    state, _ = closed_at(IN_UTC, UTC)

    state, events = contact_writes(state, IN_UTC + elapsed, UTC)

    assert reason_of(events) is reason
    assert state.assignees == ({ANA, CARA} if reason is WITHIN else frozenset())


# ---------------------------------------------------------------- across daylight-saving changes


def test_spring_forward_the_window_ends_the_next_thursday_at_noon_167_hours_later() -> None:
    state, _ = closed_at(BEFORE_SPRING_FORWARD, NY)

    _, events = contact_writes(state, BEFORE_SPRING_FORWARD.add(days=10), NY)

    [reopened] = [event for event in events if isinstance(event, Reopened)]
    assert reopened.window_ends_at == pendulum.datetime(2026, 3, 12, 12, tz=NEW_YORK)
    assert reopened.window_ends_at - BEFORE_SPRING_FORWARD == timedelta(hours=167)


@pytest.mark.parametrize(
    ("elapsed", "reason"),
    [
        (timedelta(hours=166, minutes=59, seconds=59), WITHIN),
        (timedelta(hours=167), AFTER),
        (timedelta(hours=168), AFTER),
    ],
    ids=["166h59m59s: within", "167h, the boundary: after", "168h, a naive week: after"],
)
def test_spring_forward_a_week_is_167_hours(elapsed: timedelta, reason: ReopenReason) -> None:
    state, _ = closed_at(BEFORE_SPRING_FORWARD, NY)

    state, events = contact_writes(state, BEFORE_SPRING_FORWARD + elapsed, NY)

    assert reason_of(events) is reason
    assert state.assignees == ({ANA, CARA} if reason is WITHIN else frozenset())


def test_fall_back_the_window_ends_the_next_thursday_at_noon_169_hours_later() -> None:
    state, _ = closed_at(BEFORE_FALL_BACK, NY)

    _, events = contact_writes(state, BEFORE_FALL_BACK.add(days=10), NY)

    [reopened] = [event for event in events if isinstance(event, Reopened)]
    assert reopened.window_ends_at == pendulum.datetime(2026, 11, 5, 12, tz=NEW_YORK)
    assert reopened.window_ends_at - BEFORE_FALL_BACK == timedelta(hours=169)


@pytest.mark.parametrize(
    ("elapsed", "reason"),
    [
        (timedelta(hours=168), WITHIN),
        (timedelta(hours=168, minutes=30), WITHIN),
        (timedelta(hours=169) - timedelta(microseconds=1), WITHIN),
        (timedelta(hours=169), AFTER),
    ],
    ids=[
        "168h, a naive week: within",
        "168h30m: within",
        "just before 169h: within",
        "169h: after",
    ],
)
def test_fall_back_a_week_is_169_hours(elapsed: timedelta, reason: ReopenReason) -> None:
    state, _ = closed_at(BEFORE_FALL_BACK, NY)

    state, events = contact_writes(state, BEFORE_FALL_BACK + elapsed, NY)

    assert reason_of(events) is reason
    assert state.assignees == ({ANA, CARA} if reason is WITHIN else frozenset())


def test_the_window_is_measured_on_the_accounts_wall_clock_whatever_zone_the_times_are_in() -> None:
    closing = BEFORE_SPRING_FORWARD.in_timezone("Asia/Tokyo")
    state, _ = closed_at(closing, NY)

    _, events = contact_writes(state, closing.add(hours=167).in_timezone("UTC"), NY)

    assert reason_of(events) is AFTER


def test_the_same_instants_in_a_utc_account_are_still_within_a_week() -> None:
    state, _ = closed_at(BEFORE_SPRING_FORWARD, UTC)

    _, events = contact_writes(state, BEFORE_SPRING_FORWARD.add(hours=167), UTC)

    assert reason_of(events) is WITHIN


# ---------------------------------------------------------------- 48 hours vs 2 days

SATURDAY_NOON = pendulum.datetime(2026, 3, 7, 12, tz=NEW_YORK)
"""Two days before Monday noon, across the spring-forward night: 47 elapsed hours."""


@pytest.mark.parametrize(
    ("window", "hours"),
    [(CalendarDuration(hours=48), 48), (CalendarDuration(days=2), 47)],
    ids=["PT48H is 48 elapsed hours", "P2D is 47 elapsed hours"],
)
def test_across_spring_forward_48_hours_and_2_days_are_different_windows(
    window: CalendarDuration, hours: int
) -> None:
    settings = AccountSettings(timezone=NEW_YORK, reopen_window=window)
    state, _ = closed_at(SATURDAY_NOON, settings)
    boundary = SATURDAY_NOON.add(hours=hours)

    _, just_before = contact_writes(state, boundary - timedelta(seconds=1), settings)
    _, at_boundary = contact_writes(state, boundary, settings)

    assert reason_of(just_before) is WITHIN
    assert reason_of(at_boundary) is AFTER
    [reopened] = [event for event in at_boundary if isinstance(event, Reopened)]
    assert reopened.window_ends_at == boundary


def test_the_window_is_set_per_account() -> None:
    short = AccountSettings(reopen_window=CalendarDuration(hours=1))
    state, _ = closed_at(IN_UTC, short)

    _, events = contact_writes(state, IN_UTC.add(hours=2), short)

    assert reason_of(events) is AFTER


# ---------------------------------------------------------------- history


def test_the_version_counts_the_events_and_replaying_them_rebuilds_the_state() -> None:
    state, history = closed_at(BEFORE_SPRING_FORWARD, NY)
    state, more = contact_writes(state, BEFORE_SPRING_FORWARD.add(hours=167), NY)
    events = (*history, *more)

    assert state.version == len(events)
    assert replay(events) == state


def test_the_closing_time_is_kept_on_the_reopen_so_a_host_can_explain_it() -> None:
    state, _ = closed_at(BEFORE_FALL_BACK, NY)
    at = BEFORE_FALL_BACK.add(hours=169)

    _, events = contact_writes(state, at, NY)

    [reopened] = [event for event in events if isinstance(event, Reopened)]
    assert reopened.actor == REOPEN_RULE
    assert reopened.closed_at == BEFORE_FALL_BACK
    assert reopened.window_ends_at == at
    assert reopened.reason is AFTER


def test_in_the_repeated_hour_the_window_is_judged_by_instant_whatever_zone_the_clock_speaks() -> None:
    """Closed at 01:30 EDT the day before fall-back with a one-day window: the window ends at the second
    01:30 (06:30 UTC). A message at the first 01:45 (05:45 UTC) is within it, even when the clock reads it
    in New York time, where Python would compare wall clocks and see 01:45 > 01:30."""
    ny = "America/New_York"
    settings = AccountSettings(timezone=ny, reopen_window=CalendarDuration(days=1))
    cid, ana = ConversationId("c1"), UserId("ana")
    inbox = Inbox.multi_user(InboxId("i"), "I", frozenset({ana}))
    closed_at = pendulum.datetime(2026, 10, 31, 1, 30, tz=ny)
    state: Conversation | None = None
    for command in (
        ReceiveMessage(cid, inbox.id, ContactId("maria"), MessageId("m1"), "hi"),
        Assign(cid, ana, Actor.user(ana)),
        Close(cid, Actor.user(ana)),
    ):
        for event in decide(state, command, DecisionContext(closed_at, settings, inbox=inbox)):
            state = evolve(state, event)
    first_0145 = pendulum.datetime(2026, 11, 1, 5, 45, tz="UTC")
    for now in (first_0145, first_0145.in_timezone(ny)):
        message = ReceiveMessage(cid, inbox.id, ContactId("maria"), MessageId("m2"), "again")
        events = decide(state, message, DecisionContext(now, settings, inbox=inbox))
        assert [type(event) for event in events] == [MessageReceived, Reopened]
        reopened = events[1]
        assert isinstance(reopened, Reopened)
        assert reopened.reason is ReopenReason.CONTACT_WROTE_WITHIN_WINDOW


def test_every_instant_inside_is_utc() -> None:
    ny_noon = pendulum.datetime(2026, 3, 2, 12, tz="America/New_York")
    context = DecisionContext(ny_noon, inbox=Inbox.multi_user(InboxId("i"), "I", frozenset()))
    assert context.now.timezone_name == "UTC"
    assert context.now == ny_noon
    assert CalendarDuration(weeks=1).end(ny_noon, "America/New_York").timezone_name == "UTC"

"""Reopen timing.

DESIGN.md: "A closed conversation reopens automatically when the contact writes again. If the
message arrives within the reopen window after closing (default: one week), it returns to the users
who were assigned ("Yours"); after the window it reopens with no assignee ("Unassigned"). The window
is a calendar duration in the account's time zone (a week across a DST change is 167 or 169 hours),
set per account; the exact boundary instant counts as after the window."

The behaviour is two default rules, run by ``handle(state, command, context, DEFAULT_RULES)`` after
``decide`` has recorded the message. ``decide`` alone only records it: a closed conversation stays closed.

Events, all at the decision instant: ``MessageReceived`` by the contact; after the window (``closed_at
older_than`` the account's reopen window: the boundary instant is after), one ``Unassigned`` per assignee,
in id order, by the rule ``UNASSIGN_AFTER_WINDOW`` (priority 200, so while the conversation is still
closed); then ``Reopened(reason=BY_RULE, closed_at=...)`` by the rule ``REOPEN_ON_INBOUND``. The window's
end is not recorded on the event: it is ``settings.reopen_window.end(closed_at, settings.timezone)``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    CalendarDuration,
    ContactId,
    Conversation,
    ConversationId,
    Event,
    Inbox,
    InboxId,
    MessageId,
    MessageReceived,
    Reopened,
    ReopenReason,
    RuleId,
    Status,
    Unassigned,
    Unsnoozed,
    UserId,
)
from convostate.core import (
    Assign,
    Close,
    DecisionContext,
    ReceiveMessage,
    Reopen,
    decide,
    evolve,
    replay,
)
from convostate.rules import (
    DEFAULT_RULES,
    REOPEN_ON_INBOUND,
    UNASSIGN_AFTER_WINDOW,
    WAKE_WHEN_CONTACT_WRITES,
    RuleSet,
    handle,
)
from tests.builders import (
    ANA,
    BEN,
    CARA,
    CONVERSATION,
    DECIDE_ONLY,
    assign,
    by,
    close,
    context,
    inbound,
    reopen,
    run,
    single_user_inbox,
    snooze,
    step,
)

NEW_YORK = "America/New_York"
NY = AccountSettings(timezone=NEW_YORK)
UTC = AccountSettings(timezone="UTC")
WEEK = CalendarDuration(weeks=1)

WITHIN = "within the window: back to its assignees"
AFTER = "after the window: unassigned"
REOPEN_RULE = Actor.rule(REOPEN_ON_INBOUND)
UNASSIGN_RULE = Actor.rule(UNASSIGN_AFTER_WINDOW)
WITHOUT_THE_REOPEN_RULES = DEFAULT_RULES.without("reopen-on-inbound", "unassign-after-reopen-window")

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
    state: Conversation,
    at: pendulum.DateTime,
    settings: AccountSettings,
    *,
    rules: RuleSet | None = DEFAULT_RULES,
) -> tuple[Conversation, tuple[Event, ...]]:
    return step(state, inbound("Hi again", message_id="m-later"), context(at, settings=settings), rules=rules)


def outcome(events: tuple[Event, ...]) -> str:
    """WITHIN or AFTER, read from the events of the contact writing to a conversation closed with ana and
    cara assigned; any other shape of events fails the test."""
    message, *unassigned, reopened = events
    assert isinstance(message, MessageReceived)
    assert isinstance(reopened, Reopened)
    assert (reopened.actor, reopened.reason, reopened.at) == (REOPEN_RULE, ReopenReason.BY_RULE, message.at)
    if not unassigned:
        return WITHIN
    assert unassigned == [
        Unassigned(CONVERSATION, UNASSIGN_RULE, message.at, ANA),
        Unassigned(CONVERSATION, UNASSIGN_RULE, message.at, CARA),
    ]
    return AFTER


def assignees_after(result: str) -> frozenset[UserId]:
    return frozenset({ANA, CARA}) if result == WITHIN else frozenset()


# ---------------------------------------------------------------- within / after


def test_within_the_window_it_reopens_back_to_its_assignees() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(days=3)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert events[0].actor == Actor.contact(state.contact_id)
    assert events[1] == Reopened(CONVERSATION, REOPEN_RULE, at, ReopenReason.BY_RULE, IN_UTC)
    assert state.status is Status.OPEN
    assert state.closed_at is None
    assert state.assignees == {ANA, CARA}
    assert state.unread
    assert state.updated_at == at


def test_after_the_window_it_unassigns_everyone_one_event_per_assignee_in_id_order_then_reopens() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(days=10)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Unassigned, Unassigned, Reopened]
    assert events[1:] == (
        Unassigned(CONVERSATION, UNASSIGN_RULE, at, ANA),
        Unassigned(CONVERSATION, UNASSIGN_RULE, at, CARA),
        Reopened(CONVERSATION, REOPEN_RULE, at, ReopenReason.BY_RULE, IN_UTC),
    )
    assert state.status is Status.OPEN
    assert state.assignees == frozenset()


def test_after_the_window_the_assignees_are_removed_while_it_is_still_closed() -> None:
    """The unassign rule runs first (priority 200 over 100), so the history reads: the contact wrote, the
    stale conversation lost its assignees, and then it reopened, to Unassigned."""
    closed, history = closed_at(IN_UTC, UTC)

    _, events = contact_writes(closed, IN_UTC.add(days=10), UTC)

    before_the_reopen = replay((*history, *events[:-1]))
    assert before_the_reopen is not None
    assert before_the_reopen.status is Status.CLOSED
    assert before_the_reopen.assignees == frozenset()
    assert DEFAULT_RULES[UNASSIGN_AFTER_WINDOW].priority > DEFAULT_RULES[REOPEN_ON_INBOUND].priority


def test_after_the_window_with_nobody_assigned_there_is_nobody_to_unassign() -> None:
    state, _ = closed_at(IN_UTC, UTC, assignees=())
    at = IN_UTC.add(weeks=2)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert events[1] == Reopened(CONVERSATION, REOPEN_RULE, at, ReopenReason.BY_RULE, IN_UTC)
    assert state.assignees == frozenset()


def test_in_a_single_user_inbox_it_reopens_to_the_owner_after_the_window_too() -> None:
    line = context(IN_UTC, settings=UTC, inbox=single_user_inbox(ANA))
    state, _ = run([inbound(), close()], line)
    later = context(IN_UTC.add(weeks=2), settings=UTC, inbox=single_user_inbox(ANA))

    state, events = step(state, inbound("Hi again", message_id="m-later"), later)

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert state.status is Status.OPEN
    assert state.participants(single_user_inbox(ANA)) == {ANA}


def test_a_message_on_an_open_conversation_only_records_the_message() -> None:
    state, _ = run([inbound(), assign(ANA)], context(IN_UTC, settings=UTC))

    state, events = contact_writes(state, IN_UTC.add(weeks=3), UTC)

    assert [type(event) for event in events] == [MessageReceived]
    assert state.assignees == {ANA}


def test_a_user_reopening_keeps_the_assignees_even_long_after_the_window() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(weeks=5)

    state, events = step(state, reopen(actor=BEN), context(at, settings=UTC))

    assert events == (Reopened(CONVERSATION, by(BEN), at, ReopenReason.BY_USER, IN_UTC),)
    assert state.assignees == {ANA, CARA}


def test_a_rule_reopening_by_command_records_the_reason_by_rule() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    rule = Actor.rule(REOPEN_ON_INBOUND)

    _, events = step(state, Reopen(CONVERSATION, rule), context(IN_UTC.add(hours=1), settings=UTC))

    assert events == (Reopened(CONVERSATION, rule, IN_UTC.add(hours=1), ReopenReason.BY_RULE, IN_UTC),)


def test_the_reopen_reasons_say_who_reopened_it_not_when() -> None:
    assert set(ReopenReason) == {ReopenReason.BY_USER, ReopenReason.BY_RULE}


def test_the_default_window_is_one_week() -> None:
    assert AccountSettings().reopen_window == WEEK


def test_the_default_rule_ids_are_stable_because_stored_history_names_them() -> None:
    assert REOPEN_ON_INBOUND.value == "reopen-on-inbound"
    assert UNASSIGN_AFTER_WINDOW.value == "unassign-after-reopen-window"
    assert isinstance(REOPEN_ON_INBOUND, RuleId)
    assert isinstance(UNASSIGN_AFTER_WINDOW, RuleId)
    assert str(REOPEN_RULE) == "rule:reopen-on-inbound"
    assert str(UNASSIGN_RULE) == "rule:unassign-after-reopen-window"


def test_a_snoozed_closed_conversation_the_contact_writes_to_reopens_and_wakes() -> None:
    state, _ = closed_at(IN_UTC, UTC)
    state, _ = step(state, snooze(IN_UTC.add(days=5)), context(IN_UTC.add(minutes=1), settings=UTC))
    at = IN_UTC.add(days=3)

    state, events = contact_writes(state, at, UTC)

    assert [type(event) for event in events] == [MessageReceived, Reopened, Unsnoozed]
    assert events[1:] == (
        Reopened(CONVERSATION, REOPEN_RULE, at, ReopenReason.BY_RULE, IN_UTC),
        Unsnoozed(CONVERSATION, Actor.rule(WAKE_WHEN_CONTACT_WRITES), at),
    )
    assert state.status is Status.OPEN
    assert state.snoozed_until is None
    assert state.assignees == {ANA, CARA}


# ---------------------------------------------------------------- the behaviour is in the rules


@pytest.mark.parametrize("days", [3, 10], ids=["within the window", "after the window"])
def test_plain_decide_on_a_closed_conversation_only_records_the_message(days: int) -> None:
    state, _ = closed_at(IN_UTC, UTC)
    at = IN_UTC.add(days=days)
    message = inbound("Hi again", message_id="m-later")

    events = decide(state, message, context(at, settings=UTC))
    state, stepped = contact_writes(state, at, UTC, rules=DECIDE_ONLY)

    assert [type(event) for event in events] == [MessageReceived]
    assert stepped == events
    assert state.status is Status.CLOSED
    assert state.closed_at == IN_UTC
    assert state.assignees == {ANA, CARA}
    assert state.unread


@pytest.mark.parametrize("days", [3, 10], ids=["within the window", "after the window"])
def test_a_rule_set_without_the_default_reopen_rules_leaves_it_closed(days: int) -> None:
    state, _ = closed_at(IN_UTC, UTC)

    state, events = contact_writes(state, IN_UTC.add(days=days), UTC, rules=WITHOUT_THE_REOPEN_RULES)

    assert [type(event) for event in events] == [MessageReceived]
    assert state.status is Status.CLOSED
    assert state.assignees == {ANA, CARA}
    assert len(WITHOUT_THE_REOPEN_RULES) == len(DEFAULT_RULES) - 2


def test_without_the_unassign_rule_it_reopens_to_its_assignees_even_after_the_window() -> None:
    rules = DEFAULT_RULES.without(UNASSIGN_AFTER_WINDOW)
    state, _ = closed_at(IN_UTC, UTC)

    state, events = contact_writes(state, IN_UTC.add(days=10), UTC, rules=rules)

    assert outcome(events) == WITHIN
    assert state.assignees == {ANA, CARA}


# ---------------------------------------------------------------- the boundary in UTC


@pytest.mark.parametrize(
    ("elapsed", "result"),
    [
        (timedelta(days=7) - timedelta(microseconds=1), WITHIN),
        (timedelta(days=7), AFTER),
        (timedelta(days=7, microseconds=1), AFTER),
    ],
    ids=["one microsecond before", "the boundary instant", "one microsecond after"],
)
def test_utc_a_week_is_168_hours_and_the_boundary_instant_counts_as_after(
    elapsed: timedelta, result: str
) -> None:
    state, _ = closed_at(IN_UTC, UTC)

    state, events = contact_writes(state, IN_UTC + elapsed, UTC)

    assert outcome(events) == result
    assert state.assignees == assignees_after(result)
    assert state.status is Status.OPEN


# ---------------------------------------------------------------- across daylight-saving changes


def test_spring_forward_the_window_ends_the_next_thursday_at_noon_167_hours_later() -> None:
    ends = WEEK.end(BEFORE_SPRING_FORWARD, NEW_YORK)

    assert ends == pendulum.datetime(2026, 3, 12, 12, tz=NEW_YORK)
    assert ends - BEFORE_SPRING_FORWARD == timedelta(hours=167)
    assert ends.timezone_name == "UTC"


@pytest.mark.parametrize(
    ("elapsed", "result"),
    [
        (timedelta(hours=166, minutes=59, seconds=59), WITHIN),
        (timedelta(hours=167), AFTER),
        (timedelta(hours=168), AFTER),
    ],
    ids=["166h59m59s: within", "167h, the boundary: after", "168h, a naive week: after"],
)
def test_spring_forward_a_week_is_167_hours(elapsed: timedelta, result: str) -> None:
    state, _ = closed_at(BEFORE_SPRING_FORWARD, NY)

    state, events = contact_writes(state, BEFORE_SPRING_FORWARD + elapsed, NY)

    assert outcome(events) == result
    assert state.assignees == assignees_after(result)


def test_fall_back_the_window_ends_the_next_thursday_at_noon_169_hours_later() -> None:
    ends = WEEK.end(BEFORE_FALL_BACK, NEW_YORK)

    assert ends == pendulum.datetime(2026, 11, 5, 12, tz=NEW_YORK)
    assert ends - BEFORE_FALL_BACK == timedelta(hours=169)
    assert ends.timezone_name == "UTC"


@pytest.mark.parametrize(
    ("elapsed", "result"),
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
def test_fall_back_a_week_is_169_hours(elapsed: timedelta, result: str) -> None:
    state, _ = closed_at(BEFORE_FALL_BACK, NY)

    state, events = contact_writes(state, BEFORE_FALL_BACK + elapsed, NY)

    assert outcome(events) == result
    assert state.assignees == assignees_after(result)


@pytest.mark.parametrize(
    ("closing", "settings"),
    [
        (BEFORE_SPRING_FORWARD, NY),
        (BEFORE_FALL_BACK, NY),
        (BEFORE_SPRING_FORWARD, UTC),
        (BEFORE_FALL_BACK, AccountSettings(timezone="Europe/London", reopen_window=CalendarDuration(days=3))),
    ],
    ids=["NY spring forward", "NY fall back", "UTC", "London, three days"],
)
def test_the_rules_end_the_window_where_calendar_duration_end_says(
    closing: pendulum.DateTime, settings: AccountSettings
) -> None:
    state, _ = closed_at(closing, settings)
    ends = settings.end_of(settings.reopen_window, closing)

    _, just_before = contact_writes(state, ends - timedelta(seconds=1), settings)
    _, at_the_end = contact_writes(state, ends, settings)

    assert outcome(just_before) == WITHIN
    assert outcome(at_the_end) == AFTER


def test_the_window_is_measured_on_the_accounts_wall_clock_whatever_zone_the_times_are_in() -> None:
    closing = BEFORE_SPRING_FORWARD.in_timezone("Asia/Tokyo")
    state, _ = closed_at(closing, NY)

    _, events = contact_writes(state, closing.add(hours=167).in_timezone("UTC"), NY)

    assert outcome(events) == AFTER


def test_the_same_instants_in_a_utc_account_are_still_within_a_week() -> None:
    state, _ = closed_at(BEFORE_SPRING_FORWARD, UTC)

    _, events = contact_writes(state, BEFORE_SPRING_FORWARD.add(hours=167), UTC)

    assert outcome(events) == WITHIN


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

    assert outcome(just_before) == WITHIN
    assert outcome(at_boundary) == AFTER
    assert window.end(SATURDAY_NOON, NEW_YORK) == boundary


def test_the_window_is_set_per_account() -> None:
    short = AccountSettings(reopen_window=CalendarDuration(hours=1))
    state, _ = closed_at(IN_UTC, short)

    _, events = contact_writes(state, IN_UTC.add(hours=2), short)

    assert outcome(events) == AFTER


# ---------------------------------------------------------------- history


def test_the_version_counts_the_events_and_replaying_them_rebuilds_the_state() -> None:
    state, history = closed_at(BEFORE_SPRING_FORWARD, NY)
    state, more = contact_writes(state, BEFORE_SPRING_FORWARD.add(hours=167), NY)
    events = (*history, *more)

    assert outcome(more) == AFTER
    assert state.version == len(events)
    assert replay(events) == state


def test_the_closing_time_is_kept_on_the_reopen_so_a_host_can_explain_it() -> None:
    state, _ = closed_at(BEFORE_FALL_BACK, NY)
    at = BEFORE_FALL_BACK.add(hours=169)

    _, events = contact_writes(state, at, NY)

    reopened = events[-1]
    assert isinstance(reopened, Reopened)
    assert reopened.actor == REOPEN_RULE
    assert reopened.reason is ReopenReason.BY_RULE
    assert reopened.closed_at == BEFORE_FALL_BACK
    assert NY.end_of(NY.reopen_window, reopened.closed_at) == at
    assert {event.actor for event in events if isinstance(event, Unassigned)} == {UNASSIGN_RULE}


def test_in_the_repeated_hour_the_window_is_judged_by_instant_whatever_zone_the_clock_speaks() -> None:
    """Closed at 01:30 EDT the day before fall-back with a one-day window: the window ends at the second
    01:30 (06:30 UTC). A message at the first 01:45 (05:45 UTC) is within it, even when the clock reads it
    in New York time, where Python would compare wall clocks and see 01:45 > 01:30."""
    ny = "America/New_York"
    settings = AccountSettings(timezone=ny, reopen_window=CalendarDuration(days=1))
    cid, ana = ConversationId("c1"), UserId("ana")
    inbox = Inbox.multi_user(InboxId("i"), "I", frozenset({ana}))
    closing = pendulum.datetime(2026, 10, 31, 1, 30, tz=ny)
    state: Conversation | None = None
    for command in (
        ReceiveMessage(cid, inbox.id, ContactId("maria"), MessageId("m1"), "hi"),
        Assign(cid, ana, Actor.user(ana)),
        Close(cid, Actor.user(ana)),
    ):
        for event in decide(state, command, DecisionContext(closing, settings, inbox=inbox)):
            state = evolve(state, event)
    assert state is not None
    assert settings.end_of(settings.reopen_window, closing) == pendulum.datetime(2026, 11, 1, 6, 30, tz="UTC")
    first_0145 = pendulum.datetime(2026, 11, 1, 5, 45, tz="UTC")
    for now in (first_0145, first_0145.in_timezone(ny)):
        message = ReceiveMessage(cid, inbox.id, ContactId("maria"), MessageId("m2"), "again")
        handled = handle(state, message, DecisionContext(now, settings, inbox=inbox), DEFAULT_RULES)
        assert [type(event) for event in handled.events] == [MessageReceived, Reopened]
        assert handled.state is not None
        assert handled.state.assignees == {ana}


def test_every_instant_inside_is_utc() -> None:
    ny_noon = pendulum.datetime(2026, 3, 2, 12, tz="America/New_York")
    ctx = DecisionContext(ny_noon, inbox=Inbox.multi_user(InboxId("i"), "I", frozenset()))
    assert ctx.now.timezone_name == "UTC"
    assert ctx.now == ny_noon
    assert WEEK.end(ny_noon, "America/New_York").timezone_name == "UTC"

    state, history = closed_at(BEFORE_SPRING_FORWARD, NY)
    state, more = contact_writes(state, BEFORE_SPRING_FORWARD.add(days=10), NY)
    reopened = more[-1]
    assert isinstance(reopened, Reopened)

    instants = [event.at for event in (*history, *more)]
    instants += [reopened.closed_at, state.started_at, state.updated_at, state.last_activity_at]
    assert {instant.timezone_name for instant in instants} == {"UTC"}
    assert reopened.closed_at == BEFORE_SPRING_FORWARD

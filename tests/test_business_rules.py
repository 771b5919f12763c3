"""Business time in settings and rules: a reopen window or a rule's delay may count only the hours the team
is at work (``BusinessDuration``, ``business:PT24H`` in data), on the inbox's calendar or the account's.
Timers derived from one fall due exactly when the calendar says; ``explain`` shows the instant.
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    CalendarDuration,
    ContactId,
    Conversation,
    ConversationId,
    Helpdesk,
    Inbox,
    InboxId,
    InvalidInput,
    MessageId,
    Role,
    Status,
    UserId,
)
from convostate.codec import from_data, from_json, to_data, to_json
from convostate.core import (
    Assign,
    BusinessDuration,
    BusinessHours,
    Close,
    Command,
    DecisionContext,
    ReceiveMessage,
    SendReply,
    add_business_time,
)
from convostate.rules import (
    DEFAULT_RULES,
    Action,
    AfterTime,
    InvalidRules,
    OnEvent,
    Rule,
    RuleSet,
    Timer,
    all_of,
    explain,
    fire_timer,
    handle,
    rules_from_json,
    rules_from_toml,
    rules_to_json,
    timers,
    vocabulary,
    when,
)
from convostate.testing import ManualClock, SequentialIds

LONDON = "Europe/London"
SHOP = BusinessHours(
    LONDON,
    dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:30"),
    holidays=[date(2026, 4, 3), date(2026, 4, 6)],  # Good Friday, Easter Monday
)
NIGHTS = BusinessHours(LONDON, dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "22:00-06:00"))
ANA = UserId("ana")
SUPPORT = Inbox.multi_user(InboxId("support"), "Support", frozenset({ANA}))
CONV, MARIA = ConversationId("c1"), ContactId("maria")
SETTINGS = AccountSettings(timezone=LONDON, business_hours=SHOP)

REMIND = Rule(
    "nudge-after-a-business-day",
    AfterTime("last_inbound_at", "business:PT8H30M"),
    (Action.star(),),
    all_of(when("status", "eq", "open"), when("waiting_on", "eq", "team"), when("starred_by", "is_empty")),
)
RULES = DEFAULT_RULES.with_rules(REMIND)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(year, month, day, hour, minute, tz=LONDON)


def run(
    state: Conversation | None,
    command: Command,
    now: pendulum.DateTime,
    settings: AccountSettings = SETTINGS,
    rules: RuleSet = RULES,
    inbox: Inbox = SUPPORT,
) -> Conversation:
    handled = handle(state, command, DecisionContext(now, settings, inbox=inbox), rules)
    assert handled.state is not None
    return handled.state


def inbound(n: int) -> ReceiveMessage:
    return ReceiveMessage(CONV, SUPPORT.id, MARIA, MessageId(f"m{n}"), "hello")


# ---------------------------------------------------------------- the value


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("business:PT24H", BusinessDuration(hours=24)),
        ("business:PT1H30M", BusinessDuration(hours=1, minutes=30)),
        ("business:PT45S", BusinessDuration(seconds=45)),
        ("business:PT0S", BusinessDuration()),
    ],
)
def test_a_business_duration_reads_and_writes_its_data_form(text: str, duration: BusinessDuration) -> None:
    assert BusinessDuration.parse(text) == duration
    assert BusinessDuration.parse(text.removeprefix("business:")) == duration
    assert str(duration) == text


@pytest.mark.parametrize("text", ["business:P1D", "business:P1W", "business:24h", "business:", "P1DT2H", 24])
def test_a_business_duration_is_hours_minutes_and_seconds(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"not a business duration.*business:PT8H"):
        BusinessDuration.parse(text)


def test_a_business_duration_is_refused_past_a_century_or_below_zero() -> None:
    with pytest.raises(InvalidInput, match="at most 100 years"):
        BusinessDuration(hours=24 * 366 * 101)
    with pytest.raises(InvalidInput, match=">= 0"):
        BusinessDuration(hours=-1)


# ---------------------------------------------------------------- settings


def test_a_business_reopen_window_needs_business_hours() -> None:
    with pytest.raises(InvalidInput, match="has no business hours; set business_hours"):
        AccountSettings(reopen_window=BusinessDuration(hours=24))
    settings = AccountSettings(reopen_window=BusinessDuration(hours=24), business_hours=SHOP)
    assert settings.end_of(settings.reopen_window, london(2026, 3, 6, 17)) == london(2026, 3, 11, 15, 30)


def test_settings_and_inboxes_with_business_hours_round_trip_through_the_codec() -> None:
    settings = AccountSettings(timezone=LONDON, reopen_window=BusinessDuration(hours=16), business_hours=SHOP)
    assert to_data(settings)["reopen_window"] == "business:PT16H"
    assert to_data(settings)["business_hours"]["holidays"] == ["2026-04-03", "2026-04-06"]
    assert from_json(to_json(settings), AccountSettings) == settings
    assert "business_hours" not in to_data(AccountSettings())  # documents written before read the same
    inbox = attrs.evolve(SUPPORT, business_hours=NIGHTS)
    assert from_data(to_data(inbox), Inbox) == inbox
    with pytest.raises(InvalidInput, match="not a business duration"):
        from_data({**to_data(settings), "reopen_window": "business:P1D"}, AccountSettings)


def test_a_business_reopen_window_sends_a_late_message_to_unassigned() -> None:
    settings = AccountSettings(timezone=LONDON, reopen_window=BusinessDuration(hours=8), business_hours=SHOP)
    closed_at = london(2026, 4, 2, 16, 0)  # Thursday before Easter: 1.5 hours left that day
    state = run(None, inbound(1), closed_at, settings)
    state = run(state, Assign(CONV, ANA, Actor.user(ANA)), closed_at, settings)
    state = run(state, Close(CONV, Actor.user(ANA)), closed_at, settings)
    ends = london(2026, 4, 7, 15, 30)  # Good Friday and Easter Monday are holidays: Tuesday 15:30
    assert settings.end_of(settings.reopen_window, closed_at) == ends

    within = run(state, inbound(2), ends.subtract(seconds=1), settings)
    assert within.status is Status.OPEN
    assert within.assignees == {ANA}
    after = run(state, inbound(2), ends, settings)
    assert after.status is Status.OPEN
    assert after.assignees == frozenset()


# ---------------------------------------------------------------- rules


def test_a_timer_from_a_business_delay_falls_due_when_the_calendar_says() -> None:
    friday_evening = london(2026, 3, 6, 19, 0)
    state = run(None, inbound(1), friday_evening)
    context = DecisionContext(friday_evening, SETTINGS, inbox=SUPPORT)
    monday_close = london(2026, 3, 9, 17, 30)
    assert timers(state, RULES, context) == (Timer(REMIND.id, monday_close),)
    assert add_business_time(SHOP, friday_evening, timedelta(hours=8, minutes=30)) == monday_close


def test_an_inbox_calendar_overrides_the_accounts() -> None:
    night_desk = attrs.evolve(SUPPORT, business_hours=NIGHTS)
    friday_evening = london(2026, 3, 6, 19, 0)
    state = run(None, inbound(1), friday_evening, inbox=night_desk)
    context = DecisionContext(friday_evening, SETTINGS, inbox=night_desk)
    # Friday 22:00 to Saturday 06:00 is 8 hours; 30 more minutes on Monday night.
    assert timers(state, RULES, context) == (Timer(REMIND.id, london(2026, 3, 9, 22, 30)),)


def test_a_business_delay_without_any_calendar_is_refused_when_it_is_used() -> None:
    no_calendar = AccountSettings(timezone=LONDON)
    state = run(None, inbound(1), london(2026, 3, 6, 19), no_calendar)
    context = DecisionContext(london(2026, 3, 6, 19), no_calendar, inbox=SUPPORT)
    with pytest.raises(InvalidInput, match="neither the account nor the inbox support has business hours"):
        timers(state, RULES, context)


def test_explain_shows_business_time_and_the_instant_it_ends() -> None:
    late = Rule(
        "unassign-after-a-business-day",
        OnEvent("MessageReceived"),
        (Action.unassign(),),
        when("closed_at", "older_than", "business:PT8H30M"),
    )
    closed_at = london(2026, 3, 6, 12, 0)
    state = run(None, inbound(1), closed_at)
    state = run(state, Close(CONV, Actor.user(ANA)), closed_at)
    context = DecisionContext(london(2026, 3, 9, 16, 0), SETTINGS, inbox=SUPPORT)
    [received] = handle(state, inbound(2), context, RuleSet(())).events
    [verdict] = explain(state, received, context, RuleSet((late,)))
    assert verdict.reasons == (
        "closed_at older_than business:PT8H30M (business time: ends 2026-03-09 12:00 GMT) holds: "
        "it is 2026-03-06 12:00 GMT",
    )


def test_business_delays_read_and_write_as_rules_data() -> None:
    snooze = Rule(
        "snooze-vip-for-a-business-hour",
        AfterTime("last_inbound_at", "PT0S"),
        (Action.snooze("business:PT1H"),),
        all_of(when("contact.tags", "contains", "vip"), when("snoozed", "eq", False)),
    )
    rules = RuleSet((REMIND, snooze))
    text = rules_to_json(rules)
    assert '"after": "business:PT8H30M"' in text
    assert '"for": "business:PT1H"' in text
    assert rules_from_json(text) == rules
    toml = """
[[rules]]
id = "late"
trigger = { after = "business:PT24H", field = "last_inbound_at" }
conditions = { field = "closed_at", op = "within", value = "business:PT2H" }
actions = [{ do = "close" }]
"""
    [late] = rules_from_toml(toml)
    assert isinstance(late.trigger, AfterTime)
    assert late.trigger.delay == BusinessDuration(hours=24)
    with pytest.raises(InvalidRules, match=r"rules\[0\].trigger.after.*not a business duration"):
        rules_from_json(
            '{"rules": [{"id": "x", "trigger": {"after": "business:P1D", "field": "closed_at"}, '
            '"actions": [{"do": "close"}]}]}'
        )
    assert "business:PT24H" in vocabulary()["durations"]


def test_a_business_snooze_wakes_at_the_next_working_hour() -> None:
    snooze = Rule(
        "snooze-for-a-business-hour",
        AfterTime("last_outbound_at", "PT0S"),
        (Action.snooze("business:PT1H"),),
        when("snoozed", "eq", False),
    )
    friday_evening = london(2026, 3, 6, 19, 0)
    state = run(None, inbound(1), friday_evening, rules=RuleSet((snooze,)))
    state = run(
        state,
        SendReply(CONV, MessageId("r1"), "on it", Actor.user(ANA)),
        friday_evening,
        rules=RuleSet((snooze,)),
    )
    context = DecisionContext(friday_evening, SETTINGS, inbox=SUPPORT)
    [timer] = timers(state, RuleSet((snooze,)), context)
    fired = fire_timer(state, timer, context, RuleSet((snooze,)))
    assert fired.state is not None
    assert fired.state.snoozed_until == london(2026, 3, 9, 10, 0)


# ---------------------------------------------------------------- the facade


def test_the_helpdesk_runs_a_business_time_rule_when_it_is_due() -> None:
    clock = ManualClock(london(2026, 3, 6, 19, 0))
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds(), rules=RULES)
    admin = helpdesk.add_user("Ana Lima", "ana@example.com", role=Role.ADMIN).id
    helpdesk.update_settings(by=admin, timezone=LONDON, business_hours=SHOP)
    support = helpdesk.add_inbox("Support", members=[admin], by=admin).id
    maria = helpdesk.add_contact(name="Maria").id
    conversation = helpdesk.receive(maria, support, "Is the shop open on Saturday?").conversation.id
    helpdesk.assign(conversation, admin, by=admin)

    clock.set(london(2026, 3, 9, 17, 29))
    helpdesk.run_due()
    assert admin not in helpdesk.conversation(conversation).starred_by
    clock.set(london(2026, 3, 9, 17, 30))
    helpdesk.run_due()
    assert admin in helpdesk.conversation(conversation).starred_by

    with pytest.raises(InvalidInput, match="has no business hours"):
        helpdesk.update_settings(by=admin, business_hours=None, reopen_window=BusinessDuration(hours=8))
    helpdesk.update_settings(
        by=admin, business_hours=None
    )  # the rule now has no calendar: refused where used
    with pytest.raises(InvalidInput, match="business:PT8H30M counts business time, but neither the account"):
        helpdesk.receive(maria, support, "Hello?")
    assert len(helpdesk.history(conversation)) == 4  # the refused message changed nothing
    helpdesk.update_settings(by=admin, business_hours=SHOP)
    night = helpdesk.set_business_hours(support, NIGHTS, by=admin)
    assert night.business_hours == NIGHTS
    assert helpdesk.settings().reopen_window == CalendarDuration(weeks=1)

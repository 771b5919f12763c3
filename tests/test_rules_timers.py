"""Durable timers: a time rule's deadline is data kept with the conversation and indexed by the store, so a
sweep (``due`` and ``run_due``) touches only what is due, oldest first, acts once however often or from
however many workers it runs, and records what a punctual sweep would have recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pendulum
import pytest

from convostate import (
    Actor,
    Closed,
    ContactId,
    ConversationId,
    DueTimer,
    Helpdesk,
    InboxId,
    MemoryStore,
    MessageReceived,
    Reopened,
    Role,
    RuleId,
    Status,
    Sweep,
    Unassigned,
    UserId,
)
from convostate._service.timers import TIMER_CLAIM
from convostate.rules import (
    DEFAULT_RULES,
    WAKE_WHEN_SNOOZE_ENDS,
    Action,
    AfterTime,
    OnEvent,
    Rule,
    RuleSet,
    all_of,
    when,
)
from convostate.testing import ManualClock, SequentialIds
from tests.helpdesk_builders import RacingStore

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
ANA = UserId("user-2")

AUTO_CLOSE = RuleId("auto-close-after-silence")
AUTO_CLOSING = DEFAULT_RULES.with_rules(
    Rule(
        AUTO_CLOSE,
        AfterTime("last_outbound_at", "PT24H"),
        (Action.close(),),
        all_of(when("status", "eq", "open"), when("waiting_on", "eq", "contact")),
        description="Closed after 24 hours with no reply from the contact.",
    )
)


@dataclass(frozen=True)
class Desk:
    helpdesk: Helpdesk
    store: MemoryStore
    clock: ManualClock
    support: InboxId


def build(rules: RuleSet = AUTO_CLOSING, store: MemoryStore | None = None) -> Desk:
    clock, store = ManualClock(START), store if store is not None else MemoryStore()
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds(), rules=rules)
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    assert helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id == ANA
    support = helpdesk.add_inbox("Support", members=[ANA], by=admin).id
    return Desk(helpdesk, store, clock, support)


def waiting_on_contact(desk: Desk, name: str = "Maria") -> ConversationId:
    """A new conversation the team has replied to now: it auto-closes 24 hours from now."""
    contact = desk.helpdesk.add_contact(name=name).id
    conversation = desk.helpdesk.receive(contact, desk.support, "Hello").conversation.id
    desk.helpdesk.reply(conversation, "How can we help?", by=ANA)
    return conversation


def contact_of(desk: Desk, conversation: ConversationId) -> ContactId:
    return desk.helpdesk.conversation(conversation).contact_id


def staggered(desk: Desk, count: int) -> list[ConversationId]:
    """``count`` conversations replied to an hour apart: their deadlines are an hour apart too."""
    conversations = []
    for n in range(count):
        conversations.append(waiting_on_contact(desk, f"Contact {n}"))
        desk.clock.advance(hours=1)
    return conversations


# ---------------------------------------------------------------- due


def test_due_lists_what_is_due_oldest_first() -> None:
    desk = build()
    first, second, third = staggered(desk, 3)

    due = desk.helpdesk.due(START.add(days=2))

    assert due == [
        DueTimer(START.add(hours=24), first, AUTO_CLOSE),
        DueTimer(START.add(hours=25), second, AUTO_CLOSE),
        DueTimer(START.add(hours=26), third, AUTO_CLOSE),
    ]


def test_due_lists_only_timers_due_by_then() -> None:
    desk = build()
    first, second, _ = staggered(desk, 3)

    assert desk.helpdesk.due(START.add(hours=23, minutes=59)) == []
    assert [timer.conversation_id for timer in desk.helpdesk.due(START.add(hours=24))] == [first]
    assert [timer.conversation_id for timer in desk.helpdesk.due(START.add(hours=25, minutes=30))] == [
        first,
        second,
    ]


def test_due_is_limited_to_the_oldest() -> None:
    desk = build()
    first, second, _, _ = staggered(desk, 4)

    due = desk.helpdesk.due(START.add(days=5), limit=2)

    assert [timer.conversation_id for timer in due] == [first, second]


def test_due_defaults_to_the_clocks_now() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)
    desk.clock.advance(hours=24)

    assert [timer.conversation_id for timer in desk.helpdesk.due()] == [conversation]


def test_timers_due_at_the_same_instant_are_ordered_by_conversation() -> None:
    desk = build()
    conversations = [waiting_on_contact(desk, f"Contact {n}") for n in range(3)]

    due = desk.helpdesk.due(START.add(days=1))

    assert [timer.conversation_id for timer in due] == sorted(conversations, key=lambda cid: cid.value)
    assert {timer.due_at for timer in due} == {START.add(days=1)}


# ---------------------------------------------------------------- run_due


def test_run_due_acts_only_on_what_is_due() -> None:
    desk = build()
    first, second, third = staggered(desk, 3)

    sweep = desk.helpdesk.run_due(START.add(hours=25))

    assert [outcome.conversation.id for outcome in sweep.acted] == [first, second]
    assert desk.helpdesk.conversation(third).status is Status.OPEN
    assert [timer.conversation_id for timer in desk.helpdesk.due(START.add(days=5))] == [third]


def test_run_due_acts_oldest_first() -> None:
    desk = build()
    conversations = staggered(desk, 4)

    sweep = desk.helpdesk.run_due(START.add(days=3))

    assert [outcome.conversation.id for outcome in sweep.acted] == conversations
    assert desk.helpdesk.due(START.add(days=3)) == []


def test_run_due_works_through_more_than_a_batch() -> None:
    desk = build()
    conversations = staggered(desk, 7)

    sweep = desk.helpdesk.run_due(START.add(days=3), batch=2)

    assert [outcome.conversation.id for outcome in sweep.acted] == conversations


def test_running_it_twice_acts_once() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)
    desk.clock.advance(days=2)

    first = desk.helpdesk.run_due()
    before = desk.store.dump()
    second = desk.helpdesk.run_due()

    assert len(first.acted) == 1
    assert second.acted == ()
    assert second.stuck == ()
    assert desk.store.dump() == before
    closes = [entry for entry in desk.helpdesk.history(conversation) if isinstance(entry.event, Closed)]
    assert len(closes) == 1


def test_two_workers_sharing_a_store_act_once() -> None:
    store = MemoryStore()
    desk = build(store=store)
    conversations = staggered(desk, 3)
    other_worker = Helpdesk(store=store, clock=desk.clock, rules=AUTO_CLOSING)
    desk.clock.advance(days=3)

    mine = desk.helpdesk.run_due()
    theirs = other_worker.run_due()

    assert len(mine.acted) == 3
    assert theirs.acted == ()
    for conversation in conversations:
        closes = [entry for entry in desk.helpdesk.history(conversation) if isinstance(entry.event, Closed)]
        assert len(closes) == 1


def test_a_worker_that_loses_the_race_re_decides_to_nothing() -> None:
    store = RacingStore()
    desk = build(store=store)
    conversation = waiting_on_contact(desk)
    other_worker = Helpdesk(store=store, clock=desk.clock, rules=AUTO_CLOSING)
    desk.clock.advance(days=2)
    theirs: list[Sweep] = []
    # This worker's claim has run out by the time the other sweeps (it was too slow), so both fire the
    # timer: the version check, not the claim, keeps the close from happening twice.
    late = desk.clock.now() + TIMER_CLAIM + pendulum.duration(minutes=1)
    store.rival = lambda: theirs.append(other_worker.run_due(late))

    mine = desk.helpdesk.run_due()

    assert store.conflicts_raised == 1  # this worker's first save was stale
    assert mine.acted == ()
    assert mine.stuck == ()
    (their_sweep,) = theirs
    closes = [entry for entry in desk.helpdesk.history(conversation) if isinstance(entry.event, Closed)]
    assert len(closes) == 1
    assert desk.helpdesk.conversation(conversation).status is Status.CLOSED
    assert desk.helpdesk.due(START.add(days=30)) == []
    assert [outcome.conversation.status for outcome in their_sweep.acted] == [Status.CLOSED]


def test_a_worker_that_loses_the_race_to_a_user_re_checks_the_fresh_state() -> None:
    store = RacingStore()
    desk = build(store=store)
    conversation = waiting_on_contact(desk)
    desk.clock.advance(days=2)
    store.rival = lambda: desk.helpdesk.receive(
        contact_of(desk, conversation), desk.support, "Sorry, I was away"
    )

    sweep = desk.helpdesk.run_due()

    assert store.conflicts_raised == 1
    assert sweep.acted == ()
    assert desk.helpdesk.conversation(conversation).status is Status.OPEN


# ---------------------------------------------------------------- stamped at the due instant


def _scenario(sweep_at: pendulum.DateTime) -> Desk:
    desk = build()
    staggered(desk, 2)
    desk.clock.set(sweep_at)
    desk.helpdesk.run_due()
    return desk


def test_a_timers_events_are_stamped_at_the_instant_it_was_due() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)
    desk.clock.advance(days=5)

    (outcome,) = desk.helpdesk.run_due().acted

    (closed,) = outcome.events
    assert closed.at == START.add(hours=24)
    assert outcome.conversation.closed_at == START.add(hours=24)
    assert desk.helpdesk.history(conversation)[-1].event == closed


def test_a_late_sweep_records_what_a_punctual_one_would() -> None:
    punctual = _scenario(START.add(hours=26))
    late = _scenario(START.add(days=9, hours=7))

    for conversation in (ConversationId("conversation-1"), ConversationId("conversation-2")):
        assert late.helpdesk.history(conversation) == punctual.helpdesk.history(conversation)
        assert late.helpdesk.conversation(conversation) == punctual.helpdesk.conversation(conversation)


def test_a_late_sweep_keeps_the_reopen_window_counting_from_the_due_instant() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.clock.advance(days=7)  # swept six days late: closed at START + 1 day, not now
    desk.helpdesk.run_due()
    desk.clock.set(START.add(days=8, seconds=-1))  # within a week of the due instant

    outcome = desk.helpdesk.receive(contact_of(desk, conversation), desk.support, "Back again")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == {ANA}
    assert [type(event) for event in outcome.events] == [MessageReceived, Reopened]


def test_a_sweep_at_an_earlier_instant_than_the_clock_acts_as_of_then() -> None:
    desk = build()
    first, second = staggered(desk, 2)
    desk.clock.advance(days=5)

    sweep = desk.helpdesk.run_due(START.add(hours=24, minutes=30))

    assert [outcome.conversation.id for outcome in sweep.acted] == [first]
    assert desk.helpdesk.conversation(second).status is Status.OPEN


# ---------------------------------------------------------------- timers follow every change


def test_a_reply_moves_the_auto_close_deadline() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)
    assert desk.helpdesk.due(START.add(days=30)) == [DueTimer(START.add(hours=24), conversation, AUTO_CLOSE)]

    desk.clock.advance(hours=5)
    desk.helpdesk.receive(contact_of(desk, conversation), desk.support, "It is still broken")
    assert desk.helpdesk.due(START.add(days=30)) == []  # waiting on the team: no deadline

    desk.clock.advance(hours=1)
    desk.helpdesk.reply(conversation, "Try this", by=ANA)
    assert desk.helpdesk.due(START.add(days=30)) == [DueTimer(START.add(hours=30), conversation, AUTO_CLOSE)]

    desk.clock.advance(hours=2)
    desk.helpdesk.reply(conversation, "And this", by=ANA)
    assert desk.helpdesk.due(START.add(days=30)) == [DueTimer(START.add(hours=32), conversation, AUTO_CLOSE)]

    desk.clock.set(START.add(hours=31))
    assert desk.helpdesk.run_due().acted == ()
    desk.clock.set(START.add(hours=32))
    assert len(desk.helpdesk.run_due().acted) == 1


def test_closing_by_hand_cancels_the_deadline() -> None:
    desk = build()
    conversation = waiting_on_contact(desk)

    desk.helpdesk.close(conversation, by=ANA)

    assert desk.helpdesk.due(START.add(days=30)) == []


def test_snoozing_again_moves_the_wake_up() -> None:
    desk = build(DEFAULT_RULES)
    contact = desk.helpdesk.add_contact(name="Maria").id
    conversation = desk.helpdesk.receive(contact, desk.support, "Hello").conversation.id
    desk.helpdesk.snooze(conversation, START.add(days=1), by=ANA)
    assert desk.helpdesk.due(START.add(days=9)) == [
        DueTimer(START.add(days=1), conversation, WAKE_WHEN_SNOOZE_ENDS)
    ]

    desk.helpdesk.snooze(conversation, START.add(days=3), by=ANA)

    assert desk.helpdesk.due(START.add(days=9)) == [
        DueTimer(START.add(days=3), conversation, WAKE_WHEN_SNOOZE_ENDS)
    ]
    desk.helpdesk.unsnooze(conversation, by=ANA)
    assert desk.helpdesk.due(START.add(days=9)) == []


def test_changing_the_rules_of_a_helpdesk_does_not_need_a_migration_of_timers_for_new_changes() -> None:
    store = MemoryStore()
    desk = build(DEFAULT_RULES, store=store)
    conversation = waiting_on_contact(desk)
    assert desk.helpdesk.due(START.add(days=30)) == []

    restarted = Helpdesk(store=store, clock=desk.clock, ids=SequentialIds(), rules=AUTO_CLOSING)
    restarted.reply(conversation, "Anything else?", by=ANA)

    assert restarted.due(START.add(days=30)) == [DueTimer(START.add(hours=24), conversation, AUTO_CLOSE)]


# ---------------------------------------------------------------- rules that do not settle


def test_a_time_rule_whose_action_changes_nothing_is_reported_stuck() -> None:
    never = RuleId("reopen-open-conversations")
    desk = build(
        DEFAULT_RULES.with_rules(
            Rule(
                never, AfterTime("last_inbound_at", "PT1H"), (Action.reopen(),), when("status", "eq", "open")
            )
        )
    )
    contact = desk.helpdesk.add_contact(name="Maria").id
    conversation = desk.helpdesk.receive(contact, desk.support, "Hello").conversation.id
    desk.clock.advance(hours=2)

    sweep = desk.helpdesk.run_due()

    assert sweep.acted == ()
    (stuck,) = sweep.stuck
    assert stuck.timer == DueTimer(START.add(hours=1), conversation, never)
    assert str(never) in stuck.reason
    assert desk.helpdesk.run_due().stuck == sweep.stuck  # reported again, never looped on


def test_a_ping_pong_pair_of_time_rules_is_reported_stuck_not_looped_forever() -> None:
    close, reopen = RuleId("close-unread-an-hour-after"), RuleId("reopen-unread-an-hour-after")
    unread = when("unread", "eq", True)
    desk = build(
        AUTO_CLOSING.with_rules(
            Rule(
                close,
                AfterTime("last_inbound_at", "PT1H"),
                (Action.close(),),
                all_of(unread, when("status", "eq", "open")),
            ),
            Rule(
                reopen,
                AfterTime("last_inbound_at", "PT1H"),
                (Action.reopen(),),
                all_of(unread, when("status", "eq", "closed")),
            ),
        )
    )
    contact = desk.helpdesk.add_contact(name="Maria").id
    conversation = desk.helpdesk.receive(contact, desk.support, "Hello").conversation.id
    other = waiting_on_contact(desk, "Nico")  # read when Ana replied: only the auto-close applies
    desk.clock.advance(days=2)

    sweep = desk.helpdesk.run_due()

    assert sweep.stuck
    assert {stuck.timer.conversation_id for stuck in sweep.stuck} == {conversation}
    assert {stuck.timer.rule_id for stuck in sweep.stuck} <= {close, reopen}
    assert all("loop" in stuck.reason or "still matches" in stuck.reason for stuck in sweep.stuck)
    flips = [outcome for outcome in sweep.acted if outcome.conversation.id == conversation]
    assert len(flips) <= desk.helpdesk.max_rule_depth
    assert desk.helpdesk.conversation(other).status is Status.CLOSED  # the sweep went on
    assert len(desk.helpdesk.run_due().acted) <= desk.helpdesk.max_rule_depth  # and the next one ends too


def test_a_time_rule_that_sets_off_a_loop_of_event_rules_is_reported_stuck_and_the_sweep_goes_on() -> None:
    close = RuleId("close-an-hour-after")
    looping = AUTO_CLOSING.with_rules(
        Rule(
            close,
            AfterTime("last_inbound_at", "PT1H"),
            (Action.close(),),
            all_of(when("status", "eq", "open"), when("contact.name", "eq", "Maria")),
        ),
        Rule("reopen-on-close", OnEvent("Closed"), (Action.reopen(),), when("contact.name", "eq", "Maria")),
        Rule("close-on-reopen", OnEvent("Reopened"), (Action.close(),), when("contact.name", "eq", "Maria")),
    )
    desk = build(looping)
    contact = desk.helpdesk.add_contact(name="Maria").id
    looped = desk.helpdesk.receive(contact, desk.support, "Hello").conversation.id
    desk.clock.advance(hours=1)
    later = waiting_on_contact(desk, "Nico")  # due a day later than the looping one
    before = desk.helpdesk.history(looped)
    desk.clock.advance(days=2)

    sweep = desk.helpdesk.run_due()

    assert [stuck.timer for stuck in sweep.stuck] == [DueTimer(START.add(hours=1), looped, close)]
    assert "reopen-on-close" in sweep.stuck[0].reason or "close-on-reopen" in sweep.stuck[0].reason
    assert desk.helpdesk.history(looped) == before
    assert [outcome.conversation.id for outcome in sweep.acted] == [later]
    assert desk.helpdesk.conversation(later).status is Status.CLOSED


@pytest.mark.parametrize("limit", [0, -1])
def test_due_refuses_a_limit_below_one(limit: int) -> None:
    desk = build()

    with pytest.raises(ValueError, match="limit must be at least 1"):
        desk.helpdesk.due(limit=limit)


def test_timers_are_kept_per_rule() -> None:
    idle = RuleId("unassign-when-idle")
    rules = AUTO_CLOSING.with_rules(
        Rule(
            idle,
            AfterTime("last_activity_at", "PT12H"),
            (Action.unassign(),),
            when("assignee_count", "gt", 0),
        )
    )
    desk = build(rules)
    conversation = waiting_on_contact(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)

    assert desk.helpdesk.due(START.add(days=1)) == [
        DueTimer(START.add(hours=12), conversation, idle),
        DueTimer(START.add(hours=24), conversation, AUTO_CLOSE),
    ]
    desk.clock.set(START.add(days=1))
    sweep = desk.helpdesk.run_due()
    assert [[type(event) for event in outcome.events] for outcome in sweep.acted] == [[Unassigned], [Closed]]
    assert sweep.acted[0].events[0].actor == Actor.rule(idle)
    assert sweep.acted[0].events[0].at == START.add(hours=12)
    assert sweep.acted[1].events[0].at == START.add(hours=24)


def test_a_timer_that_a_sweep_creates_acts_at_its_own_instant_before_later_ones() -> None:
    """Closing by rule snoozes for 12 hours: the wake-up, due before the other timers of the conversation
    that the sweep had already listed, still acts first and at its own instant, as a punctual sweep would."""
    rules = AUTO_CLOSING.with_rules(
        Rule(
            "unassign-when-idle",
            AfterTime("last_activity_at", "P2D"),
            (Action.unassign(),),
            all_of(when("status", "eq", "open"), when("assignee_count", "gt", 0)),
        ),
        Rule(
            "unstar-a-day-after-closing",
            AfterTime("closed_at", "P1D"),
            (Action.unstar(),),
            all_of(when("status", "eq", "closed"), when("starred_by", "is_not_empty")),
        ),
        Rule(
            "snooze-what-a-rule-closed",
            OnEvent("Closed"),
            (Action.snooze("PT12H"),),
            when("event.actor", "eq", "rule"),
        ),
    )
    desk = build(rules)
    conversation = waiting_on_contact(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.helpdesk.star(conversation, by=ANA)
    desk.clock.set(START.add(days=2))

    desk.helpdesk.run_due()

    by_rules = [
        (type(entry.event).__name__, entry.event.at)
        for entry in desk.helpdesk.history(conversation)
        if entry.actor.kind.value == "rule"
    ]
    assert by_rules == [
        ("Closed", START.add(days=1)),
        ("Snoozed", START.add(days=1)),
        ("Unsnoozed", START.add(days=1, hours=12)),
        ("MarkedUnread", START.add(days=1, hours=12)),
        ("Unstarred", START.add(days=2)),
    ]

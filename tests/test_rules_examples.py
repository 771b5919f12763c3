"""One example per behaviour the rules engine was built for, each written as a rule in code and run through
the ``Helpdesk`` facade on a manual clock with sequential ids.

The account: an admin (Alex), agents Ana and Ben who are the members of Support, Olga who is a member of
no inbox, and a contact, Maria. Ids are sequential, so rules written before the account exists can name
its users: ``user-2`` is Ana, ``user-3`` is Ben, ``user-4`` is Olga.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path

import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    Assigned,
    CalendarDuration,
    Closed,
    ContactId,
    ConversationId,
    Helpdesk,
    InboxId,
    InvalidInput,
    MemoryStore,
    Message,
    MessageId,
    MessageReceived,
    Reopened,
    Role,
    RuleId,
    RuleLoop,
    Snoozed,
    Starred,
    Status,
    Tab,
    Unassigned,
    Unsnoozed,
    UserId,
)
from convostate._core.events import MarkedUnread
from convostate._core.model import Direction
from convostate.core import DecisionContext
from convostate.rules import (
    DEFAULT_RULES,
    REOPEN_ON_INBOUND,
    REOPEN_WINDOW,
    UNASSIGN_AFTER_WINDOW,
    WAKE_WHEN_CONTACT_WRITES,
    WAKE_WHEN_SNOOZE_ENDS,
    Action,
    AfterTime,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    all_of,
    explain,
    when,
)
from convostate.testing import ManualClock, SequentialIds

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
"""A Monday morning, in the account's time zone (UTC)."""

ANA, BEN, OLGA = UserId("user-2"), UserId("user-3"), UserId("user-4")


@dataclass(frozen=True)
class Desk:
    helpdesk: Helpdesk
    store: MemoryStore
    clock: ManualClock
    admin: UserId
    support: InboxId
    maria: ContactId


def build(rules: RuleSet = DEFAULT_RULES) -> Desk:
    clock, store = ManualClock(START), MemoryStore()
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds(), rules=rules)
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    users = [
        helpdesk.add_user(name, f"{name.split()[0].lower()}@example.com", by=admin).id
        for name in ("Ana Lima", "Ben Okafor", "Olga Petrova")
    ]
    assert users == [ANA, BEN, OLGA]
    support = helpdesk.add_inbox("Support", members=[ANA, BEN], by=admin).id
    maria = helpdesk.add_contact(name="Maria Lopez").id
    return Desk(helpdesk, store, clock, admin, support, maria)


def start_conversation(desk: Desk, contact: ContactId | None = None, body: str = "Hello") -> ConversationId:
    return desk.helpdesk.receive(contact or desk.maria, desk.support, body).conversation.id


def closed_while_assigned_to_ana(desk: Desk) -> ConversationId:
    conversation = start_conversation(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.helpdesk.close(conversation, by=ANA)
    return conversation


# ---------------------------------------------------------------- a 48-hour reopen window

FORTY_EIGHT_HOURS_IN_CODE = DEFAULT_RULES.with_rules(
    Rule(
        UNASSIGN_AFTER_WINDOW,
        OnEvent("MessageReceived"),
        (Action.unassign("all"),),
        all_of(when("status", "eq", "closed"), when("closed_at", "older_than", "PT48H")),
        priority=200,
        description="The contact wrote 48 hours or more after closing: it goes to Unassigned.",
    )
)


def _with_48_hour_window(how: str) -> Desk:
    """A 48-hour window, either as the account's setting (the default rules read it) or in the rule."""
    if how == "setting":
        desk = build()
        desk.helpdesk.update_settings(by=desk.admin, reopen_window=CalendarDuration(hours=48))
        return desk
    return build(FORTY_EIGHT_HOURS_IN_CODE)


@pytest.mark.parametrize("how", ["setting", "rule"])
def test_48_hour_window_a_reply_just_inside_it_returns_to_the_assignees(how: str) -> None:
    desk = _with_48_hour_window(how)
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(hours=47, minutes=59, seconds=59)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "Still broken")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == {ANA}
    assert conversation in [c.id for c in desk.helpdesk.tab(ANA, Tab.ASSIGNED_TO_YOU).conversations]
    assert [type(event) for event in outcome.events] == [MessageReceived, Reopened]
    assert outcome.events[-1].actor == Actor.rule(REOPEN_ON_INBOUND)


@pytest.mark.parametrize("how", ["setting", "rule"])
def test_48_hour_window_a_reply_at_48_hours_goes_to_unassigned(how: str) -> None:
    desk = _with_48_hour_window(how)
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(hours=48)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "Still broken")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == frozenset()
    assert conversation in [c.id for c in desk.helpdesk.tab(ANA, Tab.UNASSIGNED).conversations]
    assert [(type(event), event.actor) for event in outcome.events] == [
        (MessageReceived, Actor.contact(desk.maria)),
        (Unassigned, Actor.rule(UNASSIGN_AFTER_WINDOW)),
        (Reopened, Actor.rule(REOPEN_ON_INBOUND)),
    ]


# ---------------------------------------------------------------- a linked follow-up after the window

FOLLOW_UP = RuleId("follow-up-after-window")
FOLLOW_UPS = (
    DEFAULT_RULES.without(UNASSIGN_AFTER_WINDOW)
    .with_rules(
        Rule(
            FOLLOW_UP,
            OnEvent("MessageReceived"),
            (Action.open_linked_conversation(),),
            all_of(when("status", "eq", "closed"), when("closed_at", "older_than", REOPEN_WINDOW)),
            priority=300,
            description="The contact wrote after the reopen window: a new conversation follows this one up.",
        )
    )
    .with_rules(
        Rule(
            REOPEN_ON_INBOUND,
            OnEvent("MessageReceived"),
            (Action.reopen(),),
            all_of(when("status", "eq", "closed"), when("closed_at", "within", REOPEN_WINDOW)),
            priority=100,
            description="The contact wrote within the reopen window: it reopens, with whoever is assigned.",
        )
    )
)


def test_after_the_window_a_new_linked_conversation_follows_up_and_the_old_one_stays_closed() -> None:
    desk = build(FOLLOW_UPS)
    old = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=9)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "It broke again")

    assert outcome.conversation.id == old
    assert outcome.conversation.status is Status.CLOSED
    assert outcome.conversation.assignees == {ANA}  # the old one is left as it was
    (follow_up,) = outcome.follow_ups
    new = follow_up.conversation
    assert new.id != old
    assert new.linked_from == old
    assert new.status is Status.OPEN
    assert new.assignees == frozenset()
    assert new.unread
    (message,) = [event.message for event in follow_up.events if isinstance(event, MessageReceived)]
    assert message.body == "It broke again"
    assert message.direction is Direction.INBOUND
    assert desk.helpdesk.store.conversation_between(desk.maria, desk.support) == new.id
    assert [entry.summary for entry in desk.helpdesk.history(old)][-1] == "Maria Lopez wrote 'It broke again'"

    old_history = desk.helpdesk.history(old)

    nxt = desk.helpdesk.receive(desk.maria, desk.support, "Anyone there?")

    assert nxt.conversation.id == new.id
    assert nxt.follow_ups == ()
    assert desk.helpdesk.history(old) == old_history
    assert desk.helpdesk.conversation(old).status is Status.CLOSED


def test_within_the_window_the_follow_up_rules_reopen_as_before() -> None:
    desk = build(FOLLOW_UPS)
    old = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=6)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "It broke again")

    assert outcome.follow_ups == ()
    assert outcome.conversation.id == old
    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == {ANA}


def test_two_rules_that_open_a_follow_up_for_the_same_message_open_one() -> None:
    desk = build(
        FOLLOW_UPS.with_rules(
            Rule(
                "also-follow-up-after-window",
                OnEvent("MessageReceived"),
                (Action.open_linked_conversation(),),
                all_of(when("status", "eq", "closed"), when("closed_at", "older_than", REOPEN_WINDOW)),
                priority=250,
            )
        )
    )
    old = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=9)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "It broke again")

    new = desk.helpdesk.store.conversation_between(desk.maria, desk.support)
    assert new is not None
    assert new != old
    assert desk.helpdesk.conversation(new).linked_from == old
    bodies = [
        entry.event.message.body
        for entry in desk.helpdesk.history(new)
        if isinstance(entry.event, MessageReceived)
    ]
    assert bodies == ["It broke again"]
    assert {follow_up.conversation.id for follow_up in outcome.follow_ups} == {new}


def test_a_rule_that_opens_a_follow_up_for_every_message_is_a_loop_that_changes_nothing() -> None:
    always = RuleId("always-follow-up")
    desk = build(RuleSet((Rule(always, OnEvent("MessageReceived"), (Action.open_linked_conversation(),)),)))
    before = desk.store.dump()

    with pytest.raises(RuleLoop, match=str(always)):
        desk.helpdesk.receive(desk.maria, desk.support, "Hello")

    assert desk.store.dump() == before


# ---------------------------------------------------------------- auto-close after a day of silence

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


def test_a_day_of_silence_from_the_contact_closes_the_conversation() -> None:
    desk = build(AUTO_CLOSING)
    conversation = start_conversation(desk)
    desk.clock.advance(minutes=5)
    desk.helpdesk.reply(conversation, "Have you tried turning it off and on?", by=ANA)
    replied_at = desk.clock.now()

    desk.clock.advance(hours=23, minutes=59, seconds=59)
    assert desk.helpdesk.due() == []
    assert desk.helpdesk.run_due().acted == ()
    assert desk.helpdesk.conversation(conversation).status is Status.OPEN

    desk.clock.advance(seconds=1)
    sweep = desk.helpdesk.run_due()

    (outcome,) = sweep.acted
    assert outcome.conversation.status is Status.CLOSED
    (closed,) = outcome.events
    assert isinstance(closed, Closed)
    assert closed.actor == Actor.rule(AUTO_CLOSE)
    assert closed.at == replied_at.add(hours=24)
    assert sweep.stuck == ()


def test_a_reply_from_the_contact_before_the_deadline_cancels_the_auto_close() -> None:
    desk = build(AUTO_CLOSING)
    conversation = start_conversation(desk)
    desk.helpdesk.reply(conversation, "Can you send a photo?", by=ANA)
    desk.clock.advance(hours=23)
    desk.helpdesk.receive(desk.maria, desk.support, "Here it is")

    desk.clock.advance(days=30)

    assert desk.helpdesk.due() == []
    assert desk.helpdesk.run_due().acted == ()
    assert desk.helpdesk.conversation(conversation).status is Status.OPEN


def test_an_auto_closed_conversation_reopens_when_the_contact_writes() -> None:
    desk = build(AUTO_CLOSING)
    conversation = start_conversation(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.helpdesk.reply(conversation, "Fixed?", by=ANA)
    desk.clock.advance(hours=25)
    desk.helpdesk.run_due()
    desk.clock.advance(hours=1)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "Not quite")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == {ANA}
    assert desk.helpdesk.due() == []  # waiting on the team now: no auto-close until the next reply


# ---------------------------------------------------------------- auto-unassign after N idle days

AUTO_UNASSIGN = RuleId("auto-unassign-when-idle")


def _auto_unassign_after(days: int) -> RuleSet:
    return DEFAULT_RULES.with_rules(
        Rule(
            AUTO_UNASSIGN,
            AfterTime("last_activity_at", f"P{days}D"),
            (Action.unassign("all"),),
            all_of(when("status", "eq", "open"), when("assignee_count", "gt", 0)),
            description=f"No message for {days} days: back to Unassigned.",
        )
    )


@pytest.mark.parametrize("days", [1, 3])
def test_a_conversation_idle_for_n_days_is_unassigned(days: int) -> None:
    desk = build(_auto_unassign_after(days))
    conversation = start_conversation(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.helpdesk.assign(conversation, BEN, by=ANA)
    started = desk.clock.now()

    desk.clock.advance(days=days, seconds=-1)
    assert desk.helpdesk.run_due().acted == ()
    desk.clock.advance(days=1)
    (outcome,) = desk.helpdesk.run_due().acted

    assert outcome.conversation.assignees == frozenset()
    assert outcome.conversation.status is Status.OPEN
    assert [(type(event), event.actor, event.at) for event in outcome.events] == [
        (Unassigned, Actor.rule(AUTO_UNASSIGN), started.add(days=days)),
        (Unassigned, Actor.rule(AUTO_UNASSIGN), started.add(days=days)),
    ]
    assert conversation in [c.id for c in desk.helpdesk.tab(ANA, Tab.UNASSIGNED).conversations]


def test_activity_moves_the_idle_deadline() -> None:
    desk = build(_auto_unassign_after(3))
    conversation = start_conversation(desk)
    desk.helpdesk.assign(conversation, ANA, by=ANA)
    desk.clock.advance(days=2)
    desk.helpdesk.reply(conversation, "Still on it", by=ANA)

    desk.clock.advance(days=2)
    assert desk.helpdesk.run_due().acted == ()
    desk.clock.advance(days=1)
    assert len(desk.helpdesk.run_due().acted) == 1
    assert desk.helpdesk.conversation(conversation).assignees == frozenset()


def test_an_unassigned_or_closed_conversation_is_left_alone() -> None:
    desk = build(_auto_unassign_after(1))
    unassigned = start_conversation(desk)
    closed = start_conversation(desk, desk.helpdesk.add_contact(name="Nico").id)
    desk.helpdesk.assign(closed, ANA, by=ANA)
    desk.helpdesk.close(closed, by=ANA)
    desk.clock.advance(days=5)

    assert desk.helpdesk.run_due().acted == ()
    assert desk.helpdesk.conversation(unassigned).assignees == frozenset()
    assert desk.helpdesk.conversation(closed).assignees == {ANA}


# ---------------------------------------------------------------- snooze


def test_a_snooze_ends_at_its_time_and_the_conversation_wakes_unread() -> None:
    desk = build()
    conversation = start_conversation(desk)
    desk.helpdesk.mark_read(conversation, by=ANA)
    wake_at = START.add(days=1, hours=3)
    desk.helpdesk.snooze(conversation, wake_at, by=ANA)

    desk.clock.set(wake_at.subtract(seconds=1))
    assert desk.helpdesk.run_due().acted == ()
    assert desk.helpdesk.conversation(conversation).snoozed_until == wake_at

    desk.clock.set(wake_at.add(hours=2))
    sweep = desk.helpdesk.run_due()

    (outcome,) = sweep.acted
    assert outcome.conversation.snoozed_until is None
    assert outcome.conversation.unread
    assert [(type(event), event.actor, event.at) for event in outcome.events] == [
        (Unsnoozed, Actor.rule(WAKE_WHEN_SNOOZE_ENDS), wake_at),
        (MarkedUnread, Actor.rule(WAKE_WHEN_SNOOZE_ENDS), wake_at),
    ]
    assert desk.helpdesk.badges(ANA).all_open.unread == 1


def test_a_snooze_ends_when_the_contact_writes() -> None:
    desk = build()
    conversation = start_conversation(desk)
    desk.helpdesk.snooze(conversation, START.add(days=3), by=ANA)
    desk.clock.advance(hours=5)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "Any news?")

    assert outcome.conversation.snoozed_until is None
    assert outcome.conversation.unread
    assert outcome.events[-1] == Unsnoozed(
        conversation, Actor.rule(WAKE_WHEN_CONTACT_WRITES), desk.clock.now()
    )
    desk.clock.advance(days=5)
    assert desk.helpdesk.due() == []  # the snooze's timer went with it
    assert desk.helpdesk.run_due().acted == ()


SNOOZE_ON_HOLD = RuleId("snooze-on-hold")


def test_a_rule_snoozes_and_the_default_rules_wake_it() -> None:
    desk = build(
        DEFAULT_RULES.with_rules(
            Rule(
                SNOOZE_ON_HOLD,
                OnEvent("MessageSent"),
                (Action.snooze("P1D"),),
                when("event.body", "contains", "#hold"),
                description="A reply tagged #hold snoozes it for a day.",
            )
        )
    )
    conversation = start_conversation(desk)

    outcome = desk.helpdesk.reply(conversation, "Waiting on the warehouse #HOLD", by=ANA)

    assert outcome.conversation.snoozed_until == START.add(days=1)
    assert next(e for e in outcome.events if isinstance(e, Snoozed)).actor == Actor.rule(SNOOZE_ON_HOLD)
    desk.clock.advance(days=1)
    (woken,) = desk.helpdesk.run_due().acted
    assert woken.conversation.snoozed_until is None
    assert woken.events[0].actor == Actor.rule(WAKE_WHEN_SNOOZE_ENDS)


# ---------------------------------------------------------------- round-robin assignment

ROUND_ROBIN = RuleId("round-robin")


def _round_robin(*users: UserId) -> RuleSet:
    return DEFAULT_RULES.with_rules(
        Rule(
            ROUND_ROBIN,
            OnEvent("ConversationStarted"),
            (Action.assign_round_robin([user.value for user in users]),),
            description="New conversations go to the team in turn.",
        )
    )


def _new_conversations(desk: Desk, count: int) -> list[frozenset[UserId]]:
    assignees = []
    for n in range(count):
        contact = desk.helpdesk.add_contact(name=f"Contact {n}").id
        conversation = start_conversation(desk, contact)
        assignees.append(desk.helpdesk.conversation(conversation).assignees)
    return assignees


def test_round_robin_assigns_new_conversations_in_turn() -> None:
    desk = build(_round_robin(ANA, BEN))

    assert _new_conversations(desk, 5) == [{ANA}, {BEN}, {ANA}, {BEN}, {ANA}]


def test_round_robin_records_the_rule_as_who_assigned() -> None:
    desk = build(_round_robin(ANA, BEN))
    contact = desk.helpdesk.add_contact(name="Nico").id

    outcome = desk.helpdesk.receive(contact, desk.support, "Hi")

    assert outcome.conversation.assignees == {ANA}
    assert outcome.events[-1] == Assigned(outcome.conversation.id, Actor.rule(ROUND_ROBIN), START, ANA)
    assert desk.helpdesk.history(outcome.conversation.id)[-1].actor == Actor.rule(ROUND_ROBIN)


def test_round_robin_in_a_single_user_inbox_assigns_nobody_and_takes_no_turn() -> None:
    desk = build(_round_robin(ANA, BEN))
    line = desk.helpdesk.add_single_user_inbox("Ana's line", owner=ANA, by=desk.admin).id

    outcome = desk.helpdesk.receive(desk.maria, line, "Hi")

    assert outcome.conversation.assignees == frozenset()
    assert _new_conversations(desk, 2) == [{ANA}, {BEN}]


def test_round_robin_skips_a_user_who_is_not_a_member() -> None:
    desk = build(_round_robin(ANA, OLGA, BEN))

    assert _new_conversations(desk, 4) == [{ANA}, {BEN}, {ANA}, {BEN}]


def test_round_robin_leaves_later_messages_alone() -> None:
    desk = build(_round_robin(ANA, BEN))
    conversation = start_conversation(desk)

    desk.helpdesk.receive(desk.maria, desk.support, "And another thing")

    assert desk.helpdesk.conversation(conversation).assignees == {ANA}


# ---------------------------------------------------------------- a star for VIP contacts

STAR_VIPS = RuleId("star-vips")
VIP_STARS = DEFAULT_RULES.with_rules(
    Rule(
        STAR_VIPS,
        OnEvent("Assigned"),
        (Action.star("assignees"),),
        when("contact.tags", "contains", "vip"),
        description="A VIP's conversation is starred for whoever is assigned.",
    )
)


def _add_contact(desk: Desk, name: str, tags: list[str]) -> ContactId:
    return desk.helpdesk.add_contact(name=name, tags=tags).id


def test_a_vip_contacts_conversation_is_starred_for_its_assignees() -> None:
    desk = build(VIP_STARS)
    vera = _add_contact(desk, "Vera", ["vip", "wholesale"])
    conversation = start_conversation(desk, vera)

    outcome = desk.helpdesk.assign(conversation, ANA, by=BEN)

    assert outcome.conversation.starred_by == {ANA}
    assert outcome.events[-1] == Starred(conversation, Actor.rule(STAR_VIPS), START, ANA)
    assert [c.id for c in desk.helpdesk.tab(ANA, Tab.STARRED).conversations] == [conversation]
    desk.helpdesk.assign(conversation, BEN, by=BEN)
    assert desk.helpdesk.conversation(conversation).starred_by == {ANA, BEN}


def test_other_contacts_are_not_starred() -> None:
    desk = build(VIP_STARS)
    other = _add_contact(desk, "Nico", ["wholesale"])
    conversation = start_conversation(desk, other)

    outcome = desk.helpdesk.assign(conversation, ANA, by=BEN)

    assert outcome.conversation.starred_by == frozenset()
    assert desk.helpdesk.tab(ANA, Tab.STARRED).conversations == ()


# ---------------------------------------------------------------- history names the rule and why


def test_history_names_the_default_rules_and_gives_their_descriptions() -> None:
    desk = build()
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=8)
    desk.helpdesk.receive(desk.maria, desk.support, "It broke again")

    *_, received, unassigned, reopened = desk.helpdesk.history(conversation)

    assert received.actor == Actor.contact(desk.maria)
    assert unassigned.actor == Actor.rule(UNASSIGN_AFTER_WINDOW)
    assert reopened.actor == Actor.rule(REOPEN_ON_INBOUND)
    for entry, rule_id in ((unassigned, UNASSIGN_AFTER_WINDOW), (reopened, REOPEN_ON_INBOUND)):
        description = DEFAULT_RULES[rule_id].description
        assert f"rule {rule_id}" in entry.summary
        assert description[1:].rstrip(".") in entry.summary, entry.summary
    assert "Ana Lima" in unassigned.summary


def test_history_of_a_rule_in_code_gives_its_description() -> None:
    desk = build(AUTO_CLOSING)
    conversation = start_conversation(desk)
    desk.helpdesk.reply(conversation, "Done!", by=ANA)
    desk.clock.advance(days=2)
    desk.helpdesk.run_due()

    closed = desk.helpdesk.history(conversation)[-1]

    assert closed.actor == Actor.rule(AUTO_CLOSE)
    assert closed.summary == (
        "rule auto-close-after-silence closed it (assigned: nobody) "
        "(closed after 24 hours with no reply from the contact)"
    )


# ---------------------------------------------------------------- explain


def _message(conversation: ConversationId, contact: ContactId, at: pendulum.DateTime) -> MessageReceived:
    message = Message(
        MessageId("m-new"), conversation, Direction.INBOUND, Actor.contact(contact), "It broke again", at
    )
    return MessageReceived(conversation, Actor.contact(contact), at, message)


def test_explain_says_which_default_rules_a_message_after_the_window_would_trigger_and_why() -> None:
    desk = build()
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=8)
    state = desk.helpdesk.conversation(conversation)
    context = DecisionContext(desk.clock.now(), AccountSettings(), inbox=desk.helpdesk.inbox(desk.support))

    message = _message(conversation, desk.maria, desk.clock.now())
    verdicts = {verdict.rule_id: verdict for verdict in explain(state, message, context, DEFAULT_RULES)}

    assert set(verdicts) == {rule.id for rule in DEFAULT_RULES}
    unassign, reopen = verdicts[UNASSIGN_AFTER_WINDOW], verdicts[REOPEN_ON_INBOUND]
    assert unassign.matched
    assert unassign.reasons == (
        "status eq 'closed' holds: it is 'closed'",
        "closed_at older_than reopen_window (P1W) holds: it is 2026-03-02 09:00 UTC",
    )
    assert reopen.matched
    assert reopen.reasons == ("status eq 'closed' holds: it is 'closed'",)
    woken = verdicts[WAKE_WHEN_CONTACT_WRITES]
    assert not woken.matched
    assert woken.reasons == ("snoozed eq True does not hold: it is False",)
    timed = verdicts[WAKE_WHEN_SNOOZE_ENDS]
    assert not timed.matched
    assert "runs on time" in timed.reasons[0]


def test_explain_says_why_the_unassign_rule_does_not_match_within_the_window() -> None:
    desk = build()
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=6)
    state = desk.helpdesk.conversation(conversation)
    context = DecisionContext(desk.clock.now(), AccountSettings(), inbox=desk.helpdesk.inbox(desk.support))

    message = _message(conversation, desk.maria, desk.clock.now())
    (unassign,) = [
        verdict
        for verdict in explain(state, message, context, DEFAULT_RULES)
        if verdict.rule_id == UNASSIGN_AFTER_WINDOW
    ]

    assert not unassign.matched
    assert unassign.reasons[1] == (
        "closed_at older_than reopen_window (P1W) does not hold: it is 2026-03-02 09:00 UTC"
    )


def test_helpdesk_explain_covers_every_rule_and_says_why_for_a_hypothetical_message() -> None:
    desk = build(DEFAULT_RULES.enabled(WAKE_WHEN_CONTACT_WRITES, False))
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=8)

    latest = {v.rule_id: v for v in desk.helpdesk.explain(conversation)}
    hypothetical = {
        v.rule_id: v
        for v in desk.helpdesk.explain(conversation, _message(conversation, desk.maria, desk.clock.now()))
    }

    assert not any(verdict.matched for verdict in latest.values())  # its latest event is the Closed
    assert latest[REOPEN_ON_INBOUND].reasons == ("it runs on MessageReceived, not Closed",)
    assert hypothetical[REOPEN_ON_INBOUND].matched
    assert hypothetical[UNASSIGN_AFTER_WINDOW].matched
    assert hypothetical[WAKE_WHEN_CONTACT_WRITES].reasons == ("the rule is disabled",)


def test_explain_gives_a_reason_for_every_condition_of_nested_trees() -> None:
    desk = build()
    conversation = start_conversation(desk, body="URGENT: refund please")
    rules = RuleSet(
        (
            Rule(
                "urgent-unassigned",
                OnEvent("MessageReceived"),
                (Action.star(ANA.value),),
                all_of(
                    when("event.body", "contains", "urgent"),
                    Not(when("assignee_count", "gt", 0)),
                    when("contact.name", "eq", "Someone else"),
                ),
            ),
        )
    )
    state = desk.helpdesk.conversation(conversation)
    event = desk.helpdesk.store.events(conversation)[-1]
    context = DecisionContext(START, AccountSettings(), inbox=desk.helpdesk.inbox(desk.support))

    (verdict,) = explain(state, event, context, rules, contact=desk.helpdesk.contact(desk.maria))

    assert not verdict.matched
    assert verdict.reasons == (
        "event.body contains 'urgent' holds: it is 'URGENT: refund please'",
        "not (assignee_count gt 0 does not hold: it is 0)",
        "contact.name eq 'Someone else' does not hold: it is 'Maria Lopez'",
    )


# ---------------------------------------------------------------- the loop guard

REOPEN_ON_CLOSE, CLOSE_ON_REOPEN = RuleId("reopen-on-close"), RuleId("close-on-reopen")
TOGGLING = DEFAULT_RULES.with_rules(
    Rule(REOPEN_ON_CLOSE, OnEvent("Closed"), (Action.reopen(),)),
    Rule(CLOSE_ON_REOPEN, OnEvent("Reopened"), (Action.close(),)),
)


def test_two_rules_that_toggle_each_other_raise_rule_loop_naming_both_and_change_nothing() -> None:
    desk = build(TOGGLING)
    conversation = start_conversation(desk)
    before = desk.store.dump()

    with pytest.raises(RuleLoop) as raised:
        desk.helpdesk.close(conversation, by=ANA)

    assert str(REOPEN_ON_CLOSE) in str(raised.value)
    assert str(CLOSE_ON_REOPEN) in str(raised.value)
    assert set(raised.value.chain) == {REOPEN_ON_CLOSE, CLOSE_ON_REOPEN}
    assert desk.store.dump() == before
    assert desk.helpdesk.conversation(conversation).status is Status.OPEN


def test_a_loop_set_off_by_a_round_robin_assignment_also_changes_nothing() -> None:
    desk = build(
        _round_robin(ANA).with_rules(
            Rule("unassign-on-assign", OnEvent("Assigned"), (Action.unassign("all"),)),
            Rule("assign-on-unassign", OnEvent("Unassigned"), (Action.assign(ANA.value),)),
        )
    )
    before = desk.store.dump()

    with pytest.raises(RuleLoop, match="unassign-on-assign"):
        desk.helpdesk.receive(desk.maria, desk.support, "Hello")

    assert desk.store.dump() == before
    assert desk.helpdesk.store.conversation_between(desk.maria, desk.support) is None


def test_the_depth_limit_is_a_setting_of_the_helpdesk() -> None:
    chain = DEFAULT_RULES.with_rules(
        Rule("star-ana-on-close", OnEvent("Closed"), (Action.star(ANA.value),)),
        Rule("star-ben-on-star", OnEvent("Starred"), (Action.star(BEN.value),)),
    )
    shallow = build(chain)
    shallow.helpdesk.max_rule_depth = 1
    conversation = start_conversation(shallow)

    with pytest.raises(RuleLoop, match="star-ana-on-close -> star-ben-on-star"):
        shallow.helpdesk.close(conversation, by=ANA)

    deep = build(chain)
    conversation = start_conversation(deep)
    assert deep.helpdesk.close(conversation, by=ANA).conversation.starred_by == {ANA, BEN}


# ---------------------------------------------------------------- a time rule must settle


def test_a_time_rule_that_cannot_stop_matching_is_refused_when_built() -> None:
    with pytest.raises(InvalidInput) as raised:
        Rule("read-after-an-hour", AfterTime("last_inbound_at", "PT1H"), (Action.mark_read(),))

    message = str(raised.value)
    assert "rule read-after-an-hour" in message
    assert "must change something it depends on" in message
    assert "['last_inbound_at']" in message
    assert "['unread']" in message


def test_the_same_time_rule_with_a_condition_its_action_changes_is_accepted() -> None:
    rule = Rule(
        "read-after-an-hour",
        AfterTime("last_inbound_at", "PT1H"),
        (Action.mark_read(),),
        when("unread", "eq", True),
    )

    assert rule.trigger == AfterTime("last_inbound_at", "PT1H")


def test_a_disabled_default_rule_no_longer_acts() -> None:
    desk = build(DEFAULT_RULES.enabled(REOPEN_ON_INBOUND, False))
    conversation = closed_while_assigned_to_ana(desk)
    desk.clock.advance(days=1)

    outcome = desk.helpdesk.receive(desk.maria, desk.support, "Hello?")

    assert outcome.conversation.id == conversation
    assert outcome.conversation.status is Status.CLOSED
    assert outcome.conversation.unread


# ---------------------------------------------------------------- the example script


def test_the_48_hour_window_and_auto_close_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "rules_48h_autoclose.py"

    runpy.run_path(str(script), run_name="__main__")

    printed = capsys.readouterr().out
    assert "swept: Closed by rule:auto-close-after-silence (recorded at Tue 09:30)" in printed
    assert "swept: Closed by rule:auto-close-after-silence (recorded at Fri 14:40)" in printed
    assert "open, assigned to nobody" in printed
    assert "rule unassign-after-reopen-window unassigned Ana" in printed

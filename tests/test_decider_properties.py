"""Properties of decide and evolve over random command lists: replay rebuilds the state exactly, the version
counts the events, and deciding is deterministic. The same hold for ``handle`` with the default rules (what
a host runs), whose events are always ``decide``'s first and then the rules'."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import (
    AccountSettings,
    Actor,
    ContactId,
    Conversation,
    ConversationId,
    Event,
    Inbox,
    InboxId,
    MessageId,
    MessageReceived,
    MessageSent,
    NotAMember,
    Status,
)
from convostate.analytics import observe
from convostate.core import (
    INITIAL_STATE,
    Assign,
    Close,
    Command,
    DecisionContext,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
    decide,
    evolve,
    replay,
)
from convostate.privacy import ERASED, erased_event
from convostate.rules import DEFAULT_RULES, RuleSet, handle
from tests import strategies as s

CID = ConversationId("c1")
INBOX = Inbox.multi_user(InboxId("team"), "Team", s.MEMBERS)
CONTACT = ContactId("maria")


@st.composite
def commands(draw: st.DrawFn, message_number: int, now: pendulum.DateTime) -> Command:
    user = draw(s.users)
    actor = Actor.user(user)
    message_id = MessageId(f"m{message_number}")
    choices: tuple[Command, ...] = (
        ReceiveMessage(CID, INBOX.id, CONTACT, message_id, "hello"),
        SendReply(CID, message_id, "on it", actor),
        Assign(CID, user, actor),
        Unassign(CID, user, actor),
        Close(CID, actor),
        Reopen(CID, actor),
        Snooze(CID, now + draw(s.clock_steps), actor),
        Unsnooze(CID, actor),
        Star(CID, user, actor),
        Unstar(CID, user, actor),
        MarkRead(CID, user, actor),
        MarkRead(CID, None, actor),
        MarkUnread(CID, user, actor),
        MarkUnread(CID, None, actor),
    )
    return draw(st.sampled_from(choices))


History = tuple[AccountSettings, list[tuple[pendulum.DateTime, Command]]]


@st.composite
def histories(draw: st.DrawFn) -> History:
    settings = draw(s.account_settings())
    now = draw(s.start_instants())
    steps: list[tuple[pendulum.DateTime, Command]] = [
        (now, ReceiveMessage(CID, INBOX.id, CONTACT, MessageId("m0"), "first"))
    ]
    for number in range(1, draw(st.integers(min_value=0, max_value=40)) + 1):
        now = now + draw(s.clock_steps | st.just(timedelta(0)))
        steps.append((now, draw(commands(number, now))))
    return settings, steps


def run(
    settings: AccountSettings,
    steps: list[tuple[pendulum.DateTime, Command]],
    rules: RuleSet | None = None,
) -> tuple[Conversation | None, list[Event]]:
    """Every step through plain ``decide`` (``rules=None``) or through ``handle`` with ``rules``. The only
    refusal these commands can meet is assigning ``dee``, who is not a member: any other error fails."""
    state, history = INITIAL_STATE, list[Event]()
    for now, command in steps:
        context = DecisionContext(now, settings, inbox=INBOX)
        try:
            if rules is None:
                events = decide(state, command, context)
                for event in events:
                    state = evolve(state, event)
            else:
                handled = handle(state, command, context, rules)
                assert handled.follow_ups == ()
                state, events = handled.state, handled.events
        except NotAMember:
            continue
        history.extend(events)
    return state, history


RULES = pytest.mark.parametrize(
    "rules", [None, DEFAULT_RULES], ids=["decide", "handle with the default rules"]
)
"""Plain ``decide``, or ``handle`` with the default rules."""


@RULES
@given(history=histories())
def test_replaying_the_events_from_the_initial_state_rebuilds_the_conversation_exactly(
    history: History, rules: RuleSet | None
) -> None:
    state, events = run(*history, rules)
    assert replay(events) == state
    assert state is not None
    assert state.version == len(events)
    assert state.updated_at == events[-1].at


@RULES
@given(history=histories())
def test_deciding_is_deterministic(history: History, rules: RuleSet | None) -> None:
    assert run(*history, rules) == run(*history, rules)


@RULES
@given(history=histories(), data=st.data())
def test_replaying_any_prefix_gives_the_state_at_that_point(
    history: History, rules: RuleSet | None, data: st.DataObject
) -> None:
    _, events = run(*history, rules)
    cut = data.draw(st.integers(min_value=1, max_value=len(events)))
    state = replay(events[:cut])
    assert state is not None
    assert state.version == cut


@given(histories(), st.data())
def test_handle_records_what_decide_records_and_then_what_the_rules_add(
    history: History, data: st.DataObject
) -> None:
    """At any point of a history, handling one more command with the default rules yields decide's events
    first, then the rules'; all of them replay to the state handle returns. The contact writing leaves
    the conversation open with the rules, and its status as it was with decide alone."""
    settings, steps = history
    cut = data.draw(st.integers(min_value=1, max_value=len(steps)))
    state, so_far = run(settings, steps[:cut], DEFAULT_RULES)
    assert state is not None
    now = steps[cut - 1][0]
    command = data.draw(commands(len(steps), now))
    context = DecisionContext(now, settings, inbox=INBOX)
    try:
        decided = decide(state, command, context)
    except NotAMember:
        return

    handled = handle(state, command, context, DEFAULT_RULES)

    assert handled.events[: len(decided)] == decided
    assert handled.state == replay((*so_far, *handled.events))
    if isinstance(command, ReceiveMessage):
        assert handled.state is not None
        assert handled.state.status is Status.OPEN
        decided_only = replay((*so_far, *decided))
        assert decided_only is not None
        assert decided_only.status is state.status


@RULES
@given(history=histories(), data=st.data())
def test_an_erased_history_replays_to_the_same_state_and_the_same_facts(
    history: History, rules: RuleSet | None, data: st.DataObject
) -> None:
    """Erasure (and retention) replaces message bodies in stored events, any subset of them: the state the
    events rebuild, and the analytics facts they give, do not depend on a body."""
    _, events = run(*history, rules)
    chosen = data.draw(st.sets(st.integers(0, len(events) - 1)))
    erased = [(erased_event(event) or event) if n in chosen else event for n, event in enumerate(events)]
    assert replay(erased) == replay(events)
    assert observe(None, erased, "UTC") == observe(None, events, "UTC")
    for before, after in zip(events, erased, strict=True):
        assert erased_event(after) is None or after is before  # erasing twice changes nothing more
        if after is not before:
            assert isinstance(before, MessageReceived | MessageSent)
            assert isinstance(after, MessageReceived | MessageSent)
            assert after.message.body == ERASED
            assert attrs.evolve(after, message=before.message) == before  # all else kept

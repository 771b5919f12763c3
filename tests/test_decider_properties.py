"""Properties of decide and evolve over random command lists: replay rebuilds the state exactly, the version
counts the events, and deciding is deterministic and leaves its inputs alone."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from convostate import (
    INITIAL_STATE,
    AccountSettings,
    Actor,
    Assign,
    Close,
    Command,
    ContactId,
    Conversation,
    ConversationId,
    ConvostateError,
    DecisionContext,
    Event,
    Inbox,
    InboxId,
    MarkRead,
    MarkUnread,
    MessageId,
    ReceiveMessage,
    Reopen,
    SendReply,
    Star,
    Unassign,
    Unstar,
    decide,
    evolve,
    replay,
)
from tests import strategies as s

CID = ConversationId("c1")
INBOX = Inbox.multi_user(InboxId("team"), "Team", s.MEMBERS)
CONTACT = ContactId("maria")


@st.composite
def commands(draw: st.DrawFn, message_number: int) -> Command:
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
        Star(CID, user, actor),
        Unstar(CID, user, actor),
        MarkRead(CID, user, actor),
        MarkUnread(CID, user, actor),
    )
    return draw(st.sampled_from(choices))


@st.composite
def histories(draw: st.DrawFn) -> tuple[AccountSettings, list[tuple[pendulum.DateTime, Command]]]:
    settings = draw(s.account_settings())
    now = draw(s.start_instants())
    steps: list[tuple[pendulum.DateTime, Command]] = [
        (now, ReceiveMessage(CID, INBOX.id, CONTACT, MessageId("m0"), "first"))
    ]
    for number in range(1, draw(st.integers(min_value=0, max_value=40)) + 1):
        now = now + draw(s.clock_steps | st.just(timedelta(0)))
        steps.append((now, draw(commands(number))))
    return settings, steps


def run(
    settings: AccountSettings, steps: list[tuple[pendulum.DateTime, Command]]
) -> tuple[Conversation | None, list[Event]]:
    state, history = INITIAL_STATE, list[Event]()
    for now, command in steps:
        try:
            events = decide(state, command, DecisionContext(now, settings, inbox=INBOX))
        except ConvostateError:
            continue
        for event in events:
            state = evolve(state, event)
        history.extend(events)
    return state, history


@given(histories())
def test_replaying_the_events_from_the_initial_state_rebuilds_the_conversation_exactly(
    history: tuple[AccountSettings, list[tuple[pendulum.DateTime, Command]]],
) -> None:
    state, events = run(*history)
    assert replay(events) == state
    assert state is not None
    assert state.version == len(events)


@given(histories())
def test_deciding_is_deterministic(
    history: tuple[AccountSettings, list[tuple[pendulum.DateTime, Command]]],
) -> None:
    assert run(*history) == run(*history)


@given(histories(), st.data())
def test_replaying_any_prefix_gives_the_state_at_that_point(
    history: tuple[AccountSettings, list[tuple[pendulum.DateTime, Command]]], data: st.DataObject
) -> None:
    _, events = run(*history)
    cut = data.draw(st.integers(min_value=1, max_value=len(events)))
    state = replay(events[:cut])
    assert state is not None
    assert state.version == cut

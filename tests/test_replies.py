"""Replies.

DESIGN.md, "History": "Every change is recorded with who or what caused it (a user, the contact, a
rule) and when". A reply (``SendReply``) is recorded as ``MessageSent``. Decisions made in the code:
a reply does not change the status (replying to a closed conversation keeps it closed, with the default
rules too: none of them acts on a reply); a user who
replies has read the conversation, so if they had it unread a ``MarkedRead`` follows (for everyone
in the shared read model, for the replier in the per-user one); a rule replying marks nothing read.
"""

from __future__ import annotations

import pytest

from convostate import (
    AccountSettings,
    Actor,
    Direction,
    MarkedRead,
    Message,
    MessageId,
    MessageSent,
    RuleId,
    Status,
)
from convostate.core import SendReply
from tests.builders import (
    ANA,
    BEN,
    CARA,
    CONVERSATION,
    NOW,
    PER_USER,
    by,
    close,
    context,
    mark_read,
    reply,
    run,
    started,
    step,
)

LATER = NOW.add(minutes=5)
AUTO_REPLY = Actor.rule(RuleId("auto-reply"))


def test_a_reply_is_recorded_as_a_sent_outbound_message() -> None:
    state, _ = run([mark_read(ANA)], state=started())

    command = reply("On its way", actor=by(BEN), message_id="m-9")

    state, events = step(state, command, context(LATER))

    sent = Message(MessageId("m-9"), CONVERSATION, Direction.OUTBOUND, by(BEN), "On its way", LATER)
    assert events == (MessageSent(CONVERSATION, by(BEN), LATER, sent),)
    assert state.last_outbound_at == LATER
    assert state.last_activity_at == LATER


def test_a_reply_keeps_the_provider_id_of_the_message() -> None:
    command = SendReply(CONVERSATION, MessageId("m-9"), "Hi", by(ANA), external_id="SM124")

    _, events = step(started(), command, context())

    sent = events[0]
    assert isinstance(sent, MessageSent)
    assert sent.message.external_id == "SM124"


def test_replying_to_an_open_conversation_keeps_it_open() -> None:
    state, _ = run([reply()], state=started())

    assert state.status is Status.OPEN


def test_replying_to_a_closed_conversation_keeps_it_closed() -> None:
    state, _ = run([mark_read(ANA), close()], state=started())

    state, events = step(state, reply(), context(LATER))

    assert [type(event) for event in events] == [MessageSent]
    assert state.status is Status.CLOSED


def test_shared_a_user_replying_to_an_unread_conversation_marks_it_read_for_everyone() -> None:
    state, events = step(started(), reply(actor=by(BEN)), context(LATER))

    assert [type(event) for event in events] == [MessageSent, MarkedRead]
    assert events[1] == MarkedRead(CONVERSATION, by(BEN), LATER, None)
    assert not any(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_shared_replying_to_a_read_conversation_marks_nothing() -> None:
    state, _ = run([mark_read(ANA)], state=started())

    _, events = step(state, reply(actor=by(BEN)), context(LATER))

    assert [type(event) for event in events] == [MessageSent]


def test_per_user_replying_marks_it_read_for_the_replier_only() -> None:
    ctx = context(LATER, settings=PER_USER)

    state, events = step(started(ctx), reply(actor=by(BEN)), ctx)

    assert [type(event) for event in events] == [MessageSent, MarkedRead]
    assert events[1] == MarkedRead(CONVERSATION, by(BEN), LATER, BEN)
    assert not state.is_unread_for(BEN)
    assert state.is_unread_for(ANA)


def test_per_user_a_replier_who_had_read_it_marks_nothing_even_if_others_have_not() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(BEN)], ctx, state=started(ctx))

    state, events = step(state, reply(actor=by(BEN)), ctx)

    assert [type(event) for event in events] == [MessageSent]
    assert state.is_unread_for(ANA)


@pytest.mark.parametrize("settings", [AccountSettings(), PER_USER], ids=["shared", "per-user"])
def test_a_rule_replying_marks_nothing_read(settings: AccountSettings) -> None:
    ctx = context(settings=settings)

    state, events = step(started(ctx), reply("We got your message", actor=AUTO_REPLY), ctx)

    assert [type(event) for event in events] == [MessageSent]
    assert events[0].actor == AUTO_REPLY
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))

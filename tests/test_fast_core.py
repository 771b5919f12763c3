"""``FastCore``, the fused write path: the default rules run in place, checked against ``decide``/``evolve``
and ``handle`` (the specification) on random command streams, with the behaviour table's cases and its bad
input spelled out."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convostate import (
    AccountSettings,
    Actor,
    Assigned,
    CalendarDuration,
    ContactId,
    Conversation,
    ConversationId,
    ConvostateError,
    FastCore,
    Inbox,
    InboxId,
    InvalidInput,
    MessageId,
    MessageReceived,
    MessageSent,
    NotAMember,
    ReadModel,
    Reopened,
    SingleUserInbox,
    Status,
    Unassigned,
    UnknownConversation,
    UserId,
)
from convostate._core.rules.defaults import UNASSIGN_AFTER_WINDOW
from convostate.core import (
    Assign,
    BusinessDuration,
    BusinessHours,
    Close,
    DecisionContext,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    SendReply,
    Star,
    Unassign,
    Unstar,
    replay,
    tabs_of,
)
from convostate.rules import DEFAULT_RULES, handle

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
USERS = tuple(UserId(name) for name in ("ana", "bo", "cy", "dee"))
SUPPORT = Inbox.multi_user(InboxId("support"), "Support", frozenset(USERS[:3]))
"""dee is in no inbox: assigning her is NotAMember."""
SOLO = Inbox.single_user(InboxId("solo"), "Ana's line", USERS[0])
INBOXES = (SUPPORT, SOLO)
CONVERSATIONS = tuple(ConversationId(f"conv-{n}") for n in range(4))
ANA, BO = USERS[0], USERS[1]
CID = CONVERSATIONS[0]
CONTACT = ContactId("maria")


def inbox_of(n: int) -> Inbox:
    return INBOXES[n % 2]


def contact_of(n: int) -> ContactId:
    return ContactId(f"contact-{n}")


def started(settings: AccountSettings | None = None) -> FastCore:
    fast = FastCore(INBOXES, settings=settings)
    fast.receive(CID, SUPPORT.id, CONTACT, "Where is my order?", at=START)
    return fast


# --------------------------------------------------------------------------------- the behaviour table


def test_a_first_message_starts_the_conversation_open_and_unread() -> None:
    fast = FastCore(INBOXES)
    assert fast.receive(CID, SUPPORT.id, CONTACT, "Hello", at=START) == 2
    state = fast.conversation(CID)
    assert (state.status, state.unread, state.version, state.started_at) == (Status.OPEN, True, 2, START)
    assert CID in fast
    assert len(fast) == 1
    assert [type(event).__name__ for event in fast.events(CID)] == ["ConversationStarted", "MessageReceived"]


def test_a_message_within_the_window_reopens_it_to_its_assignee() -> None:
    fast = started()
    fast.assign(CID, ANA, by=ANA, at=START)
    fast.close(CID, by=ANA, at=START.add(minutes=5))
    assert fast.receive(CID, SUPPORT.id, CONTACT, "Any news?", at=START.add(minutes=5, days=6)) == 2
    state = fast.conversation(CID)
    assert state.status is Status.OPEN
    assert state.assignees == {ANA}
    assert isinstance(fast.events(CID)[-1], Reopened)


def test_a_message_at_the_windows_end_reopens_it_unassigned() -> None:
    fast = started()
    fast.assign(CID, ANA, by=ANA, at=START)
    fast.assign(CID, BO, by=ANA, at=START)
    fast.close(CID, by=ANA, at=START)
    assert fast.receive(CID, SUPPORT.id, CONTACT, "Hello again", at=START.add(weeks=1)) == 4
    state = fast.conversation(CID)
    assert state.status is Status.OPEN
    assert not state.assignees
    unassigned = [event for event in fast.events(CID) if isinstance(event, Unassigned)]
    assert [event.user_id for event in unassigned] == [ANA, BO]
    assert {event.actor.id for event in unassigned} == {UNASSIGN_AFTER_WINDOW}


def test_a_reply_is_sent_whatever_the_status_and_marks_it_read() -> None:
    fast = started()
    fast.close(CID, by=ANA, at=START)
    assert fast.reply(CID, "On its way", by=ANA, at=START.add(minutes=1)) == 2
    state = fast.conversation(CID)
    assert state.status is Status.CLOSED
    assert not state.unread
    assert fast.reply(CID, "Anything else?", by=ANA, at=START.add(minutes=2)) == 1


def test_commands_that_change_nothing_record_nothing() -> None:
    fast = started()
    fast.close(CID, by=ANA, at=START)
    fast.star(CID, by=ANA, at=START)
    before = fast.events(CID)
    assert fast.close(CID, by=ANA, at=START) == 0
    assert fast.star(CID, by=ANA, at=START) == 0
    assert fast.unassign(CID, BO, by=ANA, at=START) == 0
    assert fast.mark_unread(CID, by=ANA, at=START) == 0
    assert fast.events(CID) == before


def test_read_state_is_per_user_in_the_per_user_model() -> None:
    fast = started(AccountSettings(read_model=ReadModel.PER_USER))
    fast.mark_read(CID, by=ANA, at=START)
    state = fast.conversation(CID)
    assert not state.is_unread_for(ANA)
    assert state.is_unread_for(BO)


def test_an_earlier_clock_is_stamped_at_the_last_instant_and_says_what_it_read() -> None:
    fast = started()
    earlier = START.subtract(minutes=3)
    fast.star(CID, by=ANA, at=earlier)
    event = fast.events(CID)[-1]
    assert (event.at, event.clock_read) == (START, earlier)


def test_messages_without_an_id_are_numbered_in_their_conversation() -> None:
    fast = started()
    fast.reply(CID, "Hi", by=ANA, at=START, message_id=MessageId("m-given"))
    fast.receive(CID, SUPPORT.id, CONTACT, "Thanks", at=START)
    ids = [event.message.id for event in fast.events(CID) if hasattr(event, "message")]
    assert ids == [MessageId("conv-0/1"), MessageId("m-given"), MessageId("conv-0/3")]


def test_its_events_replay_to_its_state_and_every_conversation_is_listed() -> None:
    fast = started()
    fast.receive(CONVERSATIONS[1], SOLO.id, CONTACT, "Hi", at=START)
    fast.assign(CID, BO, by=ANA, at=START)
    fast.close(CID, by=BO, at=START)
    assert [state.id for state in fast.conversations()] == [CID, CONVERSATIONS[1]]
    for state in fast.conversations():
        assert replay(fast.events(state.id)) == state


# ------------------------------------------------------------------------------------------ bad input

NAIVE = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 (the bad input under test)


@pytest.mark.parametrize(
    ("act", "error", "message"),
    [
        (lambda f: f.close(CID, by=ANA, at=NAIVE), InvalidInput, "naive datetime"),
        (lambda f: f.star(CID, by=ANA, at=START.replace(year=9500)), InvalidInput, "9500"),
        (lambda f: f.close(ConversationId("nope"), by=ANA, at=START), UnknownConversation, "has not started"),
        (lambda f: f.close("conv-0", by=ANA, at=START), InvalidInput, "conversation_id must be a"),
        (lambda f: f.star(CID, by="ana", at=START), InvalidInput, "by must be a UserId"),
        (lambda f: f.assign(CID, USERS[3], by=ANA, at=START), NotAMember, "not a member"),
        (lambda f: f.assign(CID, "bo", by=ANA, at=START), InvalidInput, "user_id must be a UserId"),
        (lambda f: f.reply(CID, "   ", by=ANA, at=START), InvalidInput, "body"),
        (lambda f: f.reply(CID, "hi", by=ANA, at=START, message_id="m"), InvalidInput, "message_id"),
        (lambda f: f.receive(CID, SOLO.id, CONTACT, "Hi", at=START), InvalidInput, "is between"),
        (lambda f: f.receive(CID, SUPPORT.id, ContactId("x"), "Hi", at=START), InvalidInput, "is between"),
        (lambda f: f.receive(CID, SUPPORT.id, "maria", "Hi", at=START), InvalidInput, "contact_id"),
        (
            lambda f: f.receive(ConversationId("new"), InboxId("nowhere"), CONTACT, "Hi", at=START),
            InvalidInput,
            "not one of this",
        ),
        (
            lambda f: f.receive(ConversationId("new"), "support", CONTACT, "Hi", at=START),
            InvalidInput,
            "inbox_id",
        ),
    ],
)
def test_bad_input_is_refused_with_nothing_changed(
    act: Callable[[FastCore], Any], error: type[Exception], message: str
) -> None:
    fast = started()
    fast.assign(CID, BO, by=ANA, at=START)
    before = (fast.conversation(CID), fast.events(CID), len(fast))
    with pytest.raises(error, match=message):
        act(fast)
    assert (fast.conversation(CID), fast.events(CID), len(fast)) == before


def test_a_single_user_inbox_refuses_assignment_with_nothing_changed() -> None:
    fast = FastCore(INBOXES)
    fast.receive(CID, SOLO.id, CONTACT, "Hi", at=START)
    before = fast.events(CID)
    with pytest.raises(SingleUserInbox):
        fast.assign(CID, ANA, by=ANA, at=START)
    with pytest.raises(SingleUserInbox):
        fast.unassign(CID, ANA, by=ANA, at=START)
    assert fast.events(CID) == before


@pytest.mark.parametrize(
    ("inboxes", "settings", "message"),
    [
        ([SUPPORT, SUPPORT], None, "given twice"),
        (["support"], None, "each of inboxes must be a Inbox"),
        ([SUPPORT], "UTC", "settings must be a AccountSettings"),
    ],
)
def test_a_fast_core_that_could_not_honour_its_settings_is_refused(
    inboxes: Any, settings: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        FastCore(inboxes, settings=settings)


# ---------------------------------------------------------------------------------------------- threads


def test_threads_sharing_it_lose_no_command() -> None:
    """Eight threads toggle stars and assignments on the same conversations: every change is one event, in
    order, so the events replay to the state and the versions count them all."""
    fast = FastCore(INBOXES)
    for cid in CONVERSATIONS:
        fast.receive(cid, SUPPORT.id, CONTACT, "Hi", at=START)
    barrier = threading.Barrier(8)
    changed = [0] * 8

    def work(worker: int) -> None:
        barrier.wait()
        user = USERS[worker % 3]
        for step in range(300):
            cid = CONVERSATIONS[step % 4]
            at = START.add(seconds=step)
            if step % 2:
                changed[worker] += fast.assign(cid, user, by=user, at=at) + fast.star(cid, by=user, at=at)
            else:
                changed[worker] += fast.unassign(cid, user, by=user, at=at) + fast.unstar(cid, by=user, at=at)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = list(fast.conversations())
    assert sum(state.version for state in states) == 4 * 2 + sum(changed)
    for state in states:
        assert replay(fast.events(state.id)) == state


# ------------------------------------------------------------------- the specification, on random streams

RECEIVE, REPLY, ASSIGN, UNASSIGN, CLOSE, READ, UNREAD, STAR, UNSTAR = range(9)

WINDOW_END, ANSWER_WINDOW_END = "window end", "answer window end"
steps = st.lists(
    st.tuples(
        st.sampled_from([RECEIVE, ASSIGN, CLOSE, REPLY] * 3 + list(range(REPLY, UNSTAR + 1))),
        st.sampled_from([0, 0, 0, 0, 0, 1, 2, 3]),  # mostly the first, so that its story is long
        st.integers(0, len(USERS) - 1),  # who acts (and the user assigned)
        # When: minutes on, back in time, or exactly at the end of the conversation's reopen window or of
        # its last reply's 24 hours (the instants where "at or after" must not be "after").
        st.sampled_from([0, 0, 1, 30, 60 * 24, 60 * 24 * 8, -5, WINDOW_END, WINDOW_END, ANSWER_WINDOW_END]),
        st.integers(0, 9).map(lambda n: n == 0),  # an inbound message names the other inbox (refused)
    ),
    min_size=10,
    max_size=80,
)


def next_instant(now: Any, when: int | str, state: Conversation | None, settings: AccountSettings) -> Any:
    if isinstance(when, int):
        return now + timedelta(minutes=when)
    if state is None:
        return now
    if when == WINDOW_END and state.closed_at is not None:
        inbox = next(each for each in INBOXES if each.id == state.inbox_id)
        return max(now, settings.end_of(settings.reopen_window, state.closed_at, inbox=inbox))
    if when == ANSWER_WINDOW_END and state.last_outbound_at is not None:
        return max(now, state.last_outbound_at + timedelta(hours=24))
    return now


settings_strategy = st.builds(
    AccountSettings,
    timezone=st.sampled_from(["UTC", "America/New_York"]),
    reopen_window=st.sampled_from(
        [CalendarDuration(weeks=1), CalendarDuration(days=1), CalendarDuration(months=1)]
    ),
    read_model=st.sampled_from(list(ReadModel)),
)


def spec_command(op: int, n: int, user: UserId, wrong_inbox: bool, number: int) -> Any:
    cid, message = CONVERSATIONS[n], MessageId(f"m-{number}")
    inbox, actor = INBOXES[(n + wrong_inbox) % 2], Actor.user(user)
    actor_commands: dict[int, Callable[[], Any]] = {
        REPLY: lambda: SendReply(cid, message, "Thanks", actor),
        ASSIGN: lambda: Assign(cid, user, actor),
        UNASSIGN: lambda: Unassign(cid, user, actor),
        CLOSE: lambda: Close(cid, actor),
        READ: lambda: MarkRead(cid, user, actor),
        UNREAD: lambda: MarkUnread(cid, user, actor),
        STAR: lambda: Star(cid, user, actor),
        UNSTAR: lambda: Unstar(cid, user, actor),
    }
    if op == RECEIVE:
        return ReceiveMessage(cid, inbox.id, contact_of(n), message, "Hello")
    return actor_commands[op]()


def fast_command(
    fast: FastCore, op: int, n: int, user: UserId, wrong_inbox: bool, number: int, at: Any
) -> int:
    cid, message = CONVERSATIONS[n], MessageId(f"m-{number}")
    if op == RECEIVE:
        inbox = INBOXES[(n + wrong_inbox) % 2]
        return fast.receive(cid, inbox.id, contact_of(n), "Hello", at=at, message_id=message)
    if op == REPLY:
        return fast.reply(cid, "Thanks", by=user, at=at, message_id=message)
    if op in (ASSIGN, UNASSIGN):
        assign = fast.assign if op == ASSIGN else fast.unassign
        return assign(cid, user, by=user, at=at)
    methods = {CLOSE: fast.close, READ: fast.mark_read, UNREAD: fast.mark_unread, STAR: fast.star}
    return methods.get(op, fast.unstar)(cid, by=user, at=at)


@given(settings=settings_strategy, stream=steps)
def test_it_gives_the_states_events_and_tabs_of_the_specification(
    settings: AccountSettings, stream: list[tuple[int, int, int, int | str, bool]]
) -> None:
    fast = FastCore(INBOXES, settings=settings)
    states: dict[ConversationId, Conversation] = {}
    events: dict[ConversationId, list[Any]] = {cid: [] for cid in CONVERSATIONS}
    now = START
    for number, (op, n, who, when, wrong_inbox) in enumerate(stream):
        user, cid = USERS[who], CONVERSATIONS[n]
        state = states.get(cid)
        now = next_instant(now, when, state, settings)
        # A conversation is in the inbox its first message named; that message's inbox, until then.
        inbox = inbox_of(n) if state is None and not wrong_inbox else INBOXES[(n + 1) % 2]
        if state is not None:
            inbox = next(each for each in INBOXES if each.id == state.inbox_id)
        context = DecisionContext(now, settings, inbox=inbox)
        try:
            handled = handle(state, spec_command(op, n, user, wrong_inbox, number), context, DEFAULT_RULES)
        except ConvostateError as error:
            before = (fast.conversation(cid), fast.events(cid)) if cid in fast else None
            with pytest.raises(type(error)):
                fast_command(fast, op, n, user, wrong_inbox, number, now)
            assert ((fast.conversation(cid), fast.events(cid)) if cid in fast else None) == before
            continue
        assert fast_command(fast, op, n, user, wrong_inbox, number, now) == len(handled.events)
        if handled.events:
            assert handled.state is not None
            states[cid] = handled.state
            events[cid].extend(handled.events)
        assert fast.conversation(cid) == states[cid]
    assert len(fast) == len(states)
    for cid, state in states.items():
        assert fast.conversation(cid) == state
        assert fast.events(cid) == tuple(events[cid])
        inbox = next(each for each in INBOXES if each.id == state.inbox_id)
        for user in USERS:
            assert tabs_of(fast.conversation(cid), inbox, user) == tabs_of(state, inbox, user)


def test_an_assignment_event_names_who_assigned_whom() -> None:
    fast = started()
    fast.assign(CID, BO, by=ANA, at=START)
    event = fast.events(CID)[-1]
    assert isinstance(event, Assigned)
    assert (event.actor.id, event.user_id) == (ANA, BO)


# ------------------------------------------------------------------------- what a review found, kept fixed


@pytest.mark.parametrize(
    "act",
    [
        lambda f: f.reply(ConversationId("nope"), "  ", by=ANA, at=START),
        lambda f: f.reply(ConversationId("nope"), "hi", by=ANA, at=START, message_id="m"),
        lambda f: f.assign(ConversationId("nope"), "bo", by=ANA, at=START),
        lambda f: f.unassign(ConversationId("nope"), "bo", by=ANA, at=START),
    ],
)
def test_a_badly_made_command_is_invalid_input_even_on_an_unknown_conversation(
    act: Callable[[FastCore], Any],
) -> None:
    """The core refuses the command before it looks for the conversation."""
    with pytest.raises(InvalidInput):
        act(started())


class Text(str):
    """What a host may pass for text: the core accepts any ``str``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "not what was written"


def test_text_of_a_str_subclass_is_kept_as_the_text_it_is() -> None:
    fast = FastCore(INBOXES)
    bo = UserId(Text("bo"))
    fast.receive(CID, SUPPORT.id, CONTACT, Text("Hello"), at=START, message_id=MessageId(Text("m-1")))
    fast.assign(CID, bo, by=bo, at=START)
    fast.star(CID, by=UserId(Text("ana")), at=START)
    fast.reply(CID, Text("On its way"), by=bo, at=START)
    events = fast.events(CID)
    assert [type(event).__name__ for event in events] == [
        "ConversationStarted",
        "MessageReceived",
        "Assigned",
        "Starred",
        "MessageSent",
        "MarkedRead",
    ]
    received, sent = events[1], events[4]
    assert isinstance(received, MessageReceived)
    assert isinstance(sent, MessageSent)
    assert (received.message.body, received.message.id, sent.message.body) == (
        "Hello",
        MessageId("m-1"),
        "On its way",
    )
    assert type(received.message.body) is str
    assert fast.conversation(CID).assignees == {BO}
    assert replay(events) == fast.conversation(CID)


def test_closing_is_not_refused_when_the_window_has_no_end_and_the_next_message_is() -> None:
    """An inbox staffed on one past date only: the business-time window after a close never ends. The core
    closes, then refuses the contact's next message (its rule cannot be honoured); so does FastCore, with
    nothing changed."""
    events_desk = BusinessHours("UTC", {}, special={date(2026, 3, 1): "09:00-17:00"})
    inbox = Inbox.multi_user(InboxId("events"), "Events", frozenset({ANA}), business_hours=events_desk)
    settings = AccountSettings(
        reopen_window=BusinessDuration(hours=8), business_hours=BusinessHours("UTC", {"mon": "09:00-17:00"})
    )
    fast = FastCore([inbox], settings=settings)
    fast.receive(CID, inbox.id, CONTACT, "Hi", at=START)
    assert fast.close(CID, by=ANA, at=START.add(minutes=1)) == 1
    closed = (fast.conversation(CID), fast.events(CID))

    context = DecisionContext(START.add(minutes=2), settings, inbox=inbox)
    message = ReceiveMessage(CID, inbox.id, CONTACT, MessageId("m-3"), "Again")
    with pytest.raises(InvalidInput) as refused_by_the_core:
        handle(closed[0], message, context, DEFAULT_RULES)
    with pytest.raises(InvalidInput) as refused:
        fast.receive(CID, inbox.id, CONTACT, "Again", at=START.add(minutes=2))
    assert str(refused.value) == str(refused_by_the_core.value)
    assert (fast.conversation(CID), fast.events(CID)) == closed


def test_a_conversation_id_too_long_to_number_its_messages_needs_message_ids() -> None:
    fast = FastCore(INBOXES)
    long_id = ConversationId("x" * 999)  # "/1" would make 1,001 characters
    with pytest.raises(InvalidInput, match="pass message_id="):
        fast.receive(long_id, SUPPORT.id, CONTACT, "Hi", at=START)
    assert long_id not in fast
    fast.receive(long_id, SUPPORT.id, CONTACT, "Hi", at=START, message_id=MessageId("m-1"))
    with pytest.raises(InvalidInput, match="pass message_id="):
        fast.reply(long_id, "Hello", by=ANA, at=START)
    assert len(fast.events(long_id)) == 2

"""The core (the decider with the default rules) against the reference model, over random command sequences.

This is also the property that, with only the default rules, the rules engine behaves as the seed product.

After every step: each conversation agrees with the reference (status, assignees, stars, read state per user,
tabs per user), a command changes something exactly when it yields events, replaying the events rebuilds the
state, the version counts the events, and a closed conversation is in nobody's "Assigned to You".
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

import hypothesis
import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from convostate import (
    AccountSettings,
    Actor,
    ContactId,
    Conversation,
    ConversationId,
    ConvostateError,
    Event,
    Inbox,
    InboxId,
    MessageId,
    ReadModel,
    Reopened,
    RuleId,
    Status,
    Tab,
    Unassigned,
    UserId,
)
from convostate.core import (
    Assign,
    Close,
    Command,
    DecisionContext,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Star,
    Unassign,
    Unstar,
    evolve,
    replay,
    tabs_of,
)
from convostate.rules import DEFAULT_RULES, UNASSIGN_AFTER_WINDOW, handle
from tests import strategies as s
from tests.reference_model import ReferenceConversation, Refused, window_end

A_RULE = Actor.rule(RuleId("some-rule"))
actors = st.one_of(s.users.map(Actor.user), st.just(A_RULE))


class DeciderMachine(RuleBasedStateMachine):
    conversations = Bundle("conversations")

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[ConversationId, Conversation] = {}
        self.events: dict[ConversationId, list[Event]] = {}
        self.refs: dict[ConversationId, ReferenceConversation] = {}
        self.messages = 0

    @initialize(
        target=conversations,
        settings=s.account_settings(),
        start=s.start_instants(),
        single_user=st.booleans(),
        body=s.bodies,
        local_clock=st.booleans(),
    )
    def open_the_account(
        self,
        settings: AccountSettings,
        start: pendulum.DateTime,
        single_user: bool,
        body: str,
        local_clock: bool,
    ) -> ConversationId:
        self.settings, self.now, self.local_clock = settings, start, local_clock
        self.inbox = (
            Inbox.single_user(InboxId("solo"), "Solo", s.OWNER)
            if single_user
            else Inbox.multi_user(InboxId("team"), "Team", s.MEMBERS)
        )
        return self._start(body)

    def _reference(self) -> ReferenceConversation:
        return ReferenceConversation(
            users=tuple(user.value for user in s.USERS),
            members=frozenset(user.value for user in self.inbox.members),
            single_user=self.inbox.is_single_user,
            shared_reads=self.settings.read_model is ReadModel.SHARED,
            tz_name=self.settings.timezone,
            window=self.settings.reopen_window,  # type: ignore[arg-type]  # the strategies draw calendar ones
        )

    def _message_id(self) -> MessageId:
        self.messages += 1
        return MessageId(f"m{self.messages}")

    def _run(
        self,
        command: Command,
        on_reference: Callable[[ReferenceConversation], None],
        *,
        always_records: bool = False,
    ) -> None:
        cid = command.conversation_id
        reference, state = self.refs[cid], self.states.get(cid)
        before = copy.deepcopy(reference)
        try:
            on_reference(reference)
            refused = None
        except Refused as refusal:
            refused = refusal.kind
        # A host's clock may speak the account's own zone: the result must not depend on it.
        now = self.now.in_timezone(self.settings.timezone) if self.local_clock else self.now
        context = DecisionContext(now, self.settings, inbox=self.inbox)
        events: tuple[Event, ...] = ()
        raised = None
        try:
            events = handle(state, command, context, DEFAULT_RULES).events
        except ConvostateError as error:
            raised = type(error).__name__
        assert raised == refused, f"decider raised {raised}, reference refused with {refused}"
        if raised is not None:
            return
        if not always_records:
            assert bool(events) == (reference != before), (events, before, reference)
        for event in events:
            assert event.at == self.now
            if isinstance(event, Reopened):
                hypothesis.event(f"reopened by {event.actor}")
            if isinstance(event, Unassigned) and event.actor == Actor.rule(UNASSIGN_AFTER_WINDOW):
                hypothesis.event("unassigned: the contact wrote after the window")
            state = evolve(state, event)
        assert state is not None
        self.states[cid] = state
        self.events[cid].extend(events)

    @rule(target=conversations, body=s.bodies)
    def a_contact_starts_a_conversation(self, body: str) -> ConversationId:
        return self._start(body)

    def _start(self, body: str) -> ConversationId:
        cid = ConversationId(f"c{len(self.refs) + 1}")
        self.refs[cid], self.events[cid] = self._reference(), []
        command = ReceiveMessage(cid, self.inbox.id, ContactId(f"contact-{cid}"), self._message_id(), body)
        self._run(command, lambda ref: ref.receive(self.now), always_records=True)
        return cid

    @rule(cid=conversations, body=s.bodies)
    def the_contact_writes(self, cid: ConversationId, body: str) -> None:
        command = ReceiveMessage(cid, self.inbox.id, ContactId(f"contact-{cid}"), self._message_id(), body)
        self._run(command, lambda ref: ref.receive(self.now), always_records=True)

    @rule(cid=conversations, actor=actors, body=s.bodies)
    def someone_replies(self, cid: ConversationId, actor: Actor, body: str) -> None:
        command = SendReply(cid, self._message_id(), body, actor)
        user = actor.user_id
        self._run(command, lambda ref: ref.reply(user.value if user else None), always_records=True)

    @rule(cid=conversations, user=s.users, actor=actors)
    def assign(self, cid: ConversationId, user: UserId, actor: Actor) -> None:
        self._run(Assign(cid, user, actor), lambda ref: ref.assign(user.value))

    @rule(cid=conversations, user=s.users, actor=actors)
    def unassign(self, cid: ConversationId, user: UserId, actor: Actor) -> None:
        self._run(Unassign(cid, user, actor), lambda ref: ref.unassign(user.value))

    @rule(cid=conversations, actor=actors)
    def close(self, cid: ConversationId, actor: Actor) -> None:
        self._run(Close(cid, actor), lambda ref: ref.close(self.now))

    @rule(cid=conversations, actor=actors)
    def reopen(self, cid: ConversationId, actor: Actor) -> None:
        self._run(Reopen(cid, actor), lambda ref: ref.reopen())

    @rule(cid=conversations, user=s.users)
    def star(self, cid: ConversationId, user: UserId) -> None:
        self._run(Star(cid, user, Actor.user(user)), lambda ref: ref.star(user.value))

    @rule(cid=conversations, user=s.users)
    def unstar(self, cid: ConversationId, user: UserId) -> None:
        self._run(Unstar(cid, user, Actor.user(user)), lambda ref: ref.unstar(user.value))

    @rule(cid=conversations, user=s.users)
    def mark_read(self, cid: ConversationId, user: UserId) -> None:
        self._run(MarkRead(cid, user, Actor.user(user)), lambda ref: ref.mark(user.value, unread=False))

    @rule(cid=conversations, user=s.users)
    def mark_unread(self, cid: ConversationId, user: UserId) -> None:
        self._run(MarkUnread(cid, user, Actor.user(user)), lambda ref: ref.mark(user.value, unread=True))

    @rule(step=s.clock_steps)
    def time_passes(self, step: timedelta) -> None:
        self.now = self.now + step

    def _closed(self) -> list[ConversationId]:
        return [cid for cid, ref in self.refs.items() if not ref.open]

    @precondition(lambda self: bool(self._closed()))
    @rule(data=st.data(), offset=s.edge_offsets)
    def time_reaches_a_window_edge(self, data: st.DataObject, offset: timedelta) -> None:
        cid = data.draw(st.sampled_from(self._closed()))
        reference = self.refs[cid]
        assert reference.closed_at is not None
        edge = window_end(reference.closed_at, reference.tz_name, reference.window) + offset
        if edge > self.now:
            hypothesis.event(f"the clock lands {offset.total_seconds():+.0f}s from a window's end")
            self.now = pendulum.instance(edge)

    @invariant()
    def agrees_with_the_reference(self) -> None:
        for cid, state in self.states.items():
            ref = self.refs[cid]
            assert state.is_open == ref.open
            assert {user.value for user in state.assignees} == ref.assignees
            assert {user.value for user in state.starred_by} == ref.stars
            assert state.closed_at == ref.closed_at
            assert {user.value for user in state.participants(self.inbox)} == ref.participants()
            for user in s.USERS:
                assert state.is_unread_for(user) == ref.unread[user.value], user
                tabs = {tab.value for tab in tabs_of(state, self.inbox, user)}
                assert tabs == ref.tabs(user.value), user

    @invariant()
    def replaying_the_events_rebuilds_the_state(self) -> None:
        for cid, state in self.states.items():
            assert replay(self.events[cid]) == state
            assert state.version == len(self.events[cid])

    @invariant()
    def a_closed_conversation_is_in_nobodys_assigned_to_you(self) -> None:
        for state in self.states.values():
            if state.status is Status.CLOSED:
                assert all(Tab.ASSIGNED_TO_YOU not in tabs_of(state, self.inbox, u) for u in s.USERS)

    @invariant()
    def only_known_users_star_or_are_assigned(self) -> None:
        for state in self.states.values():
            assert state.starred_by <= set(s.USERS)
            assert state.assignees <= self.inbox.members


TestDecider = DeciderMachine.TestCase

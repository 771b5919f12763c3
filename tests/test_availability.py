"""Availability: the host says whether a user is available, away or offline; a contact who writes back to a
closed conversation within the reopen window returns to the former assignees who are available, or to
Unassigned when none is. ``AccountSettings(reopen_skips_unavailable=False)`` keeps the seed's behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    Availability,
    ContactId,
    Conversation,
    ConversationId,
    Helpdesk,
    Inbox,
    InboxId,
    InvalidInput,
    MemoryStore,
    MessageId,
    MessageReceived,
    Reopened,
    Role,
    Unassigned,
    UnknownUser,
    User,
    UserId,
)
from convostate.codec import from_data, to_data
from convostate.core import Assign, Close, Command, DecisionContext, ReceiveMessage
from convostate.ports import ChangeSet, DirectoryChange
from convostate.rules import DEFAULT_RULES, RETURN_TO_AVAILABLE, UNASSIGN_AFTER_WINDOW, Handled, handle
from convostate.sql import SqlStore
from convostate.testing import ManualClock, SequentialIds

ANA, BO = UserId("ana"), UserId("bo")
SUPPORT = Inbox.multi_user(InboxId("support"), "Support", frozenset({ANA, BO}))
CONV, MARIA = ConversationId("c1"), ContactId("maria")
CLOSED_AT = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


def at(
    state: Conversation | None,
    command: Command,
    now: pendulum.DateTime,
    *,
    unavailable: frozenset[UserId] = frozenset(),
    settings: AccountSettings | None = None,
) -> Handled:
    context = DecisionContext(now, settings or AccountSettings(), inbox=SUPPORT, unavailable=unavailable)
    return handle(state, command, context, DEFAULT_RULES)


def closed() -> Conversation:
    state = at(None, ReceiveMessage(CONV, SUPPORT.id, MARIA, MessageId("m1"), "hi"), CLOSED_AT).state
    for command in (
        Assign(CONV, ANA, Actor.user(ANA)),
        Assign(CONV, BO, Actor.user(ANA)),
        Close(CONV, Actor.user(ANA)),
    ):
        state = at(state, command, CLOSED_AT).state
    assert state is not None
    return state


def again(n: int = 2) -> ReceiveMessage:
    return ReceiveMessage(CONV, SUPPORT.id, MARIA, MessageId(f"m{n}"), "me again")


def test_within_the_window_it_returns_to_the_available_assignees_only() -> None:
    handled = at(closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({BO}))
    assert [type(event) for event in handled.events] == [MessageReceived, Unassigned, Reopened]
    unassigned = handled.events[1]
    assert isinstance(unassigned, Unassigned)
    assert unassigned.user_id == BO
    assert unassigned.actor == Actor.rule(RETURN_TO_AVAILABLE)
    assert handled.state is not None
    assert handled.state.assignees == {ANA}


def test_when_nobody_is_available_it_returns_to_unassigned() -> None:
    handled = at(closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({ANA, BO}))
    assert handled.state is not None
    assert handled.state.is_open
    assert handled.state.assignees == frozenset()


def test_everyone_available_is_the_seed_behaviour() -> None:
    handled = at(closed(), again(), CLOSED_AT.add(days=1))
    assert [type(event) for event in handled.events] == [MessageReceived, Reopened]
    assert handled.state is not None
    assert handled.state.assignees == {ANA, BO}


def test_a_setting_keeps_the_seed_behaviour_whoever_is_away() -> None:
    seed = AccountSettings(reopen_skips_unavailable=False)
    handled = at(closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({BO}), settings=seed)
    assert [type(event) for event in handled.events] == [MessageReceived, Reopened]
    assert handled.state is not None
    assert handled.state.assignees == {ANA, BO}


def test_after_the_window_it_goes_to_unassigned_as_before() -> None:
    handled = at(closed(), again(), CLOSED_AT.add(weeks=2), unavailable=frozenset({BO}))
    assert {event.actor for event in handled.events if isinstance(event, Unassigned)} == {
        Actor.rule(UNASSIGN_AFTER_WINDOW)
    }
    assert handled.state is not None
    assert handled.state.assignees == frozenset()


def test_an_open_conversation_keeps_its_assignees_whoever_is_away() -> None:
    state = closed()
    reopened = at(state, again(), CLOSED_AT.add(days=1)).state
    handled = at(reopened, again(3), CLOSED_AT.add(days=2), unavailable=frozenset({ANA, BO}))
    assert [type(event) for event in handled.events] == [MessageReceived]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_helpdesk_reads_availability_from_the_directory(kind: str, tmp_path: Path) -> None:
    clock = ManualClock(CLOSED_AT)
    store = MemoryStore() if kind == "memory" else SqlStore.open(f"sqlite:///{tmp_path / 'desk.db'}")
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds())
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", role=Role.ADMIN).id
    bo = helpdesk.add_user("Bo Chen", "bo@example.com", by=ana).id
    support = helpdesk.add_inbox("Support", members=[ana, bo], by=ana).id
    maria = helpdesk.add_contact(name="Maria").id
    conversation = helpdesk.receive(maria, support, "Hello").conversation.id
    helpdesk.assign(conversation, ana, by=ana)
    helpdesk.assign(conversation, bo, by=ana)
    helpdesk.close(conversation, by=ana)

    assert helpdesk.set_availability(bo, Availability.OFFLINE).availability is Availability.OFFLINE
    clock.advance(days=1)
    helpdesk.receive(maria, support, "Hello again")
    assert helpdesk.conversation(conversation).assignees == {ana}
    assert (
        "rule return-to-available-assignees unassigned Bo Chen" in helpdesk.history(conversation)[-2].summary
    )

    with pytest.raises(UnknownUser):
        helpdesk.set_availability(UserId("nobody"), Availability.AWAY)
    with pytest.raises(InvalidInput, match=r"Availability\.AWAY"):
        helpdesk.set_availability(bo, "away")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="only availability changes"):
        store.commit(ChangeSet(directory=DirectoryChange(availability=(User(bo, "Bo", "bo@example.com"),))))
    assert [user.availability for user in store.users()] == [Availability.AVAILABLE, Availability.OFFLINE]
    if isinstance(store, SqlStore):
        store.close()


def test_a_users_availability_is_written_only_when_it_is_not_the_default() -> None:
    ana = User(ANA, "Ana Lima", "ana@example.com")
    assert "availability" not in to_data(ana)
    away = User(ANA, "Ana Lima", "ana@example.com", availability=Availability.AWAY)
    assert to_data(away)["availability"] == "away"
    assert from_data(to_data(away), User) == away
    assert "reopen_skips_unavailable" not in to_data(AccountSettings())

"""Availability: the host says whether a user is available, away or offline; a contact who writes back to a
closed conversation within the reopen window returns to the former assignees who are available, or to
Unassigned when none is. ``AccountSettings(reopen_skips_unavailable=False)`` keeps the seed's behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import hypothesis
import pendulum
import pytest
from hypothesis import strategies as st

from convostate import (
    AccountSettings,
    Actor,
    Assigned,
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
    RuleId,
    Store,
    Tab,
    Unassigned,
    UnknownUser,
    User,
    UserId,
)
from convostate.codec import from_data, to_data
from convostate.core import Assign, Close, Command, DecisionContext, ReceiveMessage, evolve
from convostate.ports import ChangeSet, DirectoryChange
from convostate.rules import (
    DEFAULT_RULES,
    RETURN_TO_AVAILABLE,
    UNASSIGN_AFTER_WINDOW,
    Action,
    Handled,
    OnEvent,
    Rule,
    RuleSet,
    handle,
)
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
    offline: frozenset[UserId] = frozenset(),
    settings: AccountSettings | None = None,
) -> Handled:
    context = DecisionContext(
        now, settings or AccountSettings(), inbox=SUPPORT, unavailable=unavailable, offline=offline
    )
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
        "rule return-to-available-assignees unassigned Bo Chen: offline"
        in helpdesk.history(conversation)[-2].summary
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


# ---------------------------------------------------------------- round-robin skips who is not available

ROUND_ROBIN = RuleId("round-robin")


TEAM = {"Ana": UserId("user-2"), "Bo": UserId("user-3"), "Cy": UserId("user-4")}
"""The team's ids, as SequentialIds gives them after the admin's (user-1)."""


def _team_desk(store: Store, rotation: tuple[str, ...] = ("Ana", "Bo", "Cy")) -> tuple[Helpdesk, InboxId]:
    """Ana, Bo and Cy in Support; a round-robin rule over ``rotation`` for new conversations."""
    rules = DEFAULT_RULES.with_rules(
        Rule(
            ROUND_ROBIN,
            OnEvent("ConversationStarted"),
            (Action.assign_round_robin(TEAM[name].value for name in rotation),),
            description="New conversations go to the team in turn.",
        )
    )
    helpdesk = Helpdesk(store=store, clock=ManualClock(CLOSED_AT), ids=SequentialIds(), rules=rules)
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    for name, expected in TEAM.items():
        assert helpdesk.add_user(name, f"{name.lower()}@example.com", by=admin).id == expected
    support = helpdesk.add_inbox("Support", members=TEAM.values(), by=admin).id
    return helpdesk, support


def _by_name(_: Helpdesk, name: str) -> UserId:
    return TEAM.get(name, UserId("user-1"))


def _new_conversations(helpdesk: Helpdesk, inbox: InboxId, count: int) -> list[set[str]]:
    names = {user_id: name for name, user_id in TEAM.items()}
    found = []
    for _ in range(count):
        contact = helpdesk.add_contact(name="Someone").id
        conversation = helpdesk.receive(contact, inbox, "Hi").conversation
        found.append({names[user] for user in conversation.assignees})
    return found


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sql = SqlStore.open(f"sqlite:///{tmp_path / 'desk.db'}")
    yield sql
    sql.close()


def test_round_robin_passes_over_a_user_who_is_away_and_says_so(store: Store) -> None:
    helpdesk, support = _team_desk(store)
    helpdesk.set_availability(_by_name(helpdesk, "Bo"), Availability.AWAY)

    contact = helpdesk.add_contact(name="Maria").id
    helpdesk.receive(contact, support, "Hi")  # Ana's turn
    outcome = helpdesk.receive(helpdesk.add_contact(name="Nico").id, support, "Hi")  # Bo's turn: Cy

    assigned = outcome.events[-1]
    assert isinstance(assigned, Assigned)
    assert assigned.user_id == _by_name(helpdesk, "Cy")
    assert assigned.skipped == ((_by_name(helpdesk, "Bo"), Availability.AWAY),)
    summary = helpdesk.history(outcome.conversation.id)[-1].summary
    assert summary.startswith("rule round-robin assigned Cy (skipped Bo: away)")


def test_each_user_looked_at_takes_a_turn_so_the_rotation_goes_on_after_the_one_assigned(
    store: Store,
) -> None:
    helpdesk, support = _team_desk(store)
    helpdesk.set_availability(_by_name(helpdesk, "Bo"), Availability.OFFLINE)

    # Ana (1 turn); Bo offline, Cy (2 turns); Ana; Cy after Bo again.
    assert _new_conversations(helpdesk, support, 4) == [{"Ana"}, {"Cy"}, {"Ana"}, {"Cy"}]
    assert dict(store.rotations([ROUND_ROBIN])) == {ROUND_ROBIN: 6}

    helpdesk.set_availability(_by_name(helpdesk, "Bo"), Availability.AVAILABLE)
    assert _new_conversations(helpdesk, support, 3) == [{"Ana"}, {"Bo"}, {"Cy"}]


def test_when_nobody_in_the_rotation_is_available_nobody_is_assigned_and_a_full_round_is_taken(
    store: Store,
) -> None:
    helpdesk, support = _team_desk(store)
    assert _new_conversations(helpdesk, support, 1) == [{"Ana"}]
    for name in ("Ana", "Bo", "Cy"):
        helpdesk.set_availability(_by_name(helpdesk, name), Availability.AWAY)

    contact = helpdesk.add_contact(name="Maria").id
    outcome = helpdesk.receive(contact, support, "Hi")

    assert outcome.conversation.assignees == frozenset()
    assert not any(isinstance(event, Assigned) for event in outcome.events)
    assert helpdesk.tab(_by_name(helpdesk, "Cy"), Tab.UNASSIGNED).conversations == (outcome.conversation,)
    assert dict(store.rotations([ROUND_ROBIN])) == {ROUND_ROBIN: 4}  # back where it was: Bo's turn next

    helpdesk.set_availability(_by_name(helpdesk, "Bo"), Availability.AVAILABLE)
    assert _new_conversations(helpdesk, support, 2) == [{"Bo"}, {"Bo"}]


def test_round_robin_skips_whoever_is_away_even_when_the_reopen_rule_keeps_the_seeds_behaviour() -> None:
    helpdesk, support = _team_desk(MemoryStore())
    admin = _by_name(helpdesk, "Alex Morgan")
    helpdesk.update_settings(by=admin, reopen_skips_unavailable=False)
    helpdesk.set_availability(_by_name(helpdesk, "Ana"), Availability.AWAY)

    assert _new_conversations(helpdesk, support, 2) == [{"Bo"}, {"Cy"}]


class _CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[UserId] = []

    def user(self, user_id: UserId) -> User | None:
        self.read.append(user_id)
        return super().user(user_id)


def test_a_decision_reads_the_availability_of_the_rotation_and_the_assignees_only() -> None:
    store = _CountingStore()
    helpdesk, support = _team_desk(store, rotation=("Ana", "Bo"))
    contact = helpdesk.add_contact(name="Maria").id

    store.read.clear()
    conversation = helpdesk.receive(contact, support, "Hi").conversation
    assert sorted(user.value for user in store.read) == ["user-2", "user-3"]  # Ana, Bo: not Cy, not the admin

    helpdesk.assign(conversation.id, _by_name(helpdesk, "Cy"), by=_by_name(helpdesk, "Ana"))
    store.read.clear()
    helpdesk.receive(contact, support, "Me again")
    assert sorted(user.value for user in store.read) == ["user-2", "user-3", "user-4"]  # and Cy, assigned


def test_the_reopen_rule_says_why_it_unassigned_someone() -> None:
    handled = at(
        closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({BO}), offline=frozenset({BO})
    )
    unassigned = handled.events[1]
    assert isinstance(unassigned, Unassigned)
    assert unassigned.because is Availability.OFFLINE

    away = at(closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({BO})).events[1]
    assert isinstance(away, Unassigned)
    assert away.because is Availability.AWAY


def test_the_history_fields_are_written_only_when_set_and_replay_ignores_them() -> None:
    handled = at(closed(), again(), CLOSED_AT.add(days=1), unavailable=frozenset({BO}))
    unassigned = handled.events[1]
    assert to_data(unassigned)["because"] == "away"
    assert from_data(to_data(unassigned), Unassigned) == unassigned
    plain = attrs.evolve(unassigned, because=None)
    assert "because" not in to_data(plain)
    assigned = Assigned(CONV, Actor.rule(ROUND_ROBIN), CLOSED_AT, ANA, skipped=((BO, Availability.OFFLINE),))
    assert to_data(assigned)["skipped"] == [["bo", "offline"]]
    assert from_data(to_data(assigned), Assigned) == assigned
    assert "skipped" not in to_data(attrs.evolve(assigned, skipped=()))
    state = closed()
    assert evolve(state, unassigned) == evolve(state, plain)


def test_offline_users_must_be_unavailable_too() -> None:
    with pytest.raises(InvalidInput, match="offline users must be unavailable too"):
        DecisionContext(CLOSED_AT, inbox=SUPPORT, offline=frozenset({BO}))


def test_bad_availability_input_is_refused_and_changes_nothing() -> None:
    store = MemoryStore()
    helpdesk, _ = _team_desk(store)
    bo = _by_name(helpdesk, "Bo")
    before = store.dump()
    with pytest.raises(UnknownUser):
        helpdesk.set_availability(UserId("nobody"), Availability.AWAY)
    with pytest.raises(InvalidInput, match=r"Availability\.AWAY"):
        helpdesk.set_availability(bo, "away")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        helpdesk.set_availability("bo", Availability.AWAY)  # type: ignore[arg-type]
    assert store.dump() == before


class _Counter:
    """A rotation as docs/rules.md describes it: a plain count, one per user looked at."""

    def __init__(self, count: int) -> None:
        self.count = count

    def next_in_rotation(self, rule_id: RuleId, size: int) -> int:
        self.count += 1
        return (self.count - 1) % size


CREW = ("ana", "bo", "cy", "dee")
"""dee is not a member of SUPPORT (ana and bo are), cy neither: the rotation passes over them too."""


@hypothesis.given(
    users=st.lists(st.sampled_from(CREW), min_size=1, max_size=6),
    away=st.dictionaries(st.sampled_from(CREW), st.sampled_from((Availability.AWAY, Availability.OFFLINE))),
    count=st.integers(0, 20),
)
def test_the_rotation_assigns_the_first_available_member_from_its_turn(
    users: list[str], away: dict[str, Availability], count: int
) -> None:
    rule = Rule(ROUND_ROBIN, OnEvent("ConversationStarted"), (Action.assign_round_robin(users),))
    context = DecisionContext(
        CLOSED_AT,
        inbox=SUPPORT,
        unavailable=frozenset(UserId(user) for user in away),
        offline=frozenset(UserId(user) for user, how in away.items() if how is Availability.OFFLINE),
    )
    rotation = _Counter(count)
    start = ReceiveMessage(CONV, SUPPORT.id, MARIA, MessageId("m1"), "hi")
    handled = handle(None, start, context, RuleSet((rule,)), rotation=rotation)

    order = [users[(count + step) % len(users)] for step in range(len(users))]
    members = [user for user in order if UserId(user) in SUPPORT.members]
    chosen = next((user for user in members if user not in away), None)
    assigned = [event for event in handled.events if isinstance(event, Assigned)]
    if chosen is None:
        assert assigned == []
        assert rotation.count == count + len(users)  # one full round
        return
    looked_at = order[: order.index(chosen) + 1]
    assert [event.user_id for event in assigned] == [UserId(chosen)]
    assert assigned[0].skipped == tuple(
        (UserId(user), away[user]) for user in looked_at if user in away and UserId(user) in SUPPORT.members
    )
    assert rotation.count == count + len(looked_at)


@pytest.mark.parametrize(
    ("field", "bad", "says"),
    [
        ("skipped", "bo", "an array of"),
        ("skipped", [["bo"]], "a [user id, availability] pair"),
        ("skipped", [["bo", "gone"]], "expected one of 'available', 'away', 'offline'"),
        ("skipped", [[1, "away"]], "an id"),
        ("because", "gone", "expected one of 'available', 'away', 'offline'"),
    ],
)
def test_a_history_field_that_is_not_well_formed_is_refused(field: str, bad: object, says: str) -> None:
    event = Assigned(CONV, Actor.rule(ROUND_ROBIN), CLOSED_AT, ANA) if field == "skipped" else None
    document = to_data(event or Unassigned(CONV, Actor.rule(RETURN_TO_AVAILABLE), CLOSED_AT, BO))
    with pytest.raises(InvalidInput, match=re.escape(says)):
        from_data({**document, field: bad})

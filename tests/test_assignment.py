"""Assigned users and participants.

DESIGN.md, "Assigned users": "In a multi-user inbox, users assign or remove (unassign) inbox
members. Any number may be assigned. [...] Assigning a non-member, or assigning anyone in a
single-user inbox, is refused with a clear error."

DESIGN.md, "Participants": "The users currently assigned. In a single-user inbox: only the owner."

Decisions made in the code: assigning an assignee again or unassigning a non-assignee records
nothing; unassigning does not need membership (someone removed from the inbox can still be
unassigned); a single-user inbox refuses unassigning as well; assignees stay assigned when the
conversation closes; assignment moves ``updated_at`` (every event does) but not ``last_activity_at``
(messages only).
"""

from __future__ import annotations

import pytest

from convostate import (
    Assigned,
    Closed,
    NotAMember,
    SingleUserInbox,
    Status,
    Unassigned,
    UserId,
)
from tests.builders import (
    ANA,
    BEN,
    CARA,
    CONVERSATION,
    DAN,
    NOW,
    assign,
    by,
    close,
    context,
    multi_user_inbox,
    run,
    single_user_inbox,
    started,
    step,
    unassign,
)

LATER = NOW.add(minutes=5)


def test_assigning_a_member_records_who_assigned_whom_and_when() -> None:
    state, events = step(started(), assign(BEN, actor=ANA), context(LATER))

    assert events == (Assigned(CONVERSATION, by(ANA), LATER, BEN),)
    assert state.assignees == {BEN}


def test_assigning_moves_updated_at_but_not_last_activity_at() -> None:
    state, _ = step(started(), assign(BEN), context(LATER))

    assert state.updated_at == LATER
    assert state.last_activity_at == NOW


def test_any_number_of_members_can_be_assigned() -> None:
    state, events = run([assign(ANA), assign(BEN), assign(CARA)], state=started())

    assert [event.user_id for event in events if isinstance(event, Assigned)] == [ANA, BEN, CARA]
    assert state.assignees == {ANA, BEN, CARA}


def test_users_can_assign_themselves() -> None:
    _, events = step(started(), assign(CARA, actor=CARA), context())

    assert events == (Assigned(CONVERSATION, by(CARA), NOW, CARA),)


def test_assigning_an_assignee_again_records_nothing() -> None:
    state, _ = run([assign(BEN)], state=started())

    assert run([assign(BEN, actor=CARA)], state=state) == (state, ())


def test_unassigning_an_assignee_records_it() -> None:
    state, _ = run([assign(ANA), assign(BEN)], state=started())

    state, events = step(state, unassign(BEN, actor=ANA), context(LATER))

    assert events == (Unassigned(CONVERSATION, by(ANA), LATER, BEN),)
    assert state.assignees == {ANA}


def test_unassigning_someone_who_is_not_assigned_records_nothing() -> None:
    state, _ = run([assign(ANA)], state=started())

    assert run([unassign(BEN)], state=state) == (state, ())


def test_assigning_a_user_who_is_not_a_member_of_the_inbox_is_refused() -> None:
    state = started()

    with pytest.raises(NotAMember, match=r"dan is not a member of inbox support"):
        step(state, assign(DAN), context())


def test_a_user_removed_from_the_inbox_can_still_be_unassigned() -> None:
    state, _ = run([assign(ANA), assign(BEN)], state=started())
    without_ben = context(LATER, inbox=multi_user_inbox({ANA, CARA}))

    state, events = step(state, unassign(BEN), without_ben)

    assert events == (Unassigned(CONVERSATION, by(ANA), LATER, BEN),)
    assert state.assignees == {ANA}


def test_a_user_removed_from_the_inbox_cannot_be_assigned_again() -> None:
    state = started()
    without_ben = context(LATER, inbox=multi_user_inbox({ANA, CARA}))

    with pytest.raises(NotAMember, match="ben"):
        step(state, assign(BEN), without_ben)


@pytest.mark.parametrize("user", [ANA, BEN], ids=["the owner", "someone else"])
def test_a_single_user_inbox_refuses_assigning(user: UserId) -> None:
    ctx = context(inbox=single_user_inbox(ANA))
    state = started(ctx)

    with pytest.raises(SingleUserInbox, match=r"single-user inbox.*owner ana"):
        step(state, assign(user), ctx)


def test_a_single_user_inbox_refuses_unassigning() -> None:
    ctx = context(inbox=single_user_inbox(ANA))
    state = started(ctx)

    with pytest.raises(SingleUserInbox, match="nobody can be assigned or unassigned"):
        step(state, unassign(ANA), ctx)


def test_the_participants_of_a_multi_user_conversation_are_its_assignees() -> None:
    inbox = multi_user_inbox()
    state, _ = run([assign(ANA), assign(CARA)], context(inbox=inbox), state=started())

    assert state.participants(inbox) == {ANA, CARA}


def test_a_multi_user_conversation_nobody_is_assigned_to_has_no_participants() -> None:
    assert started().participants(multi_user_inbox()) == frozenset()


def test_the_owner_is_the_only_participant_in_a_single_user_inbox() -> None:
    inbox = single_user_inbox(ANA)

    state = started(context(inbox=inbox))

    assert state.assignees == frozenset()
    assert state.participants(inbox) == {ANA}


def test_assignees_stay_assigned_and_participants_when_the_conversation_closes() -> None:
    inbox = multi_user_inbox()
    state, _ = run([assign(ANA), assign(BEN)], state=started())

    state, events = step(state, close(actor=CARA), context(LATER, inbox=inbox))

    assert events == (Closed(CONVERSATION, by(CARA), LATER, frozenset({ANA, BEN})),)
    assert state.status is Status.CLOSED
    assert state.assignees == {ANA, BEN}
    assert state.participants(inbox) == {ANA, BEN}


def test_members_can_be_assigned_and_unassigned_on_a_closed_conversation() -> None:
    state, _ = run([assign(ANA), close()], state=started())

    state, _ = run([assign(BEN), unassign(ANA)], state=state)

    assert state.status is Status.CLOSED
    assert state.assignees == {BEN}


def test_conversations_with_the_same_single_assignee_share_one_set_of_assignees() -> None:
    # A million conversations each holding its own 216-byte frozenset of one assignee would cost 200 MB:
    # sets of at most one user are made once and shared.
    first, _ = step(started(), assign(BEN), context(LATER))
    second, _ = step(started(), assign(BEN), context(LATER.add(minutes=1)))
    unassigned, _ = step(first, unassign(BEN), context(LATER.add(minutes=2)))

    assert first.assignees == {BEN}
    assert first.assignees is second.assignees
    assert unassigned.assignees == frozenset()
    assert unassigned.assignees is started().read_overrides
    both, _ = step(first, assign(CARA), context(LATER.add(minutes=3)))
    assert both.assignees == {BEN, CARA}

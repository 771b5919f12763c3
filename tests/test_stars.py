"""Stars.

DESIGN.md, "Starred": "Per user: the conversations that user starred (any status). Star and unstar
are idempotent."
"""

from __future__ import annotations

from convostate import (
    Reopened,
    Starred,
    Status,
    Unassigned,
    Unstarred,
)
from tests.builders import (
    ANA,
    BEN,
    CONVERSATION,
    NOW,
    assign,
    by,
    close,
    context,
    inbound,
    reopen,
    run,
    star,
    started,
    step,
    unstar,
)

LATER = NOW.add(minutes=5)


def test_starring_records_who_starred_it() -> None:
    state, events = step(started(), star(ANA), context(LATER))

    assert events == (Starred(CONVERSATION, by(ANA), LATER, ANA),)
    assert state.starred_by == {ANA}


def test_a_star_is_per_user() -> None:
    state, _ = run([star(ANA)], state=started())

    assert ANA in state.starred_by
    assert BEN not in state.starred_by


def test_each_user_stars_for_themselves_independently() -> None:
    state, _ = run([star(ANA), star(BEN), unstar(ANA)], state=started())

    assert state.starred_by == {BEN}


def test_starring_a_starred_conversation_records_nothing() -> None:
    state, _ = run([star(ANA)], state=started())

    assert run([star(ANA)], state=state) == (state, ())


def test_unstarring_records_it() -> None:
    state, _ = run([star(ANA)], state=started())

    state, events = step(state, unstar(ANA), context(LATER))

    assert events == (Unstarred(CONVERSATION, by(ANA), LATER, ANA),)
    assert state.starred_by == frozenset()


def test_unstarring_a_conversation_that_is_not_starred_records_nothing() -> None:
    state, _ = run([star(BEN)], state=started())

    assert run([unstar(ANA)], state=state) == (state, ())


def test_a_closed_conversation_can_be_starred_and_unstarred() -> None:
    state, _ = run([close()], state=started())

    starred, _ = run([star(ANA)], state=state)
    unstarred, _ = run([unstar(ANA)], state=starred)

    assert starred.status is Status.CLOSED
    assert starred.starred_by == {ANA}
    assert unstarred.starred_by == frozenset()


def test_stars_survive_closing_and_reopening() -> None:
    state, _ = run([star(ANA), close(), reopen()], state=started())

    assert state.starred_by == {ANA}


def test_stars_survive_the_contact_reopening_it_after_the_window_sends_it_to_unassigned() -> None:
    state, _ = run([assign(BEN), star(ANA), star(BEN), close()], state=started())

    state, events = step(state, inbound("Me again", message_id="m-2"), context(NOW.add(weeks=2)))

    assert [type(event) for event in events[1:]] == [Unassigned, Reopened]
    assert state.assignees == frozenset()
    assert state.starred_by == {ANA, BEN}

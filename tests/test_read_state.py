"""Read and unread.

DESIGN.md, "Read / unread": "An inbound message makes a conversation unread; users mark it read or
unread. An unread conversation shows a badge for every user assigned to it. By default read state is
shared by the conversation (as in the seed product); a per-user read model is a setting."

In the shared model a mark by anyone changes it for everyone (``for_user=None``); in the per-user
model (``AccountSettings(read_model=ReadModel.PER_USER)``) it changes only that user's
(``for_user=user``). An inbound message makes it unread for everyone in both. Marks that change
nothing record nothing. ``MarkRead``/``MarkUnread`` with ``user_id=None`` mark it for everyone in either
model (what a rule's ``mark_read everyone`` does), clearing every user's own state.
"""

from __future__ import annotations

import pytest

from convostate import (
    AccountSettings,
    MarkedRead,
    MarkedUnread,
    MessageReceived,
    ReadModel,
)
from convostate.core import MarkRead, MarkUnread
from tests.builders import (
    ANA,
    BEN,
    CARA,
    CONVERSATION,
    NOW,
    PER_USER,
    by,
    context,
    inbound,
    mark_read,
    mark_unread,
    run,
    started,
    step,
)

LATER = NOW.add(minutes=5)
SHARED = AccountSettings()


@pytest.mark.parametrize("settings", [SHARED, PER_USER], ids=["shared", "per-user"])
def test_a_new_conversation_is_unread_for_everyone(settings: AccountSettings) -> None:
    state = started(context(settings=settings))

    assert state.unread
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_the_shared_read_model_is_the_default() -> None:
    assert AccountSettings().read_model is ReadModel.SHARED


# ---------------------------------------------------------------- shared (default)


def test_shared_marking_read_makes_it_read_for_everyone() -> None:
    state, events = step(started(), mark_read(BEN), context(LATER))

    assert events == (MarkedRead(CONVERSATION, by(BEN), LATER, None),)
    assert not state.unread
    assert not any(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_shared_marking_a_read_conversation_read_records_nothing() -> None:
    state, _ = run([mark_read(ANA)], state=started())

    assert run([mark_read(BEN)], state=state) == (state, ())


def test_shared_marking_unread_makes_it_unread_for_everyone() -> None:
    state, _ = run([mark_read(ANA)], state=started())

    state, events = step(state, mark_unread(BEN), context(LATER))

    assert events == (MarkedUnread(CONVERSATION, by(BEN), LATER, None),)
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_shared_marking_an_unread_conversation_unread_records_nothing() -> None:
    state = started()

    assert run([mark_unread(ANA)], state=state) == (state, ())


def test_shared_an_inbound_message_makes_a_read_conversation_unread_again() -> None:
    state, _ = run([mark_read(ANA)], state=started())

    state, events = step(state, inbound("One more thing", message_id="m-2"), context(LATER))

    assert [type(event) for event in events] == [MessageReceived]
    assert state.unread
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))


# ---------------------------------------------------------------- per user


def test_per_user_marking_read_changes_only_that_users_state() -> None:
    ctx = context(LATER, settings=PER_USER)

    state, events = step(started(ctx), mark_read(ANA), ctx)

    assert events == (MarkedRead(CONVERSATION, by(ANA), LATER, ANA),)
    assert not state.is_unread_for(ANA)
    assert state.is_unread_for(BEN)
    assert state.is_unread_for(CARA)


def test_per_user_marking_read_twice_records_nothing_the_second_time() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA)], ctx, state=started(ctx))

    assert run([mark_read(ANA)], ctx, state=state) == (state, ())


def test_per_user_another_user_can_still_mark_it_read_for_themselves() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA)], ctx, state=started(ctx))

    state, events = step(state, mark_read(BEN), ctx)

    assert events == (MarkedRead(CONVERSATION, by(BEN), NOW, BEN),)
    assert not state.is_unread_for(ANA)
    assert not state.is_unread_for(BEN)
    assert state.is_unread_for(CARA)


def test_per_user_marking_unread_changes_only_that_users_state() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA), mark_read(BEN)], ctx, state=started(ctx))

    state, events = step(state, mark_unread(ANA), ctx)

    assert events == (MarkedUnread(CONVERSATION, by(ANA), NOW, ANA),)
    assert state.is_unread_for(ANA)
    assert not state.is_unread_for(BEN)


def test_per_user_marking_an_unread_conversation_unread_records_nothing() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(BEN)], ctx, state=started(ctx))

    assert run([mark_unread(ANA)], ctx, state=state) == (state, ())


def test_per_user_an_inbound_message_makes_it_unread_for_everyone_and_clears_overrides() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA), mark_read(BEN)], ctx, state=started(ctx))
    assert state.read_overrides

    state, events = step(state, inbound("Hello?", message_id="m-2"), ctx)

    assert [type(event) for event in events] == [MessageReceived]
    assert state.unread
    assert state.read_overrides == frozenset()
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_per_user_an_inbound_message_also_resets_a_user_who_marked_it_unread() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA), mark_read(BEN)], ctx, state=started(ctx))
    state, _ = run([mark_unread(ANA)], ctx, state=state)

    state, _ = step(state, inbound("Hello?", message_id="m-2"), ctx)

    assert state.read_overrides == frozenset()
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))


# ---------------------------------------------------------------- for everyone (user_id=None)


@pytest.mark.parametrize("settings", [SHARED, PER_USER], ids=["shared", "per-user"])
def test_marking_read_for_everyone_makes_it_read_for_everyone_in_either_model(
    settings: AccountSettings,
) -> None:
    ctx = context(LATER, settings=settings)
    state, _ = run([mark_read(ANA), mark_unread(ANA)], ctx, state=started(ctx))

    state, events = step(state, MarkRead(CONVERSATION, None, by(BEN)), ctx)

    assert events == (MarkedRead(CONVERSATION, by(BEN), LATER, None),)
    assert not state.unread
    assert state.read_overrides == frozenset()
    assert not any(state.is_unread_for(user) for user in (ANA, BEN, CARA))


def test_per_user_marking_read_for_everyone_also_clears_a_user_who_had_it_read() -> None:
    ctx = context(settings=PER_USER)
    state, _ = run([mark_read(ANA)], ctx, state=started(ctx))
    assert state.read_overrides == {ANA}

    state, events = step(state, MarkRead(CONVERSATION, None, by(BEN)), ctx)

    assert [type(event) for event in events] == [MarkedRead]
    assert state.read_overrides == frozenset()
    assert not state.is_unread_for(ANA)


@pytest.mark.parametrize("settings", [SHARED, PER_USER], ids=["shared", "per-user"])
def test_marking_unread_for_everyone_makes_it_unread_for_everyone_in_either_model(
    settings: AccountSettings,
) -> None:
    ctx = context(settings=settings)
    state, _ = run([mark_read(ANA), mark_read(BEN)], ctx, state=started(ctx))

    state, events = step(state, MarkUnread(CONVERSATION, None, by(CARA)), ctx)

    assert events == (MarkedUnread(CONVERSATION, by(CARA), NOW, None),)
    assert all(state.is_unread_for(user) for user in (ANA, BEN, CARA))
    assert state.read_overrides == frozenset()


@pytest.mark.parametrize("settings", [SHARED, PER_USER], ids=["shared", "per-user"])
def test_marking_for_everyone_what_everyone_already_has_records_nothing(settings: AccountSettings) -> None:
    ctx = context(settings=settings)
    state = started(ctx)

    assert run([MarkUnread(CONVERSATION, None, by(ANA))], ctx, state=state) == (state, ())

"""A host clock that steps back (NTP, a restored VM) never puts a conversation's events out of order.

docs/decisions.md, "A clock that goes back": an event is stamped at the later of the clock's reading and
the conversation's last event, and records what the clock read, which the history shows. The contact's
message is kept (a webhook cannot wait for the clock), and the reopen window is never measured backwards.
"""

from __future__ import annotations

from datetime import datetime

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from convostate import Event, Helpdesk, Role, Status, UserId
from convostate.core import decide, replay
from convostate.testing import SequentialIds
from tests.builders import NOW, close, context, inbound
from tests.helpdesk_builders import START


class SteppingClock:
    """A clock a test sets anywhere, backwards included, as a host's clock may be."""

    def __init__(self, now: datetime) -> None:
        self.reading = pendulum.instance(now)

    def now(self) -> pendulum.DateTime:
        return self.reading


def a_desk(clock: SteppingClock) -> tuple[Helpdesk, UserId]:
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    return helpdesk, admin


def test_events_after_the_clock_steps_back_are_stamped_at_the_last_events_time() -> None:
    clock = SteppingClock(START)
    helpdesk, admin = a_desk(clock)
    support = helpdesk.add_inbox("Support", by=admin).id
    contact = helpdesk.add_contact(name="Maria Lopez").id
    conversation = helpdesk.receive(contact, support, "Hello").conversation.id

    clock.reading = START.subtract(hours=2)
    helpdesk.close(conversation, by=admin)

    *_, closed = helpdesk.store.events(conversation)
    assert closed.at == START
    assert closed.clock_read == START.subtract(hours=2)
    assert "the clock read 2026-03-02 07:00:00" in helpdesk.history(conversation)[-1].summary


def test_a_message_after_the_clock_steps_back_reopens_within_the_window_not_before_it() -> None:
    clock = SteppingClock(START)
    helpdesk, admin = a_desk(clock)
    support = helpdesk.add_inbox("Support", members=[admin], by=admin).id
    contact = helpdesk.add_contact(name="Maria Lopez").id
    conversation = helpdesk.receive(contact, support, "Hello").conversation.id
    helpdesk.assign(conversation, admin, by=admin)
    clock.reading = START.add(days=1)
    helpdesk.close(conversation, by=admin)

    clock.reading = START  # a day back: the window is measured from the close, not backwards from it
    helpdesk.receive(contact, support, "Still there?")

    state = helpdesk.conversation(conversation)
    assert (state.status, state.assignees) == (Status.OPEN, frozenset({admin}))
    assert state.last_inbound_at == START.add(days=1)


@given(steps=st.lists(st.integers(min_value=-3 * 86_400, max_value=86_400), min_size=1, max_size=12))
def test_a_conversations_events_stay_in_order_whatever_the_clock_does(steps: list[int]) -> None:
    """Pure core: for any walk of the clock, backwards included, the events are in order, and each is
    stamped at the clock's reading or, when the clock was behind, at the previous event's instant."""
    now, state, events = NOW, None, list[Event]()
    for index, step in enumerate(steps):
        now = now.add(seconds=step)
        command = close() if state is not None and index % 3 == 2 else inbound(message_id=f"m-{index}")
        decided = decide(state, command, context(now))
        for event in decided:
            previous = events[-1].at if events else event.at
            assert event.at == max(now, previous)
            assert (event.clock_read is not None) == (now < previous)
        events.extend(decided)
        state = replay(events)
    assert [event.at for event in events] == sorted(event.at for event in events)

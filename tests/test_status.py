"""Status.

DESIGN.md: "A conversation is `open` or `closed`. Users close and reopen it. Closing an already
closed conversation is a no-op that records nothing; so is reopening an open one."

The status machine is data (``status_machine()``); the decider takes its status changes from it, so
these tests also check that the table and the diagram are what ``decide`` actually does. It has two
transitions: ``Close`` (open to closed) and ``Reopen`` (closed to open). The contact writing to a closed
conversation is not a transition of its own: ``decide`` records the message, and the default rules
(``handle(..., DEFAULT_RULES)``) turn it into a ``Reopen`` by the rule ``REOPEN_ON_INBOUND``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

import pytest

from convostate import (
    Actor,
    Closed,
    Conversation,
    MessageReceived,
    Reopened,
    ReopenReason,
    RuleId,
    Status,
)
from convostate.core import Assign as AssignCommand
from convostate.core import Close as CloseCommand
from convostate.core import (
    Command,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Snooze,
    Star,
    Transition,
    Unassign,
    Unsnooze,
    Unstar,
    status_machine,
)
from convostate.rules import REOPEN_ON_INBOUND
from tests.builders import (
    ANA,
    BEN,
    CONVERSATION,
    DECIDE_ONLY,
    NOW,
    assign,
    by,
    close,
    context,
    inbound,
    mark_read,
    mark_unread,
    reopen,
    reply,
    run,
    snooze,
    star,
    started,
    step,
    unassign,
    unsnooze,
    unstar,
)

LATER = NOW.add(hours=1)

COMMANDS: dict[type[Command], Callable[[], Command]] = {
    ReceiveMessage: lambda: inbound("Are you there?", message_id="m-again"),
    SendReply: reply,
    AssignCommand: lambda: assign(BEN),
    Unassign: lambda: unassign(ANA),
    CloseCommand: close,
    Reopen: reopen,
    Snooze: lambda: snooze(LATER.add(days=1)),
    Unsnooze: unsnooze,
    Star: star,
    Unstar: unstar,
    MarkRead: mark_read,
    MarkUnread: mark_unread,
}
"""One valid command of every type the decider knows, on the default conversation."""


def in_status(status: Status) -> Conversation:
    """A conversation in ``status``, with ana assigned."""
    commands: list[Command] = [inbound(), assign(ANA)]
    if status is Status.CLOSED:
        commands.append(close())
    state, _ = run(commands)
    assert state.status is status
    return state


def test_every_command_type_has_an_example() -> None:
    assert set(COMMANDS) == set(typing.get_args(Command))


def test_a_new_conversation_is_open() -> None:
    assert started().status is Status.OPEN


def test_closing_an_open_conversation_records_who_closed_it_and_when() -> None:
    state = in_status(Status.OPEN)

    state, events = step(state, close(actor=BEN), context(LATER))

    assert events == (Closed(CONVERSATION, by(BEN), LATER, frozenset({ANA})),)
    assert state.status is Status.CLOSED
    assert state.closed_at == LATER


def test_closing_a_closed_conversation_records_nothing() -> None:
    state = in_status(Status.CLOSED)

    assert run([close()], state=state) == (state, ())


def test_reopening_an_open_conversation_records_nothing() -> None:
    state = in_status(Status.OPEN)

    assert run([reopen()], state=state) == (state, ())


def test_a_user_reopening_a_closed_conversation_records_the_reason_by_user() -> None:
    state = in_status(Status.CLOSED)
    closed_at = state.closed_at

    state, events = step(state, reopen(actor=BEN), context(LATER))

    assert events == (Reopened(CONVERSATION, by(BEN), LATER, ReopenReason.BY_USER, NOW),)
    assert closed_at == NOW
    assert state.status is Status.OPEN
    assert state.closed_at is None
    assert state.assignees == {ANA}


def test_the_contact_writing_to_a_closed_conversation_reopens_it_through_the_default_rules() -> None:
    state = in_status(Status.CLOSED)

    state, events = step(state, inbound("Still broken", message_id="m-again"), context(LATER))

    assert [type(event) for event in events] == [MessageReceived, Reopened]
    assert events[1] == Reopened(
        CONVERSATION, Actor.rule(REOPEN_ON_INBOUND), LATER, ReopenReason.BY_RULE, NOW
    )
    assert state.status is Status.OPEN


def test_plain_decide_leaves_a_closed_conversation_closed_when_the_contact_writes() -> None:
    state = in_status(Status.CLOSED)

    state, events = step(
        state, inbound("Still broken", message_id="m-again"), context(LATER), rules=DECIDE_ONLY
    )

    assert [type(event) for event in events] == [MessageReceived]
    assert state.status is Status.CLOSED


def test_the_machine_has_two_states_and_starts_open_with_the_contacts_first_message() -> None:
    machine = status_machine()

    assert machine.states == (Status.OPEN, Status.CLOSED)
    assert machine.initial is Status.OPEN
    assert machine.starts_with is ReceiveMessage


def test_the_machine_lists_close_and_reopen_as_its_only_transitions() -> None:
    table = [(t.source, t.trigger, t.target) for t in status_machine().transitions]

    assert table == [
        (Status.OPEN, CloseCommand, Status.CLOSED),
        (Status.CLOSED, Reopen, Status.OPEN),
    ]
    assert all(t.description for t in status_machine().transitions)


def test_target_is_none_for_a_command_that_does_not_change_the_status() -> None:
    machine = status_machine()

    assert machine.target(Status.OPEN, CloseCommand) is Status.CLOSED
    assert machine.target(Status.CLOSED, CloseCommand) is None
    assert machine.target(Status.OPEN, Reopen) is None
    assert machine.target(Status.CLOSED, Reopen) is Status.OPEN
    assert machine.target(Status.OPEN, ReceiveMessage) is None
    assert machine.target(Status.CLOSED, ReceiveMessage) is None


def test_the_mermaid_diagram_lists_the_start_and_every_transition() -> None:
    lines = status_machine().to_mermaid().splitlines()

    assert lines[0] == "stateDiagram-v2"
    assert [line.strip() for line in lines[1:]] == [
        "[*] --> open : ReceiveMessage",
        "open --> closed : Close",
        "closed --> open : Reopen",
    ]


def test_the_mermaid_diagram_has_one_line_per_transition_of_the_table() -> None:
    machine = status_machine()
    diagram = machine.to_mermaid()

    for t in machine.transitions:
        assert f"{t.source.value} --> {t.target.value} : {t.trigger.__name__}" in diagram


@pytest.mark.parametrize(
    "transition",
    status_machine().transitions,
    ids=lambda t: f"{t.source.value}-{t.trigger.__name__}",
)
def test_every_transition_in_the_table_is_what_decide_does(transition: Transition) -> None:
    state = in_status(transition.source)

    state, events = step(state, COMMANDS[transition.trigger](), context(LATER), rules=DECIDE_ONLY)

    assert events
    assert state.status is transition.target


UNLISTED = [
    (status, command_type)
    for status in Status
    for command_type in COMMANDS
    if status_machine().target(status, command_type) is None
]
"""Every (status, command) pair the table has no transition for."""


@pytest.mark.parametrize(
    ("status", "command_type"), UNLISTED, ids=[f"{s.value}-{c.__name__}" for s, c in UNLISTED]
)
def test_a_command_the_table_does_not_list_leaves_the_status_as_it_is(
    status: Status, command_type: type[Command]
) -> None:
    state = in_status(status)

    state, _ = step(state, COMMANDS[command_type](), context(LATER), rules=DECIDE_ONLY)

    assert state.status is status


@pytest.mark.parametrize(
    ("status", "command_type"), UNLISTED, ids=[f"{s.value}-{c.__name__}" for s, c in UNLISTED]
)
def test_with_the_default_rules_only_the_contact_writing_to_a_closed_conversation_changes_its_status(
    status: Status, command_type: type[Command]
) -> None:
    state = in_status(status)

    state, _ = step(state, COMMANDS[command_type](), context(LATER))

    reopened_by_the_rules = (status, command_type) == (Status.CLOSED, ReceiveMessage)
    assert state.status is (Status.OPEN if reopened_by_the_rules else status)


def test_a_rule_can_close_a_conversation_too() -> None:
    state = in_status(Status.OPEN)
    rule = Actor.rule(RuleId("close-stale"))

    state, events = step(state, CloseCommand(CONVERSATION, rule), context(LATER))

    assert [event.actor for event in events] == [rule]
    assert state.status is Status.CLOSED

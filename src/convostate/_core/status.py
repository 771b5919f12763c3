"""The status machine as data: the decider consults this table, and UIs and docs read it.

Because the decider takes its status changes from here, the diagram a host renders is the behaviour it gets.
Any command not listed for a status leaves the status as it is (closing a closed conversation is a no-op).
A contact's message does not change the status by itself: the default rules turn it into a Reopen.
"""

from __future__ import annotations

import attrs

from convostate._core.commands import Close, Command, ReceiveMessage, Reopen
from convostate._core.model import Status


@attrs.frozen
class Transition:
    source: Status
    target: Status
    trigger: type[Command]
    description: str


@attrs.frozen
class StatusMachine:
    """States, the initial state and the allowed transitions of a conversation's status."""

    states: tuple[Status, ...]
    initial: Status
    starts_with: type[Command]
    transitions: tuple[Transition, ...]
    _targets: dict[tuple[Status, type[Command]], Status] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        targets = {(t.source, t.trigger): t.target for t in self.transitions}
        object.__setattr__(self, "_targets", targets)

    def target(self, source: Status, trigger: type[Command]) -> Status | None:
        """The status ``trigger`` moves ``source`` to, or None when it does not change the status."""
        return self._targets.get((source, trigger))

    def to_mermaid(self) -> str:
        """The machine as a Mermaid ``stateDiagram-v2``, for docs and admin pages."""
        lines = [
            "stateDiagram-v2",
            f"    [*] --> {self.initial.value} : {self.starts_with.__name__}",
        ]
        lines += [
            f"    {t.source.value} --> {t.target.value} : {t.trigger.__name__}" for t in self.transitions
        ]
        return "\n".join(lines)


STATUS_MACHINE = StatusMachine(
    states=(Status.OPEN, Status.CLOSED),
    initial=Status.OPEN,
    starts_with=ReceiveMessage,
    transitions=(
        Transition(Status.OPEN, Status.CLOSED, Close, "a user or a rule closes it"),
        Transition(
            Status.CLOSED,
            Status.OPEN,
            Reopen,
            "a user reopens it, or a rule does: by default reopen-on-inbound when the contact writes; "
            "its assignees stay, unless unassign-after-reopen-window removed them first",
        ),
    ),
)


def status_machine() -> StatusMachine:
    """The conversation status machine: its states and allowed transitions, and ``to_mermaid()``."""
    return STATUS_MACHINE

"""What a rule may do when a host runs a command in its name.

The engine acts as a rule only through the rule's own actions. A host that builds a command with
``Actor.rule(...)`` and runs it with ``Helpdesk.execute`` could otherwise close, unassign or star as a rule
that does not exist, past every permission check, and the history would then blame that rule. So such a
command must name a rule of the helpdesk's rule set and be one its actions could have issued.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from convostate._core.commands import (
    Assign,
    Close,
    Command,
    MarkRead,
    MarkUnread,
    Reopen,
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate._core.ids import UserId
from convostate._core.rules.model import Action, Rule
from convostate._core.rules.vocabulary import ActionKind


def could_issue(rule: Rule, command: Command, assignees: Collection[UserId]) -> bool:
    """Whether one of ``rule``'s actions issues ``command`` on a conversation with these ``assignees``
    (what "assignees" and "all" stand for when the rule runs)."""
    return any(_issues(action, command, assignees) for action in rule.actions)


def _issues(action: Action, command: Command, assignees: Collection[UserId]) -> bool:
    matches = _MATCHERS.get(action.kind)
    return matches is not None and matches(action, command, assignees)


def _for_user(command: Command, user: str | None, everyone: str, assignees: Collection[UserId]) -> bool:
    target = getattr(command, "user_id", None)
    if user == everyone:
        return target is None if everyone == "everyone" else target in assignees
    return target is not None and target.value == user


_Matcher = Callable[[Action, Command, Collection[UserId]], bool]
_MATCHERS: dict[ActionKind, _Matcher] = {
    ActionKind.ASSIGN: lambda a, c, _: isinstance(c, Assign) and c.user_id.value == a.user,
    ActionKind.ASSIGN_ROUND_ROBIN: lambda a, c, _: isinstance(c, Assign) and c.user_id.value in a.users,
    ActionKind.UNASSIGN: lambda a, c, assignees: (
        isinstance(c, Unassign) and _for_user(c, a.user, "all", assignees)
    ),
    ActionKind.CLOSE: lambda _a, c, _: isinstance(c, Close),
    ActionKind.REOPEN: lambda _a, c, _: isinstance(c, Reopen),
    ActionKind.STAR: lambda a, c, assignees: (
        isinstance(c, Star) and _for_user(c, a.user, "assignees", assignees)
    ),
    ActionKind.UNSTAR: lambda a, c, assignees: (
        isinstance(c, Unstar) and _for_user(c, a.user, "assignees", assignees)
    ),
    ActionKind.MARK_READ: lambda a, c, assignees: (
        isinstance(c, MarkRead) and _for_user(c, a.user, "everyone", assignees)
    ),
    ActionKind.MARK_UNREAD: lambda a, c, assignees: (
        isinstance(c, MarkUnread) and _for_user(c, a.user, "everyone", assignees)
    ),
    ActionKind.SNOOZE: lambda _a, c, _: isinstance(c, Snooze),
    ActionKind.UNSNOOZE: lambda _a, c, _: isinstance(c, Unsnooze),
}
"""Which command each action issues. Opening a linked conversation is a follow-up, not a command a host can
run in a rule's name, so it matches nothing."""

"""The seed product's behaviours, as the default rule set that a host can keep, change or replace.

"Conversations that are closed will automatically reopen and return to Yours if the contact responds within
a week! After a week, it will return to Unassigned." Two rules: after the window, unassign everyone (it runs
first, while the conversation is still closed); then, in every case, reopen. Between them, the assignees
who are away or offline are unassigned, so that it returns to those available (or to Unassigned).
Assignees are kept while a conversation is closed, so "return to Yours" needs no action of its own. Two
more rules make snoozing useful: a snoozed conversation wakes, unread, when its time comes or when the
contact writes.
"""

from __future__ import annotations

from convostate._core.ids import RuleId
from convostate._core.rules.model import (
    REOPEN_WINDOW,
    Action,
    AfterTime,
    OnEvent,
    Rule,
    RuleSet,
    all_of,
    when,
)

REOPEN_ON_INBOUND = RuleId("reopen-on-inbound")
RETURN_TO_AVAILABLE = RuleId("return-to-available-assignees")
UNASSIGN_AFTER_WINDOW = RuleId("unassign-after-reopen-window")
WAKE_WHEN_SNOOZE_ENDS = RuleId("wake-when-snooze-ends")
WAKE_WHEN_CONTACT_WRITES = RuleId("wake-when-contact-writes")

DEFAULT_RULES = RuleSet(
    (
        Rule(
            UNASSIGN_AFTER_WINDOW,
            OnEvent("MessageReceived"),
            (Action.unassign("all"),),
            all_of(when("status", "eq", "closed"), when("closed_at", "older_than", REOPEN_WINDOW)),
            priority=200,
            description="The contact wrote at or after the end of the reopen window: it goes to Unassigned.",
        ),
        Rule(
            RETURN_TO_AVAILABLE,
            OnEvent("MessageReceived"),
            (Action.unassign("unavailable"),),
            when("status", "eq", "closed"),
            priority=150,
            description="The contact wrote to a closed conversation: assignees away or offline are "
            "unassigned, so it returns to those available, or to Unassigned.",
        ),
        Rule(
            REOPEN_ON_INBOUND,
            OnEvent("MessageReceived"),
            (Action.reopen(),),
            when("status", "eq", "closed"),
            priority=100,
            description="The contact wrote to a closed conversation: it reopens, with whoever is assigned.",
        ),
        Rule(
            WAKE_WHEN_SNOOZE_ENDS,
            AfterTime("snoozed_until", "PT0S"),
            (Action.unsnooze(), Action.mark_unread("everyone")),
            when("snoozed", "eq", True),
            priority=100,
            description="A snooze ended: the conversation wakes, unread.",
        ),
        Rule(
            WAKE_WHEN_CONTACT_WRITES,
            OnEvent("MessageReceived"),
            (Action.unsnooze(),),
            when("snoozed", "eq", True),
            priority=100,
            description="The contact wrote to a snoozed conversation: it wakes.",
        ),
    )
)
"""The seed's rules. ``DEFAULT_RULES.with_rules(...)`` adds or replaces; ``.without(...)`` drops."""

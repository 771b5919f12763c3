"""A helpdesk with its own rules, loaded from TOML: a 48-hour reopen window, and auto-close after 24 hours
of silence from the contact.

Maria writes; Ana replies; Maria goes quiet and a day later the conversation closes by itself. She writes
again within 48 hours: it reopens and goes back to Ana. Ana replies twice, Maria answers the first reply
(which cancels the auto-close) but not the second, and the sweep (which the host's scheduler would run
every minute) closes it again, as of the instant it was due even though the sweep ran late. Maria writes
three days later: past the 48-hour window, it reopens in Unassigned. The history says which rule did what,
and why.

Run it with ``python examples/rules_48h_autoclose.py``: memory store, a manual clock, no server.
"""

from __future__ import annotations

import pendulum

from convostate import ConversationId, Helpdesk, Role
from convostate.rules import DEFAULT_RULES, RuleSet, rules_from_toml
from convostate.testing import ManualClock, SequentialIds

RULES_TOML = """
# Replaces the default rule of the same id: the window is 48 elapsed hours, whatever the account's
# reopen_window setting (the default rule reads that setting; setting it to 48 hours works too).
[[rules]]
id = "unassign-after-reopen-window"
description = "The contact wrote 48 hours or more after it closed: it goes to Unassigned."
priority = 200
trigger = { event = "MessageReceived" }
conditions = { all = [
    { field = "status", op = "eq", value = "closed" },
    { field = "closed_at", op = "older_than", value = "PT48H" },
] }
actions = [ { do = "unassign", user = "all" } ]

# A time rule: 24 hours after the team's last reply, if the contact has not answered since.
[[rules]]
id = "auto-close-after-silence"
description = "Closed after 24 hours with no reply from the contact."
trigger = { after = "PT24H", field = "last_outbound_at" }
conditions = { all = [
    { field = "status", op = "eq", value = "open" },
    { field = "waiting_on", op = "eq", value = "contact" },
] }
actions = [ { do = "close" } ]
"""


def load_rules() -> RuleSet:
    """The default rules (reopen when the contact writes, wake snoozed conversations) with ours on top."""
    return DEFAULT_RULES.with_rules(*rules_from_toml(RULES_TOML))


def step(clock: ManualClock, text: str) -> None:
    print(f"\n{clock.now().format('ddd HH:mm')}  {text}")


def state(helpdesk: Helpdesk, conversation: ConversationId) -> None:
    current = helpdesk.conversation(conversation)
    assignees = ", ".join(sorted(helpdesk.user(user).name for user in current.assignees)) or "nobody"
    # Every deadline of the account, however far ahead: due() reads only the store's timer index.
    timers = helpdesk.due(helpdesk.clock.now().add(years=1), limit=10)
    deadlines = [f"{timer.rule_id} at {timer.due_at.format('ddd HH:mm')}" for timer in timers]
    print(f"    {current.status.value}, assigned to {assignees}; deadlines: {', '.join(deadlines) or 'none'}")


def sweep(helpdesk: Helpdesk) -> None:
    result = helpdesk.run_due()
    for outcome in result.acted:
        for event in outcome.events:
            when = event.at.format("ddd HH:mm")
            print(f"    swept: {type(event).__name__} by {event.actor} (recorded at {when})")
    if not result.acted:
        print("    swept: nothing was due")
    for stuck in result.stuck:
        print(f"    stuck: {stuck.timer.rule_id}: {stuck.reason}")


def main() -> None:
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC"))
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds(), rules=load_rules())
    print("Rules, in the order they run:")
    for rule in helpdesk.rules:
        print(f"    {rule.priority:>4}  {rule.id}: {rule.description}")

    ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
    support = helpdesk.add_inbox("Support", members=[ana.id], by=ana.id)
    maria = helpdesk.add_contact(name="Maria", phone="+15550100")

    step(clock, "Maria writes; Ana takes it and replies half an hour later")
    conversation = helpdesk.receive(maria.id, support.id, "My order never arrived").conversation.id
    helpdesk.assign(conversation, ana.id, by=ana.id)
    clock.advance(minutes=30)
    helpdesk.reply(conversation, "Sorry! It is on its way: does the tracking link work?", by=ana.id)
    state(helpdesk, conversation)

    clock.advance(hours=23, minutes=59)
    step(clock, "A minute before the deadline, the sweep finds nothing due")
    sweep(helpdesk)
    state(helpdesk, conversation)

    clock.advance(minutes=1)
    step(clock, "24 hours of silence from Maria: the sweep closes it")
    sweep(helpdesk)
    state(helpdesk, conversation)

    clock.advance(hours=47)
    step(clock, "47 hours later Maria writes again: within 48 hours, it goes back to Ana")
    helpdesk.receive(maria.id, support.id, "The link says 'delivered', but nothing came")
    state(helpdesk, conversation)

    clock.advance(hours=1)
    step(clock, "Ana replies; Maria answers within the day, which cancels the auto-close")
    helpdesk.reply(conversation, "Could you check with your neighbours?", by=ana.id)
    state(helpdesk, conversation)
    clock.advance(hours=5)
    helpdesk.receive(maria.id, support.id, "Found it at number 12, thank you!")
    state(helpdesk, conversation)

    clock.advance(minutes=10)
    step(clock, "Ana replies once more; Maria does not answer")
    helpdesk.reply(conversation, "Great! Anything else?", by=ana.id)
    state(helpdesk, conversation)

    clock.advance(hours=30)
    step(clock, "The scheduler was down for 6 hours; the late sweep closes it as of when it was due")
    sweep(helpdesk)
    state(helpdesk, conversation)

    clock.advance(days=3)
    step(clock, "Three days later Maria writes: past the 48-hour window, it reopens in Unassigned")
    helpdesk.receive(maria.id, support.id, "Actually, the box was damaged")
    state(helpdesk, conversation)

    print("\nHistory:")
    for entry in helpdesk.history(conversation):
        print(f"    {entry.event.at.format('ddd HH:mm')}  {entry.summary}")


if __name__ == "__main__":
    main()

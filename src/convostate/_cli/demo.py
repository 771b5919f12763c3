"""``demo``: the seed story of the product's help page, told on a SQLite file, so a newcomer sees the
rules at work (shared unread badges, the reopen window) before writing any code. A second run reopens
the file and carries on, which shows that nothing lived only in memory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pendulum

from convostate import Helpdesk, Role, Tab, User
from convostate._cli.output import emit
from convostate.testing import ManualClock

DEFAULT_DB = "convostate-demo.db"
TABS = (Tab.ASSIGNED_TO_YOU, Tab.UNASSIGNED, Tab.CLOSED, Tab.STARRED, Tab.ALL_OPEN)
ZONE = "America/New_York"


def register(commands: Any, parent: argparse.ArgumentParser) -> None:
    demo = commands.add_parser("demo", parents=[parent], help="tell the seed story on a SQLite file")
    demo.add_argument(
        "--db", default=DEFAULT_DB, metavar="PATH", help="the SQLite file (default: %(default)s)"
    )
    demo.set_defaults(run=run)


class Story:
    """The steps told so far, each with every user's badges: printed as they happen, or kept for --json."""

    def __init__(self, helpdesk: Helpdesk, quiet: bool) -> None:
        self.helpdesk = helpdesk
        self.quiet = quiet
        self.steps: list[dict[str, Any]] = []

    def step(self, text: str, users: list[User], **facts: Any) -> None:
        badges = {user.name: self._badges(user) for user in users}
        self.steps.append({"step": text, **facts, "badges": badges})
        if self.quiet:
            return
        print(f"\n{text}")
        for name, value in facts.items():
            if name == "history" and isinstance(value, list):
                print("\n".join(f"    {line}" for line in value))
            else:
                print(f"    {name}: {', '.join(value) if isinstance(value, list) else value}")
        if not badges:
            return
        print(f"    {'':<6}" + "".join(f"{tab.value.replace('_', ' '):>17}" for tab in TABS))
        for name, counts in badges.items():
            cells = [
                f"{c['total']}" + (f" ({c['unread']} unread)" if c["unread"] else "") for c in counts.values()
            ]
            print(f"    {name:<6}" + "".join(f"{cell:>17}" for cell in cells))

    def _badges(self, user: User) -> dict[str, dict[str, int]]:
        badges = self.helpdesk.badges(user.id)
        return {tab.value: {"total": badges[tab].total, "unread": badges[tab].unread} for tab in TABS}


def run(arguments: argparse.Namespace) -> int:
    path = Path(arguments.db)
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, 0, tz=ZONE))
    with Helpdesk.open(f"sqlite:///{path}", clock=clock) as helpdesk:
        story = Story(helpdesk, quiet=arguments.json)
        again = bool(helpdesk.store.users())
        if not arguments.json:
            print(f"{'Reopened' if again else 'A new helpdesk in'} {path}")
        if again:
            later_run(helpdesk, clock, story)
        else:
            first_run(helpdesk, clock, story)
    emit(arguments, {"db": str(path), "continued": again, "steps": story.steps}, "")
    return 0


def later_run(helpdesk: Helpdesk, clock: ManualClock, story: Story) -> None:
    ana, bo = helpdesk.store.users()[:2]
    conversation = helpdesk.tab(ana.id, Tab.UNASSIGNED).conversations[0]
    before = len(helpdesk.history(conversation.id))
    story.step("Reopened the file: the tabs, badges and history survived", [ana, bo], history=before)
    clock.set(conversation.last_activity_at.add(days=1))
    helpdesk.receive(conversation.contact_id, conversation.inbox_id, "Writing again, the next day")
    after = len(helpdesk.history(conversation.id))
    story.step("Maria writes again the next day: saved for the next run", [ana, bo], history=after)


def first_run(helpdesk: Helpdesk, clock: ManualClock, story: Story) -> None:
    ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
    bo = helpdesk.add_user("Bo", "bo@example.com", by=ana.id)
    helpdesk.update_settings(by=ana.id, timezone=ZONE)
    support = helpdesk.add_inbox("Support", members=[ana.id, bo.id], by=ana.id)
    maria = helpdesk.add_contact(name="Maria", phone="+15550100")
    users = [ana, bo]

    conversation = helpdesk.receive(maria.id, support.id, "My order never arrived").conversation.id
    story.step("1. Maria writes to Support: unassigned and unread", users)

    helpdesk.assign(conversation, ana.id, by=ana.id)
    helpdesk.assign(conversation, bo.id, by=ana.id)
    names = [user.name for user in helpdesk.participants(conversation)]
    story.step("2. Ana assigns Ana and Bo: unread in both Assigned to You", users, participants=names)

    clock.advance(minutes=5)
    helpdesk.mark_read(conversation, by=bo.id)
    story.step("3. Bo reads it: the badge clears for both (shared read state)", users)

    helpdesk.star(conversation, by=bo.id)
    story.step("4. Bo stars it: only Bo's Starred tab lists it", users)

    clock.advance(hours=1)
    helpdesk.close(conversation, by=ana.id)
    story.step("5. Ana closes it: it moves to Closed", users)

    clock.advance(days=6)
    helpdesk.receive(maria.id, support.id, "It came, but damaged")
    story.step("6. Maria writes 6 days later, within the week: back to Ana and Bo", users)

    helpdesk.close(conversation, by=bo.id)
    clock.advance(days=8)
    helpdesk.receive(maria.id, support.id, "One more question")
    names = [user.name for user in helpdesk.participants(conversation)] or ["nobody"]
    story.step(
        "7. Closed again; Maria writes 8 days later, after the week: Unassigned", users, participants=names
    )

    history = [
        f"{entry.version:>2}. {entry.event.at.in_tz(ZONE):%b %d %H:%M}  {entry.summary}"
        for entry in helpdesk.history(conversation)
    ]
    story.step("The history, and why it reopened unassigned", [], history=history)

"""The seed story, step by step: the main job of the README.

A contact writes; two users are assigned and both see the unread badge; one reads it and both badges clear
(shared read state); it is closed; the contact writes 6 days later and it is back in both users' Assigned to
You; closed again, the contact writes 8 days later and it is in Unassigned; stars are per user; a
single-user inbox shows only its owner as participant.

Run it with ``python examples/quickstart.py`` (``pip install '.[sql]'`` first): everything is kept in a
SQLite file, ``helpdesk.db`` in the current directory (or the path given as the first argument), with a
manual clock and no server. Run it again: the helpdesk reopens the file and finds the conversation, the
badges and the history where the first run left them, and Maria writes once more.
"""

from __future__ import annotations

import sys

import pendulum

from convostate import (
    ConversationId,
    Helpdesk,
    Role,
    Tab,
    User,
)
from convostate.testing import ManualClock

TABS = (Tab.ASSIGNED_TO_YOU, Tab.UNASSIGNED, Tab.CLOSED, Tab.STARRED, Tab.ALL_OPEN)


def show(helpdesk: Helpdesk, *users: User) -> None:
    """Each user's tabs as badges: ``count`` conversations listed, ``(n unread)`` where some are unread."""
    print(f"    {'':<6}" + "".join(f"{tab.value.replace('_', ' '):>20}" for tab in TABS))
    for user in users:
        badges = helpdesk.badges(user.id)
        cells = []
        for tab in TABS:
            count = badges[tab]
            cells.append(f"{count.total}" + (f" ({count.unread} unread)" if count.unread else ""))
        print(f"    {user.name:<6}" + "".join(f"{cell:>20}" for cell in cells))


def step(text: str) -> None:
    print(f"\n{text}")


def main(path: str = "helpdesk.db") -> None:
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, 0, tz="America/New_York"))
    with Helpdesk.open(f"sqlite:///{path}", clock=clock) as helpdesk:
        if helpdesk.store.users():
            reopened(helpdesk, clock, path)
        else:
            story(helpdesk, clock, path)


def reopened(helpdesk: Helpdesk, clock: ManualClock, path: str) -> None:
    """A later run: everything the first run saved is read back from the file."""
    ana, bo = helpdesk.store.users()[:2]
    conversation = helpdesk.tab(ana.id, Tab.UNASSIGNED).conversations[0]  # Maria's, in Support
    step(f"Reopened {path}: the tabs, badges and history survived the restart")
    show(helpdesk, ana, bo)
    print(f"    history: {len(helpdesk.history(conversation.id))} entries")
    clock.set(conversation.last_activity_at.add(days=1))
    helpdesk.receive(conversation.contact_id, conversation.inbox_id, "Writing again, the next day")
    step("Maria writes again the next day: one more entry, saved for the next run")
    show(helpdesk, ana, bo)
    print(f"    history: {len(helpdesk.history(conversation.id))} entries")


def story(helpdesk: Helpdesk, clock: ManualClock, path: str) -> None:
    print(f"A new helpdesk in {path}")
    ana = helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
    bo = helpdesk.add_user("Bo", "bo@example.com", by=ana.id)
    helpdesk.update_settings(by=ana.id, timezone="America/New_York")
    support = helpdesk.add_inbox("Support", members=[ana.id, bo.id], by=ana.id)
    maria = helpdesk.add_contact(name="Maria", phone="+15550100")

    step("1. Maria writes to Support: it is unassigned and unread")
    conversation: ConversationId = helpdesk.receive(
        maria.id, support.id, "My order never arrived"
    ).conversation.id
    show(helpdesk, ana, bo)

    step("2. Ana assigns Ana and Bo: both see it, unread, in Assigned to You")
    helpdesk.assign(conversation, ana.id, by=ana.id)
    helpdesk.assign(conversation, bo.id, by=ana.id)
    print("    participants:", ", ".join(user.name for user in helpdesk.participants(conversation)))
    show(helpdesk, ana, bo)

    step("3. Bo reads it: the badge clears for both (the read state is shared)")
    clock.advance(minutes=5)
    helpdesk.mark_read(conversation, by=bo.id)
    show(helpdesk, ana, bo)

    step("4. Bo stars it: stars are per user, so only Bo's Starred tab lists it")
    helpdesk.star(conversation, by=bo.id)
    show(helpdesk, ana, bo)

    step("5. Ana closes it: it leaves Assigned to You and is in Closed")
    clock.advance(hours=1)
    helpdesk.close(conversation, by=ana.id)
    show(helpdesk, ana, bo)

    step("6. Maria writes 6 days later, within the week: it is back in both users' Assigned to You")
    clock.advance(days=6)
    helpdesk.receive(maria.id, support.id, "It came, but damaged")
    show(helpdesk, ana, bo)

    step("7. Bo closes it again; Maria writes 8 days later, after the week: it is in Unassigned")
    helpdesk.close(conversation, by=bo.id)
    clock.advance(days=8)
    helpdesk.receive(maria.id, support.id, "One more question")
    print(
        "    participants:", ", ".join(user.name for user in helpdesk.participants(conversation)) or "nobody"
    )
    show(helpdesk, ana, bo)

    step("8. A single-user inbox: its owner is the only participant, and nobody can be assigned")
    bo_direct = helpdesk.add_single_user_inbox("Bo's line", owner=bo.id, by=ana.id)
    direct = helpdesk.receive(maria.id, bo_direct.id, "Bo, quick question").conversation.id
    print("    participants:", ", ".join(user.name for user in helpdesk.participants(direct)))
    show(helpdesk, ana, bo)

    step("The history of the first conversation, and why it reopened unassigned:")
    for entry in helpdesk.history(conversation):
        print(
            f"    {entry.version:>2}. {entry.event.at.in_tz('America/New_York'):%b %d %H:%M}  {entry.summary}"
        )


if __name__ == "__main__":
    main(*sys.argv[1:2])

"""Hammer one ``Helpdesk`` from many threads and count invariant violations: ``python benchmarks/threads.py``.

What a FastAPI or Flask app with sync endpoints does to the default memory store: 8 threads act on 3 hot
conversations at once (receive, assign, unassign, close, reopen, star, mark read and unread), with
``sys.setswitchinterval(1e-5)`` so that threads switch inside every action; then several threads run
``deliver_pending`` over queued exports and ``run_due`` over due timers at once. Afterwards it checks:

- per conversation: stored version == number of events, and ``replay(events) == state``;
- per user and tab: the badge's total and unread equal what paging through the tab lists, no conversation
  listed twice, Assigned to You holds only open conversations the user is assigned to, no negative count;
- every queued export sent exactly once (by Message-ID), every snoozed conversation woken exactly once.

It prints the figures and exits 1 if it found any violation. Refused actions (a conflict retried too often,
an unassign of someone not assigned) are counted, not violations. It runs on this checkout's convostate,
and on the one before the transactional shell (whose imports differ), so that both can be compared.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import threading
import time
from typing import Any

import pendulum

import convostate
from convostate import ConvostateError, Helpdesk, Role, Tab

try:  # after the transactional shell
    from convostate.core import replay
    from convostate.testing import CollectingMailer, ManualClock, SequentialIds
except ImportError:  # before it: everything was flat, and the default mailer collected
    from convostate import ManualClock, SequentialIds, replay  # type: ignore[attr-defined,no-redef]
    from convostate import OutboxMailer as CollectingMailer  # type: ignore[attr-defined,no-redef]

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--actions", type=int, default=2_000, help="actions per thread on the hot conversations"
    )
    parser.add_argument("--emails", type=int, default=600, help="exports queued before the delivery race")
    parser.add_argument("--timers", type=int, default=300, help="snoozed conversations before the sweep race")
    parser.add_argument("--seed", type=int, default=20_261_130)
    return parser.parse_args()


def run_threads(count: int, work: Any) -> list[BaseException]:
    crashes: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as error:  # a crash is a finding, not a reason to stop the others
            crashes.append(error)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return crashes


def listed(desk: Helpdesk, user: Any, tab: Tab) -> list[Any]:
    conversations, cursor = [], None
    while True:
        page = desk.tab(user, tab, cursor=cursor, limit=50)
        conversations.extend(page.conversations)
        if page.next_cursor is None:
            return conversations
        cursor = page.next_cursor


def violations(desk: Helpdesk, users: list[Any], conversation_ids: list[Any]) -> list[str]:
    found = []
    for cid in conversation_ids:
        state = desk.conversation(cid)
        events = desk.store.events(cid)
        if state.version != len(events):
            found.append(f"{cid}: version {state.version} != {len(events)} events")
        try:
            rebuilt = replay(events)
        except Exception as error:
            found.append(f"{cid}: replay raised {error!r}")
        else:
            if rebuilt != state:
                found.append(f"{cid}: replay(events) != state")
    for user in users:
        badges = desk.badges(user)
        for tab in Tab:
            rows = listed(desk, user, tab)
            ids = [conversation.id for conversation in rows]
            unread = sum(conversation.is_unread_for(user) for conversation in rows)
            count = badges[tab]
            if len(ids) != len(set(ids)):
                found.append(f"{user} {tab.value}: a conversation listed twice")
            if count.total != len(ids) or count.unread != unread:
                found.append(
                    f"{user} {tab.value}: badge {count.total}/{count.unread}, lists {len(ids)}/{unread}"
                )
            if count.total < 0 or count.unread < 0:
                found.append(f"{user} {tab.value}: negative badge {count}")
            if tab is Tab.ASSIGNED_TO_YOU:
                wrong = [c.id for c in rows if user not in c.assignees or not c.is_open]
                if wrong:
                    found.append(f"{user} assigned_to_you lists {wrong}, not assigned or not open")
    return found


def main() -> int:
    args = parse_args()
    print(f"convostate {convostate.__version__} from {convostate.__file__}")
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, ids=SequentialIds())
    admin = desk.add_user("Alex", "alex@example.com", role=Role.ADMIN).id
    users = [
        desk.add_user(name, f"{name.lower()}@example.com", by=admin).id for name in ("Ana", "Ben", "Cara")
    ]
    support = desk.add_inbox("Support", members=users, by=admin).id
    contacts = [desk.add_contact(name=f"Hot {n}").id for n in range(3)]
    hot = [desk.receive(contact, support, "Hello").conversation.id for contact in contacts]
    refused: collections.Counter[str] = collections.Counter()

    def hammer(n: int) -> None:
        rng = random.Random(args.seed + n)
        for _ in range(args.actions):
            cid, user = rng.choice(hot), rng.choice(users)
            action = rng.choice(
                ("receive", "assign", "unassign", "close", "reopen", "star", "read", "unread")
            )
            try:
                if action == "receive":
                    desk.receive(contacts[hot.index(cid)], support, "again")
                elif action == "assign":
                    desk.assign(cid, user, by=user)
                elif action == "unassign":
                    desk.unassign(cid, user, by=user)
                elif action == "close":
                    desk.close(cid, by=user)
                elif action == "reopen":
                    desk.reopen(cid, by=user)
                elif action == "star":
                    desk.star(cid, by=user)
                elif action == "read":
                    desk.mark_read(cid, by=user)
                else:
                    desk.mark_unread(cid, by=user)
            except ConvostateError as error:
                refused[type(error).__name__] += 1

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        began = time.perf_counter()
        crashes = run_threads(args.threads, hammer)
        hammer_seconds = time.perf_counter() - began
        found = violations(desk, [admin, *users], hot)
        after_crashes = []
        for cid in hot:  # an action on each conversation afterwards, single-threaded: must still work
            try:
                desk.reopen(cid, by=admin)
                desk.receive(contacts[hot.index(cid)], support, "after")
            except Exception as error:
                after_crashes.append(f"{cid}: {error!r}")

        # Exports: queue them, then race deliver_pending from 6 threads on one collecting mailer.
        mailer = CollectingMailer()
        mailer.fail_next(args.emails)  # the first attempts (in export itself) fail: all stay queued
        sender = Helpdesk(store=desk.store, clock=clock, ids=SequentialIds(), mailer=mailer)
        conversation = hot[0]
        for _ in range(args.emails):
            sender.export(conversation, by=admin)
        clock.advance(minutes=1)

        def deliver(_: int) -> None:
            while sender.deliver_pending(limit=20).sent:
                pass

        email_crashes = run_threads(6, deliver)
        sent_ids = collections.Counter(message["Message-ID"] for message in mailer.sent)
        twice = sum(1 for count in sent_ids.values() if count > 1)
        missing = args.emails - len(sent_ids)

        # Timers: snooze conversations, then race run_due from 6 threads.
        sleepers = []
        for n in range(args.timers):
            cid = desk.receive(desk.add_contact(name=f"Sleepy {n}").id, support, "later").conversation.id
            desk.snooze(cid, clock.now().add(hours=1), by=admin)
            sleepers.append(cid)
        wake_at = clock.now().add(hours=2)
        sweep_crashes = run_threads(6, lambda _: desk.run_due(wake_at))
        woken = collections.Counter(
            cid
            for cid in sleepers
            for entry in desk.history(cid)
            if type(entry.event).__name__ == "Unsnoozed"
        )
        woken_twice = sum(1 for count in woken.values() if count > 1)
        not_woken = args.timers - len(woken)
    finally:
        sys.setswitchinterval(old_interval)

    print(
        f"hammer: {args.threads} threads x {args.actions} actions on {len(hot)} hot conversations "
        f"in {hammer_seconds:.1f} s; refused {dict(refused)}"
    )
    print(f"  crashes (non-convostate exceptions): {len(crashes)} {[repr(c) for c in crashes[:3]]}")
    print(f"  invariant violations: {len(found)}")
    for line in found[:10]:
        print(f"    {line}")
    print(f"  broken afterwards (single-threaded reopen/receive): {len(after_crashes)} {after_crashes[:3]}")
    print(
        f"deliver_pending: 6 threads over {args.emails} queued exports: sent twice {twice}, never sent "
        f"{missing}, crashes {len(email_crashes)} {[repr(c) for c in email_crashes[:3]]}"
    )
    print(
        f"run_due: 6 threads over {args.timers} snoozed conversations: woken twice {woken_twice}, "
        f"never woken {not_woken}, crashes {len(sweep_crashes)} {[repr(c) for c in sweep_crashes[:3]]}"
    )
    bad = len(crashes) + len(found) + len(after_crashes) + twice + missing + len(email_crashes)
    bad += woken_twice + not_woken + len(sweep_crashes)
    print("OK: no violation" if bad == 0 else f"FOUND {bad} problems")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

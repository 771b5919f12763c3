"""``FastCore`` at a million conversations: ``python benchmarks/fast_scale.py --max 1000000``.

The same account and the same short lives as ``scale.py`` (``scale.life``: the contact writes; maybe
assigned, once or twice, replied to or read, starred, closed), run through ``FastCore``'s methods: what a
notebook simulating traffic keeps in memory. A life that ``scale.py`` snoozes stays open here, since
``FastCore`` does not snooze. Per size: the growth of the
process's resident set size (RSS) per conversation while they are added (their ids included, as a host
holds them too), events per conversation, and the time per event (CPU time). The issue's memory target is
at most 1 KiB per conversation at a million.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from engines import EPOCH, REPLY_BODY
from run import RESULTS, environment
from scale import SPAN_US, life, rss
from stream import directory

from convostate import (
    AccountSettings,
    CalendarDuration,
    ContactId,
    ConversationId,
    FastCore,
    Inbox,
    InboxId,
    UserId,
)

TARGET_BYTES = 1024


def add(
    fast: FastCore, inboxes: list[Inbox], inbox_of: Sequence[int], rng: random.Random, first: int, to: int
) -> int:
    """Conversations ``first`` to ``to``; returns the number of events they made."""
    events = 0
    for n in range(first, to):
        inbox = inboxes[inbox_of[n]]
        members = sorted(inbox.members, key=lambda user: user.value)
        cid = ConversationId(f"conversation-{n}")
        at = EPOCH.add(microseconds=rng.randrange(SPAN_US))
        events += fast.receive(cid, inbox.id, ContactId(f"contact-{n}"), "Hi", at=at)
        for what, agent, detail in life(rng, members):
            if what == "assign":
                events += fast.assign(cid, detail, by=agent, at=at)  # type: ignore[arg-type]
            elif what == "reply":
                events += fast.reply(cid, REPLY_BODY, by=agent, at=at)
            elif what == "read":
                events += fast.mark_read(cid, by=agent, at=at)
            elif what == "star":
                events += fast.star(cid, by=agent, at=at)
            elif what == "close":
                events += fast.close(cid, by=agent, at=at)
            # FastCore does not snooze: a snoozed life stays open
    return events


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20_260_105)
    parser.add_argument("--output", default=str(RESULTS / "fast-scale-latest.json"))
    args = parser.parse_args(argv)
    sizes = [size for size in (10_000, 100_000, 1_000_000) if size <= args.max] or [args.max]
    account = directory(sizes[-1], 20, 2, random.Random(args.seed))
    users = [UserId(f"user-{n}") for n in range(account.users)]
    inboxes = [
        Inbox.multi_user(InboxId(f"inbox-{n}"), f"Inbox {n}", frozenset(users[user] for user in members))
        for n, members in enumerate(account.members)
    ]
    fast = FastCore(inboxes, settings=AccountSettings(reopen_window=CalendarDuration(weeks=1)))
    rng = random.Random(args.seed + 1)
    rows: list[dict[str, Any]] = []
    done = 0
    for size in sizes:
        gc.collect()
        before, started = rss(), time.process_time()
        events = add(fast, inboxes, account.inbox_of, rng, done, size)
        seconds = time.process_time() - started
        gc.collect()
        grown = rss() - before
        count = size - done
        rows.append(
            {
                "conversations": size,
                "added": count,
                "bytes_per_conversation": grown / count,
                "events_per_conversation": events / count,
                "us_per_event": seconds / events * 1e6,
                "events_per_s": events / seconds,
                "rss_mib": rss() / 2**20,
            }
        )
        done = size
    print(f"FastCore, {len(inboxes)} inboxes, {account.users} users; RSS growth while each size was added\n")
    print("| conversations | per conversation (RSS) | events each | µs per event | events/s | process RSS |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['conversations']:,} | {row['bytes_per_conversation']:.0f} B | "
            f"{row['events_per_conversation']:.2f} | {row['us_per_event']:.2f} | "
            f"{row['events_per_s']:,.0f} | {row['rss_mib']:,.0f} MiB |"
        )
    last = rows[-1]
    met = last["bytes_per_conversation"] <= TARGET_BYTES
    verdict = "met" if met else f"MISSED by {last['bytes_per_conversation'] / TARGET_BYTES:.2f}x"
    target = (
        f"FastCore memory at {last['conversations']:,} conversations: {last['bytes_per_conversation']:.0f} B "
        f"per conversation, target <= 1 KiB ({verdict})"
    )
    print(f"\n{target}")
    report = {"command": "fast_scale.py", "environment": environment(), "rows": rows, "target": target}
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""The FastAPI example, through httpx's ASGI transport: every route, the webhook redelivered (one after the
other and many at once) adding one message, and bad input answered with a 4xx that changes nothing.

``pip install 'convostate[async]' fastapi httpx``; each test runs its own event loop (no pytest plugin).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pendulum
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("aiosqlite")

import httpx
import sqlalchemy as sa
from sqlalchemy.util import greenlet_spawn

from convostate import (
    Badges,
    Conversation,
    ConversationId,
    ExportResult,
    InboxId,
    Outcome,
    Page,
    Role,
    Tab,
    UserId,
)
from convostate.aio import AsyncHelpdesk
from convostate.analytics import ContactInfo
from convostate.codec import from_json
from convostate.sql import SqlStore
from convostate.testing import CollectingMailer, ManualClock

from .app import create_app, stop, sweep

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


class Api:
    def __init__(
        self, client: httpx.AsyncClient, desk: AsyncHelpdesk, clock: ManualClock, support: InboxId
    ) -> None:
        self.client, self.desk, self.clock, self.support = client, desk, clock, support
        self.mailer = desk.mailer

    async def as_user(self, user: UserId, method: str, path: str, **options: Any) -> httpx.Response:
        return await self.client.request(method, path, headers={"X-User-Id": user.value}, **options)

    async def webhook(self, message_id: str, body: str, phone: str = "+15555550100") -> httpx.Response:
        return await self.client.post("/webhooks/inbound", json=self.message(message_id, body, phone))

    def message(self, message_id: str, body: str, phone: str = "+15555550100") -> dict[str, str]:
        return {"message_id": message_id, "inbox_id": self.support.value, "phone": phone, "body": body}


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[Api, UserId, UserId, UserId]]:
    """The app on a new SQLite file, its lifespan entered; an admin, ana in Support and an outsider."""
    clock = ManualClock(START)
    app = create_app(
        f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}",
        clock=clock,
        mailer=CollectingMailer(),
        sweep_every=None,
    )
    async with app.router.lifespan_context(app):
        desk: AsyncHelpdesk = app.state.desk
        admin = (await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)).id
        ana = (await desk.add_user("Ana", "ana@example.com", by=admin)).id
        outsider = (await desk.add_user("Olga", "olga@example.com", by=admin)).id
        support = (await desk.add_inbox("Support", members=[ana], by=admin)).id
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpdesk") as client:
            yield Api(client, desk, clock, support), admin, ana, outsider


def test_every_route(tmp_path: Path) -> None:
    async def story() -> None:
        async with running(tmp_path) as (api, admin, ana, _outsider):
            received = await api.webhook("SM1", "My order is late")
            assert received.status_code == 200
            outcome = from_json(received.content, Outcome)
            cid: ConversationId = outcome.conversation.id
            contact = outcome.conversation.contact_id

            page = from_json((await api.as_user(ana, "GET", "/me/tabs/unassigned")).content, Page)
            assert [c.id for c in page.conversations] == [cid]
            badges = from_json((await api.as_user(ana, "GET", "/me/badges")).content, Badges)
            assert badges[Tab.UNASSIGNED].unread == 1

            checks: list[tuple[str, Callable[[Conversation], bool]]] = [
                ("assign", lambda c: c.assignees == {ana}),
                ("star", lambda c: ana in c.starred_by),
                ("read", lambda c: not c.is_unread_for(ana)),
                ("unread", lambda c: c.is_unread_for(ana)),
                ("unstar", lambda c: ana not in c.starred_by),
                ("close", lambda c: not c.is_open),
                ("reopen", lambda c: c.is_open),
                ("unassign", lambda c: not c.assignees),
            ]
            for path, check in checks:
                options = {"json": {"user_id": ana.value}} if "assign" in path else {}
                answer = await api.as_user(ana, "POST", f"/conversations/{cid.value}/{path}", **options)
                assert answer.status_code == 200, (path, answer.text)
                assert check(from_json(answer.content, Outcome).conversation), path

            answer = await api.as_user(ana, "POST", f"/conversations/{cid.value}/export")
            exported = from_json(answer.content, ExportResult)
            assert exported.delivered
            info = from_json(
                (await api.as_user(admin, "GET", f"/contacts/{contact.value}")).content, ContactInfo
            )
            assert info.figures.messages_in == 1
            assert info.contact.phone == "+15555550100"

    asyncio.run(story())


def test_tabs_page_with_cursors(tmp_path: Path) -> None:
    async def story() -> None:
        async with running(tmp_path) as (api, _admin, ana, _outsider):
            for n in range(5):
                api.clock.advance(minutes=1)
                await api.webhook(f"SM{n}", "Hello", phone=f"+1555555010{n}")
            seen: list[str] = []
            cursor: str | None = None
            while True:
                params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
                answer = await api.as_user(ana, "GET", "/me/tabs/unassigned", params=params)
                page = from_json(answer.content, Page)
                seen.extend(c.id.value for c in page.conversations)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert len(seen) == len(set(seen)) == 5

    asyncio.run(story())


def test_a_redelivered_webhook_adds_no_second_message_even_at_once(tmp_path: Path) -> None:
    async def story() -> None:
        async with running(tmp_path) as (api, admin, _ana, _outsider):
            first = from_json((await api.webhook("SM1", "Hello")).content, Outcome)
            again = from_json((await api.webhook("SM1", "Hello")).content, Outcome)
            assert first.changed
            assert not again.changed
            assert again.conversation == first.conversation

            # A new number's first message, delivered five times at once: one contact, one message.
            answers = await asyncio.gather(
                *(api.webhook("SM2", "Hi", phone="+15555550177") for _ in range(5))
            )
            assert {answer.status_code for answer in answers} == {200}
            outcomes = [from_json(answer.content, Outcome) for answer in answers]
            assert sum(outcome.changed for outcome in outcomes) == 1
            assert len({outcome.conversation.id for outcome in outcomes}) == 1
            contact = await api.desk.find_contact(phone="+15555550177")
            assert contact is not None
            info = await api.desk.contact_info(contact.id, by=admin)
            assert info.figures.messages_in == 1

    asyncio.run(story())


def test_bad_input_is_a_4xx_and_changes_nothing(tmp_path: Path) -> None:
    async def story() -> None:
        async with running(tmp_path) as (api, _admin, ana, outsider):
            conversation = from_json((await api.webhook("SM1", "Hello")).content, Outcome).conversation
            cid, contact = conversation.id.value, conversation.contact_id.value
            before = await greenlet_spawn(_dump, api.desk)
            unknown_inbox = api.message("SM9", "Hi") | {"inbox_id": "nope"}
            not_a_member = {"user_id": outsider.value}
            cases: list[tuple[int, Callable[[], Awaitable[httpx.Response]]]] = [
                (422, lambda: api.webhook("SM9", "")),  # an empty body
                (422, lambda: api.webhook("SM9", "Hi", phone="call me")),  # not a phone number
                (422, lambda: api.client.post("/webhooks/inbound", json={"body": "no ids"})),
                (404, lambda: api.client.post("/webhooks/inbound", json=unknown_inbox)),
                (422, lambda: api.client.post(f"/conversations/{cid}/close")),  # no X-User-Id
                (404, lambda: api.as_user(UserId("ghost"), "POST", f"/conversations/{cid}/close")),
                (404, lambda: api.as_user(ana, "POST", "/conversations/nope/close")),
                (403, lambda: api.as_user(outsider, "POST", f"/conversations/{cid}/close")),
                (422, lambda: api.as_user(ana, "POST", f"/conversations/{cid}/assign", json=not_a_member)),
                (422, lambda: api.as_user(ana, "GET", "/me/tabs/everything")),
                (422, lambda: api.as_user(ana, "GET", "/me/tabs/unassigned", params={"limit": 0})),
                (422, lambda: api.as_user(ana, "GET", "/me/tabs/unassigned", params={"cursor": "!!"})),
                (403, lambda: api.as_user(outsider, "GET", f"/contacts/{contact}")),
                (403, lambda: api.as_user(outsider, "POST", f"/conversations/{cid}/export")),
            ]
            for status, request in cases:
                answer = await request()
                assert answer.status_code == status, answer.text
            assert await greenlet_spawn(_dump, api.desk) == before

    asyncio.run(story())


def test_the_sweeper_runs_due_timers_and_delivers_the_outbox(tmp_path: Path) -> None:
    async def story() -> None:
        async with running(tmp_path) as (api, _admin, ana, _outsider):
            cid = from_json((await api.webhook("SM1", "Hello")).content, Outcome).conversation.id
            await api.desk.snooze(cid, START.add(hours=1), by=ana)
            assert isinstance(api.mailer, CollectingMailer)
            api.mailer.fail_next()
            answer = await api.as_user(ana, "POST", f"/conversations/{cid.value}/export")
            assert not from_json(answer.content, ExportResult).delivered
            api.clock.advance(hours=2)
            sweeper = asyncio.create_task(sweep(api.desk, 0.01))
            for _ in range(200):
                await asyncio.sleep(0.01)
                if (await api.desk.conversation(cid)).snoozed_until is None and api.mailer.sent:
                    break
            await stop(sweeper)
            assert (await api.desk.conversation(cid)).snoozed_until is None
            assert len(api.mailer.sent) == 1

    asyncio.run(story())


def _dump(desk: AsyncHelpdesk) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the account, in key order (run in a greenlet): what "nothing changed" compares."""
    store = desk.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    sa.select(table).where(table.c.account == store.account).order_by(*table.primary_key)
                )
            ]
            for table in store.tables.metadata.sorted_tables
        }

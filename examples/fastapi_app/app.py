"""A helpdesk API on FastAPI and ``convostate.aio.AsyncHelpdesk``: the provider's inbound webhook, a user's
tabs with badges and cursor paging, the conversation actions, contact info and export.

Run it (``pip install 'convostate[async]' fastapi uvicorn``)::

    CONVOSTATE_URL=sqlite+aiosqlite:///helpdesk.db uvicorn examples.fastapi_app.app:app

Who is calling is the ``X-User-Id`` header: an example's stand-in for the host's own authentication (a
session, a JWT), which would look the user up and never trust a header from the client; likewise a real
webhook checks the provider's signature first. Every response
body is convostate's JSON (``convostate.codec``), and convostate's errors become HTTP statuses.

The lifespan opens the helpdesk, and sweeps the time rules and the outbox every minute in a task of its
own; with several app processes, any number may sweep (each timer fires once, each email is sent once), or
turn the task off (``sweep_every=None``) and run ``convostate run-due URL`` and ``convostate deliver URL``
from cron instead (docs/cli.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel

from convostate import (
    Clock,
    ContactId,
    ConversationId,
    ConvostateError,
    InboxId,
    Mailer,
    Tab,
    UserId,
)
from convostate.aio import AsyncHelpdesk
from convostate.codec import PROBLEM_MEDIA_TYPE, problem, to_json

DEFAULT_URL = "sqlite+aiosqlite:///helpdesk.db"


class Inbound(BaseModel):
    """What the SMS provider posts: its message id, the sender's phone, the inbox (our number) and text."""

    message_id: str
    inbox_id: str
    phone: str
    body: str


class Assignee(BaseModel):
    user_id: str


def create_app(
    url: str | None = None,
    *,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    sweep_every: float | None = 60.0,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        where = url or os.environ.get("CONVOSTATE_URL", DEFAULT_URL)
        async with await AsyncHelpdesk.open(where, clock=clock, mailer=mailer) as desk:
            app.state.desk = desk
            sweeper = asyncio.create_task(sweep(desk, sweep_every)) if sweep_every else None
            yield
            if sweeper is not None:
                await stop(sweeper)

    app = FastAPI(title="convostate helpdesk", lifespan=lifespan)
    app.exception_handler(ConvostateError)(error_response)
    add_routes(app)
    return app


async def sweep(desk: AsyncHelpdesk, every: float) -> None:
    """The scheduler: due time rules, then the outbox (only with a mailer), every ``every`` seconds."""
    while True:
        with contextlib.suppress(ConvostateError):
            await desk.run_due()
            if desk.mailer is not None:
                await desk.deliver_pending()
        await asyncio.sleep(every)


async def stop(sweeper: asyncio.Task[None]) -> None:
    """Cancel the sweeper and wait until it has unwound (its transaction rolled back, its connection back
    in the pool) before the helpdesk is closed: a task cancelled but not awaited may still hold the
    connection that closing waits for."""
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper


def error_response(_request: Request, error: Exception) -> Response:
    status, body = problem(error)  # 403, 404, 409, 422, 503 (docs/codec.md)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def desk_of(request: Request) -> AsyncHelpdesk:
    desk: AsyncHelpdesk = request.app.state.desk
    return desk


def caller(x_user_id: Annotated[str, Header()]) -> UserId:
    return UserId(x_user_id)


Desk = Annotated[AsyncHelpdesk, Depends(desk_of)]
Me = Annotated[UserId, Depends(caller)]


def json(value: Any) -> Response:
    return Response(to_json(value), media_type="application/json")


def add_routes(app: FastAPI) -> None:
    @app.post("/webhooks/inbound")
    async def inbound(message: Inbound, desk: Desk) -> Response:
        """Idempotent by the provider's message id: a redelivery answers with the first delivery's
        conversation and changes nothing (``changed`` is false)."""
        contact = await desk.contact_for(phone=message.phone)  # added once, however many deliveries race
        inbox = InboxId(message.inbox_id)
        return json(await desk.receive(contact.id, inbox, message.body, external_id=message.message_id))

    @app.get("/me/tabs/{tab}")
    async def tab(tab: Tab, desk: Desk, me: Me, cursor: str | None = None, limit: int = 25) -> Response:
        return json(await desk.tab(me, tab, cursor=cursor, limit=limit))

    @app.get("/me/badges")
    async def badges(desk: Desk, me: Me) -> Response:
        return json(await desk.badges(me))

    @app.post("/conversations/{cid}/assign")
    async def assign(cid: str, who: Assignee, desk: Desk, me: Me) -> Response:
        return json(await desk.assign(ConversationId(cid), UserId(who.user_id), by=me))

    @app.post("/conversations/{cid}/unassign")
    async def unassign(cid: str, who: Assignee, desk: Desk, me: Me) -> Response:
        return json(await desk.unassign(ConversationId(cid), UserId(who.user_id), by=me))

    @app.post("/conversations/{cid}/close")
    async def close(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.close(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/reopen")
    async def reopen(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.reopen(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/star")
    async def star(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.star(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/unstar")
    async def unstar(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.unstar(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/read")
    async def read(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.mark_read(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/unread")
    async def unread(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.mark_unread(ConversationId(cid), by=me))

    @app.post("/conversations/{cid}/export")
    async def export(cid: str, desk: Desk, me: Me) -> Response:
        return json(await desk.export(ConversationId(cid), by=me))

    @app.get("/contacts/{contact_id}")
    async def contact_info(contact_id: str, desk: Desk, me: Me) -> Response:
        return json(await desk.contact_info(ContactId(contact_id), by=me))


app = create_app()
"""For ``uvicorn examples.fastapi_app.app:app``: the database named by ``CONVOSTATE_URL``."""

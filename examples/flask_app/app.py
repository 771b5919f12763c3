"""A Flask inbox on convostate: the inbound webhook, a user's tabs and badges, the actions, contact info and
export, as JSON through ``convostate.codec``; and the scheduler's entry, ``flask convostate-sweep``.

Run it (docs/embedding.md)::

    pip install 'convostate[sql]' flask
    export CONVOSTATE_URL=sqlite:///helpdesk.db      # or postgresql+psycopg://...
    flask --app examples/flask_app/app.py run
    * * * * *  flask --app examples/flask_app/app.py convostate-sweep     # the crontab line

One ``Helpdesk`` serves every request: Flask runs requests on threads, and the SQL store on a URL is safe to
share between threads (each call takes a connection from its pool). Who is calling comes from the
``X-User-Id`` header: a stand-in for the host's own sign-in, which an example cannot have.
"""

from __future__ import annotations

import os

import click
from flask import Flask, Response, request

from convostate import (
    ContactId,
    ConversationId,
    ConvostateError,
    Helpdesk,
    InboxId,
    InvalidInput,
    PermissionDenied,
    SmtpMailer,
    Tab,
    UserId,
)
from convostate.codec import PROBLEM_MEDIA_TYPE, problem, to_json


def create_app(helpdesk: Helpdesk | None = None) -> Flask:
    """The app, on ``helpdesk`` (tests pass one with a manual clock), else on ``$CONVOSTATE_URL``."""
    smtp = os.environ.get("CONVOSTATE_SMTP_URL")
    desk = helpdesk or Helpdesk.open(
        os.environ.get("CONVOSTATE_URL", "sqlite:///helpdesk.db"),
        mailer=SmtpMailer.from_url(smtp) if smtp else None,
    )
    app = Flask(__name__)

    @app.errorhandler(ConvostateError)
    def refused(error: ConvostateError) -> Response:
        status, body = problem(error)  # 403, 404, 409, 422, 503 (docs/codec.md)
        return Response(body, status, mimetype=PROBLEM_MEDIA_TYPE)

    @app.post("/webhooks/inbound")
    def inbound() -> Response:
        """The provider's webhook: ``message_id`` makes a redelivery change nothing."""
        message_id, phone, inbox, body = field("message_id"), field("from"), field("inbox_id"), field("body")
        desk.inbox(InboxId(inbox))  # an unknown inbox is refused before the sender is added
        sender = desk.contact_for(phone=phone).id  # added once, however many redeliveries race
        return as_json(desk.receive(sender, InboxId(inbox), body, external_id=message_id))

    @app.get("/tabs")
    def badges() -> Response:
        return as_json(desk.badges(caller()))

    @app.get("/tabs/<name>")
    def tab(name: str) -> Response:
        return as_json(desk.tab(caller(), tab_named(name), cursor=request.args.get("cursor"), limit=limit()))

    @app.post("/conversations/<conversation>/assign")
    def assign(conversation: str) -> Response:
        return as_json(desk.assign(ConversationId(conversation), UserId(field("user_id")), by=caller()))

    @app.post("/conversations/<conversation>/close")
    def close(conversation: str) -> Response:
        return as_json(desk.close(ConversationId(conversation), by=caller()))

    @app.post("/conversations/<conversation>/star")
    def star(conversation: str) -> Response:
        return as_json(desk.star(ConversationId(conversation), by=caller()))

    @app.post("/conversations/<conversation>/read")
    def read(conversation: str) -> Response:
        return as_json(desk.mark_read(ConversationId(conversation), by=caller()))

    @app.post("/conversations/<conversation>/export")
    def export(conversation: str) -> Response:
        return as_json(desk.export(ConversationId(conversation), by=caller()))

    @app.get("/contacts/<contact>")
    def contact_info(contact: str) -> Response:
        return as_json(desk.contact_info(ContactId(contact), by=caller()))

    @app.cli.command("convostate-sweep")
    def sweep() -> None:
        """Run the due time rules and send the queued emails: cron it every minute."""
        swept = desk.run_due()
        click.echo(f"ran {len(swept.acted)} due timers, {len(swept.stuck)} stuck")
        failed = 0
        if desk.mailer is not None:
            delivery = desk.deliver_pending()
            failed = len(delivery.failed)
            click.echo(f"sent {len(delivery.sent)} emails, {failed} failed")
        if swept.stuck or failed:
            raise SystemExit(1)

    return app


def as_json(value: object) -> Response:
    return Response(to_json(value), mimetype="application/json")


def caller() -> UserId:
    user = request.headers.get("X-User-Id")
    if not user:
        raise PermissionDenied("say who is calling: the X-User-Id header (the example's sign-in)")
    return UserId(user)


def field(name: str) -> str:
    """A text field of the request's JSON object; anything else is refused before anything is done."""
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"send a JSON object whose {name!r} is non-empty text")
    return value


def tab_named(name: str) -> Tab:
    try:
        return Tab(name)
    except ValueError:
        raise InvalidInput(f"no tab {name!r}: one of {', '.join(tab.value for tab in Tab)}") from None


def limit() -> int:
    text = request.args.get("limit", "25")
    if not text.isdigit():
        raise InvalidInput(f"limit must be a whole number of conversations, not {text!r}")
    return int(text)

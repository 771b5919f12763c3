"""The inbox's views: the Flask example's routes, each in the request's transaction (``ATOMIC_REQUESTS``),
so a view's convostate change and its ``Activity`` row are committed, or rolled back, together.

Who is calling comes from the ``X-User-Id`` header: a stand-in for Django's own sign-in (``request.user``),
which an example without users cannot have.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from convostate import (
    ContactId,
    ConversationId,
    ConvostateError,
    InboxId,
    InvalidInput,
    PermissionDenied,
    Tab,
    UserId,
)
from convostate.codec import PROBLEM_MEDIA_TYPE, problem, to_json

from .desk import helpdesk
from .models import Activity

View = Callable[..., HttpResponse]


def json_view(view: View) -> View:
    """The one error handler: a convostate refusal becomes its status and message, and everything the
    request wrote is rolled back (the transaction is marked for rollback)."""

    def handled(request: HttpRequest, **path: str) -> HttpResponse:
        try:
            return view(request, **path)
        except ConvostateError as error:
            transaction.set_rollback(True, using=settings.CONVOSTATE_DATABASE)
            status, body = problem(error)  # 403, 404, 409, 422, 503 (docs/codec.md)
            return HttpResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)

    return csrf_exempt(handled)


def as_json(value: object) -> HttpResponse:
    return HttpResponse(to_json(value), content_type="application/json")


@json_view
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """The provider's webhook: ``message_id`` makes a redelivery change nothing."""
    body = fields(request)
    message_id, phone, inbox, text = body("message_id"), body("from"), body("inbox_id"), body("body")
    with helpdesk() as desk:
        desk.inbox(InboxId(inbox))  # an unknown inbox is refused before the sender is added
        sender = desk.contact_for(phone=phone).id  # added once, however many redeliveries race
        return as_json(desk.receive(sender, InboxId(inbox), text, external_id=message_id))


@json_view
@require_GET
def badges(request: HttpRequest) -> HttpResponse:
    with helpdesk() as desk:
        return as_json(desk.badges(caller(request)))


@json_view
@require_GET
def tab(request: HttpRequest, name: str) -> HttpResponse:
    cursor, limit = request.GET.get("cursor"), whole_number(request.GET.get("limit", "25"))
    with helpdesk() as desk:
        return as_json(desk.tab(caller(request), tab_named(name), cursor=cursor, limit=limit))


@json_view
@require_POST
def assign(request: HttpRequest, conversation: str) -> HttpResponse:
    user = UserId(fields(request)("user_id"))
    with helpdesk() as desk:
        outcome = desk.assign(ConversationId(conversation), user, by=caller(request))
        return noted(request, "assign", conversation, outcome)


@json_view
@require_POST
def close(request: HttpRequest, conversation: str) -> HttpResponse:
    with helpdesk() as desk:
        return noted(
            request, "close", conversation, desk.close(ConversationId(conversation), by=caller(request))
        )


@json_view
@require_POST
def star(request: HttpRequest, conversation: str) -> HttpResponse:
    with helpdesk() as desk:
        return noted(
            request, "star", conversation, desk.star(ConversationId(conversation), by=caller(request))
        )


@json_view
@require_POST
def read(request: HttpRequest, conversation: str) -> HttpResponse:
    with helpdesk() as desk:
        return noted(
            request, "read", conversation, desk.mark_read(ConversationId(conversation), by=caller(request))
        )


@json_view
@require_POST
def export(request: HttpRequest, conversation: str) -> HttpResponse:
    with helpdesk() as desk:
        return noted(
            request, "export", conversation, desk.export(ConversationId(conversation), by=caller(request))
        )


@json_view
@require_GET
def contact_info(request: HttpRequest, contact: str) -> HttpResponse:
    with helpdesk() as desk:
        return as_json(desk.contact_info(ContactId(contact), by=caller(request)))


def noted(request: HttpRequest, action: str, conversation: str, result: object) -> HttpResponse:
    """The host's own row beside convostate's change, in the same transaction; then the response."""
    Activity.objects.create(user_id=caller(request).value, action=action, conversation_id=conversation)
    return as_json(result)


def caller(request: HttpRequest) -> UserId:
    user = request.headers.get("X-User-Id")
    if not user:
        raise PermissionDenied("say who is calling: the X-User-Id header (the example's sign-in)")
    return UserId(user)


def fields(request: HttpRequest) -> Callable[[str], str]:
    """The request's JSON object's text fields; anything else is refused before anything is done."""
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None

    def field(name: str) -> str:
        value = body.get(name) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"send a JSON object whose {name!r} is non-empty text")
        return value

    return field


def tab_named(name: str) -> Tab:
    try:
        return Tab(name)
    except ValueError:
        raise InvalidInput(f"no tab {name!r}: one of {', '.join(tab.value for tab in Tab)}") from None


def whole_number(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput(f"limit must be a whole number of conversations, not {text!r}")
    return int(text)

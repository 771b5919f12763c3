"""Any value, to any facade method: the call succeeds or raises a convostate error, and a refusal changes
nothing.

The catalogue (``test_bad_input_catalogue.py``) names each hostile input and its message; this draws them
at random, mixing valid ids of the scene with values of every wrong kind (None, numbers, text with lone
surrogates or NUL, collections, naive and out-of-range datetimes, ids of the wrong kind), so that no
Python exception escapes from deep inside on a combination nobody listed.
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone
from typing import Any

import hypothesis
import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convostate import (
    Actor,
    CalendarDuration,
    ContactId,
    ConversationId,
    ConvostateError,
    Helpdesk,
    InboxId,
    MemoryStore,
    MessageId,
    RuleId,
    Tab,
    UserId,
)
from convostate.core import Close, MarkRead, SendReply, Star
from tests.helpdesk_builders import build_account, open_conversation

METHODS = sorted(
    name
    for name, member in inspect.getmembers(Helpdesk, inspect.isfunction)
    if not name.startswith("_") and name not in {"deliver_pending"}  # no mailer traffic here: see test_export
)
"""Every public method of the facade (deliver_pending sends mail: its bad input is in the catalogue)."""

junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["", " ", "a\ud800b", "a\x00b", "x" * 100_001, "Mars/Olympus", "P9000Y", "all_open"]),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from(
        [
            datetime(2026, 3, 2, 9),  # noqa: DTZ001  # naive on purpose
            datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
            datetime.max.replace(tzinfo=timezone.utc),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=1))),
            pendulum.datetime(9500, 1, 1),
            pendulum.datetime(1969, 12, 31),
            CalendarDuration(weeks=1),
            Tab.ALL_OPEN,
            UserId("user-404"),
            ContactId("contact-404"),
            InboxId("inbox-404"),
            ConversationId("conversation-404"),
            MessageId("m-1"),
            RuleId("reopen-on-inbound"),
            Actor.rule(RuleId("anything")),
        ]
    ),
)


def right_kind(account: Any, conversation: ConversationId) -> dict[str, list[Any]]:
    """For each parameter name of the facade, values of the kind it takes (valid or not, for this scene)."""
    users = [account.ana, account.admin, account.outsider, account.ben, UserId("user-404")]
    return {
        "conversation_id": [conversation, ConversationId("conversation-404")],
        "user_id": users,
        "by": users,
        "owner": users,
        "members": [[account.ana], [], [account.ben, account.outsider]],
        "inbox_id": [account.support, account.ana_line, InboxId("inbox-404")],
        "contact_id": [account.contact, ContactId("contact-404")],
        "body": ["Hello", "=cmd|' /C calc'!A0", "Ünïcödé ✓", " x "],
        "text": ["ana", "", "Zoë"],
        "name": ["Dan Silva", "Ops"],
        "email": ["dan@example.com", "ANA@example.com"],
        "tab": list(Tab),
        "limit": [1, 25, 500],
        "batch": [1, 100],
        "cursor": [None, "1772443800000000~conversation-1"],
        "until": [pendulum.datetime(2026, 3, 9, 9, tz="UTC"), pendulum.datetime(2026, 3, 1, tz="UTC")],
        "now": [None, pendulum.datetime(2026, 3, 9, 9, tz="UTC")],
        "value": [1, 5],
        "command": [
            Close(conversation, Actor.user(account.ana)),
            Star(conversation, account.ben, Actor.user(account.ana)),
            MarkRead(conversation, None, Actor.rule(RuleId("wake-when-snooze-ends"))),
            SendReply(conversation, MessageId("m-9"), "hi", Actor.rule(RuleId("reopen-on-inbound"))),
        ],
        "timezone": ["UTC", "America/New_York"],
        "reopen_window": [CalendarDuration(days=2)],
        "exports_enabled": [True, False],
    }


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), method=st.sampled_from(METHODS))
def test_any_arguments_to_any_method_succeed_or_raise_a_convostate_error(
    data: st.DataObject, method: str
) -> None:
    account = build_account()
    conversation = open_conversation(account, contact=account.contact)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    kinds = right_kind(account, conversation)

    def value_for(name: str) -> Any:
        """Three times in four a value of the parameter's kind, so that calls get past the first check."""
        if name in kinds and data.draw(st.integers(0, 3)):
            return data.draw(st.sampled_from(kinds[name]))
        return data.draw(junk)

    signature = inspect.signature(getattr(Helpdesk, method))
    positional, keywords = [], {}
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind is parameter.VAR_KEYWORD:
            name = data.draw(st.sampled_from(["timezone", "reopen_window", "exports_enabled", "x"]))
            keywords[name] = value_for(name)
        elif parameter.default is not parameter.empty and data.draw(st.booleans()):
            continue  # leave an optional parameter out
        elif parameter.kind is parameter.KEYWORD_ONLY:
            keywords[parameter.name] = value_for(parameter.name)
        else:
            positional.append(value_for(parameter.name))
    store = account.helpdesk.store
    assert isinstance(store, MemoryStore)
    before = store.dump()
    try:
        getattr(account.helpdesk, method)(*positional, **keywords)
    except ConvostateError as refused:
        hypothesis.event(f"refused: {type(refused).__name__}")
        assert store.dump() == before
    else:
        hypothesis.event(f"accepted: {method}")

"""Bad input is refused with a typed error that says what was wrong, and changes nothing.

DESIGN.md, "Errors": "One base exception for the library; subclasses that say what went wrong and
what to do (unknown conversation / user / contact, not a member, single-user inbox, permission
denied, export disabled, concurrency conflict, invalid input such as a naive datetime or an empty
id). A command that fails changes nothing and records nothing."

Each error is also the matching builtin (``InvalidInput`` a ``ValueError``, ``Unknown*`` a
``LookupError``, ``PermissionDenied`` a ``PermissionError``), so a host's generic handlers map it
sensibly. States are frozen, so "changes nothing" means: ``decide`` raised (so nothing was recorded)
and the state passed on afterwards is equal to a copy taken before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import attrs
import pendulum
import pytest

from convostate import (
    AccountSettings,
    Actor,
    ConcurrencyConflict,
    Contact,
    ContactId,
    Conversation,
    ConversationId,
    ConversationStarted,
    ConvostateError,
    ExportDisabled,
    Inbox,
    InboxId,
    InboxKind,
    InvalidInput,
    MessageId,
    NotAMember,
    PermissionDenied,
    Role,
    RuleLoop,
    SingleUserInbox,
    UnknownContact,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
    User,
    UserId,
)
from convostate import Closed as ClosedEvent
from convostate.core import (
    Assign,
    Close,
    DecisionContext,
    ReceiveMessage,
    SendReply,
    Snooze,
    decide,
    evolve,
)
from convostate.rules import DEFAULT_RULES, handle
from tests.builders import (
    ANA,
    BEN,
    CONTACT,
    CONVERSATION,
    DAN,
    INBOX_ID,
    NOW,
    assign,
    by,
    close,
    context,
    inbound,
    multi_user_inbox,
    run,
    single_user_inbox,
    snooze,
    started,
    unassign,
)

NAIVE = datetime.fromisoformat("2026-03-02T09:00:00")
"""No time zone: the instant it means is unknown."""

NAIVE_KINDS = pytest.mark.parametrize(
    "naive", [NAIVE, pendulum.naive(2026, 3, 2, 9)], ids=["stdlib", "pendulum"]
)


@contextmanager
def unchanged(state: Conversation) -> Iterator[None]:
    """The block must leave ``state`` equal to a copy taken before it."""
    before = copy.deepcopy(state)
    yield
    assert state == before


def an_assigned_conversation() -> Conversation:
    state, _ = run([inbound(), assign(ANA)])
    return state


# ---------------------------------------------------------------- the hierarchy


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (InvalidInput, ValueError),
        (NotAMember, ValueError),
        (SingleUserInbox, ValueError),
        (UnknownConversation, LookupError),
        (UnknownUser, LookupError),
        (UnknownContact, LookupError),
        (UnknownInbox, LookupError),
        (PermissionDenied, PermissionError),
        (ExportDisabled, PermissionError),
        (ConcurrencyConflict, ConvostateError),
        (RuleLoop, ConvostateError),
    ],
    ids=lambda value: value.__name__,
)
def test_every_error_is_a_convostate_error_and_the_matching_builtin(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, ConvostateError)
    assert issubclass(error, builtin)


def test_export_disabled_is_a_permission_denied() -> None:
    assert issubclass(ExportDisabled, PermissionDenied)


# ---------------------------------------------------------------- datetimes


@NAIVE_KINDS
def test_a_naive_datetime_as_the_decision_time_is_refused(naive: datetime) -> None:
    with pytest.raises(InvalidInput, match=r"naive datetime 2026-03-02T09:00:00 has no time zone"):
        DecisionContext(naive, inbox=multi_user_inbox())


def test_something_that_is_not_a_datetime_as_the_decision_time_is_refused() -> None:
    when: Any = "2026-03-02T09:00:00Z"
    with pytest.raises(InvalidInput, match="expected a timezone-aware datetime, got str"):
        DecisionContext(when, inbox=multi_user_inbox())


@NAIVE_KINDS
def test_a_naive_datetime_as_the_time_a_message_was_sent_is_refused(naive: datetime) -> None:
    with pytest.raises(InvalidInput, match=r"has no time zone.*pass an aware one"):
        ReceiveMessage(CONVERSATION, INBOX_ID, CONTACT, MessageId("m-1"), "Hi", sent_at=naive)


@NAIVE_KINDS
def test_a_naive_datetime_as_the_end_of_a_snooze_is_refused(naive: datetime) -> None:
    with pytest.raises(InvalidInput, match=r"has no time zone"):
        Snooze(CONVERSATION, naive, by(ANA))


@pytest.mark.parametrize("offset", [0, -1], ids=["now", "a second ago"])
def test_snoozing_until_a_time_that_is_not_later_than_now_is_refused_and_changes_nothing(offset: int) -> None:
    state = an_assigned_conversation()

    with unchanged(state), pytest.raises(InvalidInput, match="snooze until a later time than now"):
        decide(state, snooze(NOW.add(seconds=offset)), context())


def test_a_stdlib_aware_datetime_is_accepted_and_converted_to_pendulum() -> None:
    aware = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    ctx = DecisionContext(aware, inbox=multi_user_inbox())
    message = ReceiveMessage(CONVERSATION, INBOX_ID, CONTACT, MessageId("m-1"), "Hi", sent_at=aware)

    assert isinstance(ctx.now, pendulum.DateTime)
    assert ctx.now == NOW
    assert isinstance(message.sent_at, pendulum.DateTime)
    assert message.sent_at == NOW


# ---------------------------------------------------------------- ids and text


@pytest.mark.parametrize("text", ["", " ", "\t\n"], ids=["empty", "space", "white space"])
def test_an_id_of_empty_or_blank_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"UserId\.value must not be empty or only white space"):
        UserId(text)


def test_an_id_that_is_not_text_is_refused() -> None:
    number: Any = 3
    with pytest.raises(InvalidInput, match=r"UserId\.value must be a str .*got int 3"):
        UserId(number)


def test_an_id_of_another_kind_is_not_equal_even_with_the_same_text() -> None:
    assert UserId("x") != ContactId("x")


def test_a_plain_string_where_a_user_id_is_expected_is_refused() -> None:
    plain: Any = "ben"
    with pytest.raises(InvalidInput, match=r"user_id must be a UserId \(e\.g\. UserId\('ana'\)\)"):
        Assign(CONVERSATION, plain, by(ANA))


def test_an_actor_with_the_wrong_kind_of_id_is_refused() -> None:
    contact: Any = ContactId("maria")
    with pytest.raises(InvalidInput, match="must be a UserId"):
        Actor.user(contact)


@pytest.mark.parametrize("body", ["", "   ", "\n"], ids=["empty", "spaces", "newline"])
def test_an_empty_or_blank_message_body_is_refused(body: str) -> None:
    with pytest.raises(InvalidInput, match="body must not be empty"):
        ReceiveMessage(CONVERSATION, INBOX_ID, CONTACT, MessageId("m-1"), body)
    with pytest.raises(InvalidInput, match="body must not be empty"):
        SendReply(CONVERSATION, MessageId("m-2"), body, by(ANA))


# ---------------------------------------------------------------- users, contacts, inboxes, settings


def test_contact_tags_that_are_not_text_are_refused() -> None:
    tags: Any = frozenset({3})
    with pytest.raises(InvalidInput, match="each member of tags must be a str"):
        Contact(CONTACT, "Maria", tags=tags)


def test_a_role_that_is_not_a_role_is_refused() -> None:
    admin: Any = "admin"
    with pytest.raises(InvalidInput, match=r"role must be a Role \(e\.g\. Role\.AGENT\)"):
        User(ANA, "Ana", "ana@example.com", admin)


def test_a_valid_user_is_accepted() -> None:
    assert User(ANA, "Ana", "ana@example.com", Role.ADMIN).is_admin


@pytest.mark.parametrize("email", ["ana", "ana@", "ana@example", "ana @example.com", "a@b@c.com"])
def test_a_user_with_an_email_that_is_not_an_address_is_refused(email: str) -> None:
    with pytest.raises(InvalidInput, match=r"email must be an email address such as"):
        User(ANA, "Ana", email)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "New York", "local", "+05:00"])
def test_a_timezone_that_is_not_an_iana_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"IANA time zone name such as 'America/New_York'"):
        AccountSettings(timezone=name)


@pytest.mark.parametrize("value", [3, None, 3.5], ids=repr)
def test_a_timezone_that_is_not_text_is_refused(value: Any) -> None:
    # pendulum.timezone(3) is a fixed offset of three seconds: accepting it would be a silent bug.
    with pytest.raises(InvalidInput, match=r"timezone must be .*'America/New_York'.*got"):
        AccountSettings(timezone=value)


@pytest.mark.parametrize("window", ["P1W", 7, pendulum.duration(weeks=1)], ids=repr)
def test_a_reopen_window_that_is_not_a_calendar_duration_is_refused(window: Any) -> None:
    with pytest.raises(InvalidInput, match=r"reopen_window must be a CalendarDuration"):
        AccountSettings(reopen_window=window)


@pytest.mark.parametrize("members", [frozenset({ANA, BEN}), frozenset()], ids=["two", "none"])
def test_a_single_user_inbox_with_other_than_one_member_is_refused(
    members: frozenset[UserId],
) -> None:
    with pytest.raises(InvalidInput, match="a single-user inbox has exactly one member"):
        Inbox(INBOX_ID, "Ana's line", InboxKind.SINGLE_USER, members)


def test_inbox_members_that_are_not_user_ids_are_refused() -> None:
    members: Any = frozenset({"ana"})
    with pytest.raises(InvalidInput, match="each member of members must be a UserId"):
        Inbox.multi_user(INBOX_ID, "Support", members)


# ---------------------------------------------------------------- commands that do not fit


def test_a_command_on_a_conversation_that_has_not_started_is_unknown() -> None:
    with pytest.raises(UnknownConversation, match=r"conv-1 has not started.*ReceiveMessage"):
        decide(None, close(), context())


def test_a_first_message_to_another_inbox_than_the_contexts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="inbox is sales, the message's is support"):
        decide(None, inbound(), context(inbox=multi_user_inbox(inbox_id=InboxId("sales"))))


def test_a_command_for_another_conversation_is_refused_and_changes_nothing() -> None:
    state = an_assigned_conversation()
    other = Close(ConversationId("conv-2"), by(ANA))

    with (
        unchanged(state),
        pytest.raises(InvalidInput, match="a command for conv-2 was decided on conv-1"),
    ):
        decide(state, other, context())


def test_a_message_from_another_contact_is_refused_and_changes_nothing() -> None:
    state = an_assigned_conversation()

    with unchanged(state), pytest.raises(InvalidInput, match="between maria and support, not eve"):
        decide(state, inbound(contact_id=ContactId("eve")), context())


def test_a_context_for_another_inbox_is_refused_and_changes_nothing() -> None:
    state = an_assigned_conversation()
    sales = context(inbox=multi_user_inbox(inbox_id=InboxId("sales")))

    with (
        unchanged(state),
        pytest.raises(InvalidInput, match="inbox is sales, the conversation's is support"),
    ):
        decide(state, close(), sales)


def test_decide_refuses_what_is_not_a_command() -> None:
    state = an_assigned_conversation()
    not_a_command: Any = ClosedEvent(CONVERSATION, by(ANA), NOW, frozenset())

    with unchanged(state), pytest.raises(InvalidInput, match=r"decide\(\) takes a command"):
        decide(state, not_a_command, context())


def test_assigning_a_non_member_is_refused_and_changes_nothing() -> None:
    state = an_assigned_conversation()

    with unchanged(state), pytest.raises(NotAMember, match="add them to the inbox first"):
        decide(state, assign(DAN), context())


@pytest.mark.parametrize("command", [assign(ANA), unassign(ANA)], ids=["assign", "unassign"])
def test_assignment_in_a_single_user_inbox_is_refused_and_changes_nothing(command: Any) -> None:
    ctx = context(inbox=single_user_inbox(ANA))
    state = started(ctx)

    with (
        unchanged(state),
        pytest.raises(SingleUserInbox, match="owner ana is always the only participant"),
    ):
        decide(state, command, ctx)


def test_linking_a_conversation_that_has_already_started_is_refused_and_changes_nothing() -> None:
    state = an_assigned_conversation()
    follow_up = ReceiveMessage(
        CONVERSATION, INBOX_ID, CONTACT, MessageId("m-2"), "Again", linked_from=ConversationId("conv-0")
    )

    with (
        unchanged(state),
        pytest.raises(InvalidInput, match="linked_from only applies to a new conversation"),
    ):
        decide(state, follow_up, context())


def test_a_command_refused_under_the_default_rules_records_nothing_either() -> None:
    state, _ = run([close()], state=an_assigned_conversation())

    with unchanged(state), pytest.raises(NotAMember):
        handle(state, assign(DAN), context(), DEFAULT_RULES)


def test_a_failed_command_leaves_the_state_usable() -> None:
    state = an_assigned_conversation()
    with pytest.raises(NotAMember):
        decide(state, assign(DAN), context())

    state, events = run([assign(BEN)], state=state)

    assert state.assignees == {ANA, BEN}
    assert len(events) == 1


# ---------------------------------------------------------------- events that do not fit the state


def test_evolve_refuses_an_event_of_another_conversation() -> None:
    state = an_assigned_conversation()
    other = ClosedEvent(ConversationId("conv-2"), by(ANA), NOW, frozenset())

    with (
        unchanged(state),
        pytest.raises(InvalidInput, match="an event of conv-2 cannot apply to conv-1"),
    ):
        evolve(state, other)


def test_evolve_refuses_an_event_before_the_conversation_started() -> None:
    with pytest.raises(InvalidInput, match="cannot apply to a conversation that has not started"):
        evolve(None, ClosedEvent(CONVERSATION, by(ANA), NOW, frozenset()))


def test_evolve_refuses_a_second_start() -> None:
    state = an_assigned_conversation()
    again = ConversationStarted(CONVERSATION, Actor.contact(CONTACT), NOW, INBOX_ID, CONTACT)

    with unchanged(state), pytest.raises(InvalidInput, match="conv-1 has already started"):
        evolve(state, again)


@pytest.mark.parametrize(
    "make",
    [close, object, lambda: None],
    ids=["a command", "an object", "None"],
)
def test_evolve_refuses_what_is_not_an_event(make: Callable[[], Any]) -> None:
    state = an_assigned_conversation()

    with unchanged(state), pytest.raises(InvalidInput, match=r"evolve\(\) takes an event"):
        evolve(state, make())


def test_values_are_frozen() -> None:
    state = an_assigned_conversation()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        state.assignees = frozenset()  # type: ignore[misc]


def test_the_contact_cannot_be_the_actor_of_a_users_command() -> None:
    contact = Actor.contact(ContactId("maria"))
    with pytest.raises(InvalidInput, match="done by a user or a rule, not by the contact"):
        SendReply(ConversationId("c1"), MessageId("m1"), "hi", contact)
    with pytest.raises(InvalidInput, match="done by a user or a rule, not by the contact"):
        Close(ConversationId("c1"), contact)


@pytest.mark.parametrize("not_a_user_id", ["ana", ContactId("ana"), None])
def test_an_actor_is_built_only_from_a_user_id_even_though_user_actors_are_shared(
    not_a_user_id: object,
) -> None:
    with pytest.raises(InvalidInput, match="UserId"):
        Actor.user(not_a_user_id)  # type: ignore[arg-type]

    assert Actor.user(UserId("ana")) is Actor.user(UserId("ana"))
    assert Actor.user(UserId("ana")).id == UserId("ana")

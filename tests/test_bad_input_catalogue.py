"""A catalogue of bad input through the ``Helpdesk`` facade: each is refused with its typed error, and the
store is exactly as it was.

DESIGN.md, "Errors": "subclasses that say what went wrong and what to do ... A command that fails changes
nothing and records nothing." Each case is one bad call on a small account (``tests.helpdesk_builders``)
holding an open conversation in Support assigned to ana and one on ana's single-user line; a few cases run
on an account with no users yet. "Exactly as it was" is checked with ``MemoryStore.dump()``, a deep copy
of everything the store holds, its tab index included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from convostate import (
    ContactId,
    ConversationId,
    ConvostateError,
    Helpdesk,
    InboxId,
    InvalidInput,
    MemoryStore,
    MessageId,
    NotAMember,
    PermissionDenied,
    Role,
    SingleUserInbox,
    Tab,
    UnknownContact,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
    UserId,
)
from convostate.core import ReceiveMessage
from convostate.testing import ManualClock, SequentialIds
from tests.helpdesk_builders import Account, build_account, open_conversation

NAIVE = datetime.fromisoformat("2026-03-02T09:30:00")


def wrong(value: object) -> Any:
    """A value of the wrong type, passed on purpose (as an untyped host might)."""
    return value


@dataclasses.dataclass(frozen=True)
class Scene:
    account: Account
    conversation: ConversationId
    """Open, in Support, assigned to ana."""
    on_anas_line: ConversationId
    """Open, in ana's single-user inbox."""

    @property
    def helpdesk(self) -> Helpdesk:
        return self.account.helpdesk


def build_scene() -> Scene:
    account = build_account()
    conversation = open_conversation(account, contact=account.contact)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    return Scene(account, conversation, open_conversation(account, account.ana_line))


def with_no_users(scene: Scene) -> Scene:
    """The same scene, but on a new account that has no users yet."""
    empty = Helpdesk(clock=ManualClock(), ids=SequentialIds())
    return dataclasses.replace(scene, account=dataclasses.replace(scene.account, helpdesk=empty))


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Scene], object]
    error: type[ConvostateError]
    match: str
    on_an_account_with_no_users: bool = False


CATALOGUE = [
    # ------------------------------------------------------------ unknown ids
    Case(
        "unknown conversation",
        lambda s: s.helpdesk.close(ConversationId("conversation-404"), by=s.account.ana),
        UnknownConversation,
        "no conversation conversation-404",
    ),
    Case(
        "history of an unknown conversation",
        lambda s: s.helpdesk.history(ConversationId("conversation-404")),
        UnknownConversation,
        "no conversation conversation-404",
    ),
    Case(
        "unknown acting user",
        lambda s: s.helpdesk.close(s.conversation, by=UserId("user-404")),
        UnknownUser,
        "no user user-404",
    ),
    Case(
        "unknown user to assign",
        lambda s: s.helpdesk.assign(s.conversation, UserId("user-404"), by=s.account.ana),
        UnknownUser,
        "no user user-404",
    ),
    Case(
        "tab of an unknown user",
        lambda s: s.helpdesk.tab(UserId("user-404"), Tab.ALL_OPEN),
        UnknownUser,
        "no user user-404",
    ),
    Case(
        "unknown member of a new inbox",
        lambda s: s.helpdesk.add_inbox("Billing", members=[UserId("user-404")], by=s.account.admin),
        UnknownUser,
        "no user user-404",
    ),
    Case(
        "unknown contact writes",
        lambda s: s.helpdesk.receive(ContactId("contact-404"), s.account.support, "Hi"),
        UnknownContact,
        "no contact contact-404",
    ),
    Case(
        "a core command from an unknown contact",
        lambda s: s.helpdesk.execute(
            ReceiveMessage(
                ConversationId("conversation-new"),
                s.account.support,
                ContactId("contact-404"),
                MessageId("message-new"),
                "Hi",
            )
        ),
        UnknownContact,
        "contact-404",
    ),
    Case(
        "writing to an unknown inbox",
        lambda s: s.helpdesk.receive(s.account.contact, InboxId("inbox-404"), "Hi"),
        UnknownInbox,
        "no inbox inbox-404",
    ),
    Case(
        "searching the members of an unknown inbox",
        lambda s: s.helpdesk.search_users("a", inbox_id=InboxId("inbox-404")),
        UnknownInbox,
        "no inbox inbox-404",
    ),
    Case(
        "adding a member to an unknown inbox",
        lambda s: s.helpdesk.add_member(InboxId("inbox-404"), s.account.ben, by=s.account.admin),
        UnknownInbox,
        "no inbox inbox-404",
    ),
    # ------------------------------------------------------------ membership and single-user inboxes
    Case(
        "assigning a user who is not a member",
        lambda s: s.helpdesk.assign(s.conversation, s.account.outsider, by=s.account.ana),
        NotAMember,
        "is not a member of inbox",
    ),
    Case(
        "assigning in a single-user inbox",
        lambda s: s.helpdesk.assign(s.on_anas_line, s.account.ana, by=s.account.ana),
        SingleUserInbox,
        "single-user inbox",
    ),
    Case(
        "unassigning in a single-user inbox",
        lambda s: s.helpdesk.unassign(s.on_anas_line, s.account.ana, by=s.account.ana),
        SingleUserInbox,
        "single-user inbox",
    ),
    Case(
        "adding a member to a single-user inbox",
        lambda s: s.helpdesk.add_member(s.account.ana_line, s.account.ben, by=s.account.admin),
        SingleUserInbox,
        "single-user inbox",
    ),
    Case(
        "removing the owner of a single-user inbox",
        lambda s: s.helpdesk.remove_member(s.account.ana_line, s.account.ana, by=s.account.admin),
        SingleUserInbox,
        "single-user inbox",
    ),
    # ------------------------------------------------------------ who may do what
    Case(
        "a settings change by an agent",
        lambda s: s.helpdesk.update_settings(by=s.account.ana, exports_enabled=False),
        PermissionDenied,
        "is not an admin",
    ),
    Case(
        "a settings change by nobody",
        lambda s: s.helpdesk.update_settings(by=wrong(None), exports_enabled=False),
        PermissionDenied,
        "only an admin may do this",
    ),
    Case(
        "adding a user without by= when the account has users",
        lambda s: s.helpdesk.add_user("Dan Silva", "dan@example.com"),
        PermissionDenied,
        "pass by= an admin",
    ),
    Case(
        "adding a user by an agent",
        lambda s: s.helpdesk.add_user("Dan Silva", "dan@example.com", by=s.account.ben),
        PermissionDenied,
        "is not an admin",
    ),
    Case(
        "a first user who is not an admin",
        lambda s: s.helpdesk.add_user("Ana Lima", "ana@example.com"),
        PermissionDenied,
        "first user as an admin",
        on_an_account_with_no_users=True,
    ),
    Case(
        "a first user added by someone",
        lambda s: s.helpdesk.add_user("Ana Lima", "ana@example.com", role=Role.ADMIN, by=UserId("user-1")),
        PermissionDenied,
        "with no by=",
        on_an_account_with_no_users=True,
    ),
    Case(
        "an inbox added by an agent",
        lambda s: s.helpdesk.add_inbox("Billing", members=[s.account.ben], by=s.account.ana),
        PermissionDenied,
        "is not an admin",
    ),
    Case(
        "a member removed by an agent",
        lambda s: s.helpdesk.remove_member(s.account.support, s.account.ana, by=s.account.ben),
        PermissionDenied,
        "is not an admin",
    ),
    Case(
        "a non-member agent closing",
        lambda s: s.helpdesk.close(s.conversation, by=s.account.outsider),
        PermissionDenied,
        "is not a member of inbox",
    ),
    Case(
        "a non-member agent starring",
        lambda s: s.helpdesk.star(s.conversation, by=s.account.outsider),
        PermissionDenied,
        "is not a member of inbox",
    ),
    Case(
        "a non-member agent replying",
        lambda s: s.helpdesk.reply(s.conversation, "Hi", by=s.account.outsider),
        PermissionDenied,
        "is not a member of inbox",
    ),
    Case(
        "a non-member agent marking read",
        lambda s: s.helpdesk.mark_read(s.conversation, by=s.account.outsider),
        PermissionDenied,
        "is not a member of inbox",
    ),
    # ------------------------------------------------------------ settings
    Case(
        "an unknown setting",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, colour="blue"),
        InvalidInput,
        r"unknown settings \['colour'\]",
    ),
    Case(
        "an invalid time zone",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, timezone="Mars/Olympus_Mons"),
        InvalidInput,
        "IANA time zone",
    ),
    Case(
        "a time zone that is not text",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, timezone=5),
        InvalidInput,
        "timezone must be a str",
    ),
    Case(
        "a read model given as text",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, read_model="per_user"),
        InvalidInput,
        "read_model must be a ReadModel",
    ),
    Case(
        "a reopen window given as text",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, reopen_window="P1W"),
        InvalidInput,
        "reopen_window must be a CalendarDuration",
    ),
    Case(
        "exports enabled given as a number",
        lambda s: s.helpdesk.update_settings(by=s.account.admin, exports_enabled=1),
        InvalidInput,
        "exports_enabled must be a bool",
    ),
    # ------------------------------------------------------------ datetimes
    Case(
        "a naive sent_at",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, "Hi", sent_at=NAIVE),
        InvalidInput,
        "has no time zone",
    ),
    Case(
        "a sent_at given as text",
        lambda s: s.helpdesk.receive(
            s.account.contact, s.account.support, "Hi", sent_at=wrong("2026-03-02T09:30:00Z")
        ),
        InvalidInput,
        "expected a timezone-aware datetime, got str",
    ),
    # ------------------------------------------------------------ ids of the wrong type
    Case(
        "a plain str as the acting user",
        lambda s: s.helpdesk.close(s.conversation, by=wrong("user-2")),
        InvalidInput,
        r"user id must be a UserId \(e\.g\. UserId\('user-1'\)\), got str",
    ),
    Case(
        "a plain str as the user to assign",
        lambda s: s.helpdesk.assign(s.conversation, wrong("user-3"), by=s.account.ana),
        InvalidInput,
        "user id must be a UserId",
    ),
    Case(
        "a contact id as the user to assign",
        lambda s: s.helpdesk.assign(s.conversation, wrong(s.account.contact), by=s.account.ana),
        InvalidInput,
        "user id must be a UserId",
    ),
    Case(
        "a plain str as the conversation",
        lambda s: s.helpdesk.close(wrong("conversation-1"), by=s.account.ana),
        InvalidInput,
        "conversation id must be a ConversationId",
    ),
    Case(
        "a plain str as the contact",
        lambda s: s.helpdesk.receive(wrong("contact-1"), s.account.support, "Hi"),
        InvalidInput,
        "contact id must be a ContactId",
    ),
    Case(
        "a plain str as the inbox",
        lambda s: s.helpdesk.receive(s.account.contact, wrong("inbox-1"), "Hi"),
        InvalidInput,
        "inbox id must be a InboxId",
    ),
    Case(
        "an int as the conversation",
        lambda s: s.helpdesk.reopen(wrong(1), by=s.account.ana),
        InvalidInput,
        "must be a ConversationId .* got int 1",
    ),
    Case(
        "an int as the acting user",
        lambda s: s.helpdesk.star(s.conversation, by=wrong(2)),
        InvalidInput,
        "must be a UserId .* got int 2",
    ),
    Case(
        "something that is not a command",
        lambda s: s.helpdesk.execute(wrong("close")),
        InvalidInput,
        "Close",
    ),
    # ------------------------------------------------------------ message bodies
    Case(
        "an empty inbound body",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, ""),
        InvalidInput,
        "body must not be empty",
    ),
    Case(
        "a white-space inbound body",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, " \t\n"),
        InvalidInput,
        "body must not be empty",
    ),
    Case(
        "an inbound body that is not text",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, wrong(42)),
        InvalidInput,
        "body must be a str",
    ),
    Case(
        "an empty reply",
        lambda s: s.helpdesk.reply(s.conversation, "", by=s.account.ana),
        InvalidInput,
        "body must not be empty",
    ),
    Case(
        "a white-space reply",
        lambda s: s.helpdesk.reply(s.conversation, "   ", by=s.account.ana),
        InvalidInput,
        "body must not be empty",
    ),
    Case(
        "a reply that is not text",
        lambda s: s.helpdesk.reply(s.conversation, wrong(None), by=s.account.ana),
        InvalidInput,
        "body must be a str",
    ),
    # ------------------------------------------------------------ provider message ids
    Case(
        "an empty external_id",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, "Hi", external_id=""),
        InvalidInput,
        "external_id must not be empty",
    ),
    Case(
        "a white-space external_id",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, "Hi", external_id="  "),
        InvalidInput,
        "external_id must not be empty",
    ),
    Case(
        "an external_id that is not text",
        lambda s: s.helpdesk.receive(s.account.contact, s.account.support, "Hi", external_id=wrong(7)),
        InvalidInput,
        "external_id must be a str",
    ),
    Case(
        "an empty external_id on a reply",
        lambda s: s.helpdesk.reply(s.conversation, "Hi", by=s.account.ana, external_id=""),
        InvalidInput,
        "external_id must not be empty",
    ),
    # ------------------------------------------------------------ users and contacts
    Case(
        "a duplicate email in another case",
        lambda s: s.helpdesk.add_user("Ana Again", "ANA@Example.com", by=s.account.admin),
        InvalidInput,
        "already exists",
    ),
    Case(
        "a bad email",
        lambda s: s.helpdesk.add_user("Dan Silva", "dan.example.com", by=s.account.admin),
        InvalidInput,
        "must be an email address",
    ),
    Case(
        "an empty user name",
        lambda s: s.helpdesk.add_user("", "dan@example.com", by=s.account.admin),
        InvalidInput,
        "name must not be empty",
    ),
    Case(
        "a white-space user name",
        lambda s: s.helpdesk.add_user("  ", "dan@example.com", by=s.account.admin),
        InvalidInput,
        "name must not be empty",
    ),
    Case(
        "a role given as text",
        lambda s: s.helpdesk.add_user(
            "Dan Silva", "dan@example.com", role=wrong("admin"), by=s.account.admin
        ),
        InvalidInput,
        "role must be a Role",
    ),
    Case(
        "a contact name that is not text",
        lambda s: s.helpdesk.add_contact(name=wrong(3)),
        InvalidInput,
        "name must be a str",
    ),
    Case(
        "a contact phone number that is not text",
        lambda s: s.helpdesk.add_contact(phone=wrong(15551234567)),
        InvalidInput,
        "phone must be a str",
    ),
    # ------------------------------------------------------------ pages of tabs
    Case(
        "a page limit of 0",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, limit=0),
        InvalidInput,
        "limit must be between 1 and 500, got 0",
    ),
    Case(
        "a page limit of 10_000",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, limit=10_000),
        InvalidInput,
        "limit must be between 1 and 500, got 10000",
    ),
    Case(
        "a page limit that is a bool",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, limit=True),
        InvalidInput,
        "limit must be a int",
    ),
    Case(
        "a garbage cursor",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, cursor="not-a-cursor"),
        InvalidInput,
        "is not a cursor",
    ),
    Case(
        "a cursor with no conversation",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, cursor="1772443800000000~"),
        InvalidInput,
        "is not a cursor",
    ),
    Case(
        "a cursor of superscript digits",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, cursor="²~conversation-1"),
        InvalidInput,
        "is not a cursor",
    ),
    Case(
        "a cursor that is not text",
        lambda s: s.helpdesk.tab(s.account.ana, Tab.ALL_OPEN, cursor=wrong(42)),
        InvalidInput,
        "is not a cursor",
    ),
    Case(
        "a tab given as text",
        lambda s: s.helpdesk.tab(s.account.ana, wrong("all_open")),
        InvalidInput,
        "tab must be a Tab",
    ),
    # ------------------------------------------------------------ search and set-up
    Case(
        "a search for something that is not text",
        lambda s: s.helpdesk.search_users(wrong(42)),
        InvalidInput,
        "text must be a str",
    ),
    Case(
        "a search for None",
        lambda s: s.helpdesk.search_users(wrong(None)),
        InvalidInput,
        "text must be a str",
    ),
    Case(
        "a helpdesk that may never try",
        lambda s: Helpdesk(store=s.helpdesk.store, attempts=0),
        InvalidInput,
        "attempts .*must be at least 1",
    ),
]


def test_the_catalogue_has_at_least_25_cases_with_unique_ids() -> None:
    ids = [case.id for case in CATALOGUE]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_bad_input_is_refused_with_its_typed_error_and_changes_nothing(case: Case) -> None:
    scene = build_scene()
    if case.on_an_account_with_no_users:
        scene = with_no_users(scene)
    store = scene.helpdesk.store
    assert isinstance(store, MemoryStore)
    before = store.dump()

    with pytest.raises(case.error, match=case.match) as refused:
        case.call(scene)

    assert type(refused.value) is case.error
    assert store.dump() == before

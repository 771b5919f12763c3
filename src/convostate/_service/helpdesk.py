"""The facade a host app calls: one object for a whole account, built from ports with working defaults.

Every action follows the same path: check the input and the actor, load, decide, save with the version it
loaded (re-deciding on fresh state if someone else saved first), and return what changed. The rules
themselves live in the core's decider; this module only does the plumbing around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from convostate._adapters.clocks import SystemClock
from convostate._adapters.ids import RandomIds
from convostate._adapters.memory_store import MemoryStore
from convostate._adapters.outbox_mailer import OutboxMailer
from convostate._core.actors import Actor
from convostate._core.commands import (
    Assign,
    Close,
    Command,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Star,
    Unassign,
    Unstar,
)
from convostate._core.decider import DecisionContext, decide, evolve
from convostate._core.errors import (
    ConcurrencyConflict,
    InvalidInput,
    PermissionDenied,
    SingleUserInbox,
    UnknownContact,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
)
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, Role, User
from convostate._core.tabs import Tab
from convostate._core.validate import aware_datetime, check_type, non_empty_text
from convostate._ports import Clock, DuplicateDelivery, IdGenerator, Mailer, Store
from convostate._service.history import summarize
from convostate._service.results import Badges, HistoryEntry, Outcome, Page, cursor_after, parse_cursor
from convostate._service.user_search import search

DEFAULT_ATTEMPTS: Final = 5
"""How many times an action re-decides on fresh state after losing a race before it gives up."""

MAX_PAGE_SIZE: Final = 500


class Helpdesk:
    """One account's conversations, users, inboxes and contacts.

    ``Helpdesk()`` works with no arguments: memory store, system clock, an outbox mailer that keeps what it
    sends, and random ids. Pass your own ports to change any of them.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        ids: IdGenerator | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.mailer: Mailer = mailer if mailer is not None else OutboxMailer()
        self.ids: IdGenerator = ids if ids is not None else RandomIds()
        self.attempts = check_type("attempts", attempts, int, "5")
        if attempts < 1:
            raise InvalidInput("attempts must be at least 1")

    # ------------------------------------------------------------------ the account directory

    def add_user(self, name: str, email: str, *, role: Role = Role.AGENT, by: UserId | None = None) -> User:
        """Add a user. The account's first user must be an admin and is added with no ``by``; after that,
        only an admin may add users."""
        if self.store.users():
            self._admin(by)
        elif role is not Role.ADMIN or by is not None:
            raise PermissionDenied(
                "the account has no users yet: add its first user as an admin, with no by="
            )
        user = User(UserId(self.ids.new_id("user")), name, email, role)
        if self.store.user_by_email(email) is not None:
            raise InvalidInput(f"a user with email {email} already exists; emails are unique in an account")
        self.store.add_user(user)
        return user

    def add_inbox(self, name: str, *, members: Iterable[UserId] = (), by: UserId) -> Inbox:
        """Add a multi-user inbox, whose members can be assigned to its conversations."""
        self._admin(by)
        member_ids = frozenset(members)
        for member in member_ids:
            self.user(member)
        inbox = Inbox.multi_user(InboxId(self.ids.new_id("inbox")), name, member_ids)
        self.store.save_inbox(inbox)
        return inbox

    def add_single_user_inbox(self, name: str, *, owner: UserId, by: UserId) -> Inbox:
        """Add a single-user inbox: ``owner`` is the only participant of each of its conversations."""
        self._admin(by)
        self.user(owner)
        inbox = Inbox.single_user(InboxId(self.ids.new_id("inbox")), name, owner)
        self.store.save_inbox(inbox)
        return inbox

    def add_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        self._admin(by)
        inbox, _ = self._multi_user_inbox(inbox_id), self.user(user_id)
        updated = attrs.evolve(inbox, members=inbox.members | {user_id})
        self.store.save_inbox(updated)
        return updated

    def remove_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        """Remove a member; they are unassigned from the inbox's conversations first, by ``by``."""
        self._admin(by)
        inbox, _ = self._multi_user_inbox(inbox_id), self.user(user_id)
        for conversation_id in self.store.conversations_assigned_to(user_id, inbox_id):
            self._run(Unassign(conversation_id, user_id, Actor.user(by)))
        updated = attrs.evolve(inbox, members=inbox.members - {user_id})
        self.store.save_inbox(updated)
        return updated

    def add_contact(self, *, name: str = "", phone: str | None = None, email: str | None = None) -> Contact:
        """Add a contact, as the host's channel integration meets a new phone number or address."""
        contact = Contact(ContactId(self.ids.new_id("contact")), name, phone, email)
        self.store.add_contact(contact)
        return contact

    def user(self, user_id: UserId) -> User:
        user = self.store.user(check_type("user id", user_id, UserId, "UserId('user-1')"))
        if user is None:
            raise UnknownUser(f"no user {user_id} in this account")
        return user

    def inbox(self, inbox_id: InboxId) -> Inbox:
        inbox = self.store.inbox(check_type("inbox id", inbox_id, InboxId, "InboxId('inbox-1')"))
        if inbox is None:
            raise UnknownInbox(f"no inbox {inbox_id} in this account")
        return inbox

    def contact(self, contact_id: ContactId) -> Contact:
        contact = self.store.contact(
            check_type("contact id", contact_id, ContactId, "ContactId('contact-1')")
        )
        if contact is None:
            raise UnknownContact(f"no contact {contact_id} in this account")
        return contact

    def conversation(self, conversation_id: ConversationId) -> Conversation:
        cid = check_type(
            "conversation id", conversation_id, ConversationId, "ConversationId('conversation-1')"
        )
        conversation = self.store.conversation(cid)
        if conversation is None:
            raise UnknownConversation(f"no conversation {conversation_id} in this account")
        return conversation

    def settings(self) -> AccountSettings:
        return self.store.settings()

    def update_settings(self, *, by: UserId, **changes: Any) -> AccountSettings:
        """Change account settings (admins only): ``timezone``, ``reopen_window``, ``read_model``,
        ``exports_enabled``."""
        self._admin(by)
        known = {field.name for field in attrs.fields(AccountSettings)}
        unknown = sorted(changes.keys() - known)
        if unknown:
            raise InvalidInput(f"unknown settings {unknown}; the settings are {sorted(known)}")
        updated = attrs.evolve(self.store.settings(), **changes)
        self.store.save_settings(updated)
        return updated

    # ------------------------------------------------------------------ conversation actions

    def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        """The contact wrote to the inbox: start their conversation, add to it, or reopen it.

        ``external_id`` is the provider's message id: a message delivered twice with the same one changes
        nothing the second time.
        """
        self.contact(contact_id)
        self.inbox(inbox_id)
        if external_id is not None:
            non_empty_text("external_id", external_id)
        sent = aware_datetime(sent_at) if sent_at is not None else None
        existing = self.store.conversation_between(contact_id, inbox_id)
        conversation_id = existing or ConversationId(self.ids.new_id("conversation"))
        command = ReceiveMessage(
            conversation_id,
            inbox_id,
            contact_id,
            MessageId(self.ids.new_id("message")),
            body,
            external_id,
            sent,
        )
        return self._run(command, external_id=external_id)

    def reply(
        self, conversation_id: ConversationId, body: str, *, by: UserId, external_id: str | None = None
    ) -> Outcome:
        message_id = MessageId(self.ids.new_id("message"))
        return self._act(
            by,
            conversation_id,
            lambda actor: SendReply(conversation_id, message_id, body, actor, external_id),
        )

    def assign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        self.user(user_id)
        return self._act(by, conversation_id, lambda actor: Assign(conversation_id, user_id, actor))

    def unassign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        self.user(user_id)
        return self._act(by, conversation_id, lambda actor: Unassign(conversation_id, user_id, actor))

    def close(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: Close(conversation_id, actor))

    def reopen(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: Reopen(conversation_id, actor))

    def star(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        """Star it for ``by`` (stars are per user)."""
        return self._act(by, conversation_id, lambda actor: Star(conversation_id, by, actor))

    def unstar(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: Unstar(conversation_id, by, actor))

    def mark_read(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: MarkRead(conversation_id, by, actor))

    def mark_unread(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: MarkUnread(conversation_id, by, actor))

    # ------------------------------------------------------------------ queries

    def search_users(self, text: str, *, inbox_id: InboxId | None = None) -> list[User]:
        """Users whose name matches ``text`` (any case, accents ignored), members of ``inbox_id`` if given."""
        check_type("text", text, str, "'jo'")
        users = self.store.users()
        if inbox_id is not None:
            members = self.inbox(inbox_id).members
            users = [user for user in users if user.id in members]
        return search(users, text)

    def participants(self, conversation_id: ConversationId) -> list[User]:
        conversation = self.conversation(conversation_id)
        participants = conversation.participants(self.inbox(conversation.inbox_id))
        return sorted((self.user(user_id) for user_id in participants), key=lambda user: user.name.casefold())

    def tab(self, user_id: UserId, tab: Tab, *, cursor: str | None = None, limit: int = 25) -> Page:
        """A page of ``user_id``'s tab, newest activity first, across every inbox the user can see."""
        check_type("tab", tab, Tab, "Tab.ASSIGNED_TO_YOU")
        check_type("limit", limit, int, "25")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        after = parse_cursor(cursor) if cursor is not None else None
        inboxes = self._visible_inboxes(self.user(user_id))
        found = self.store.tab_page(tab, user_id, inboxes, after=after, limit=limit + 1)
        page = tuple(found[:limit])
        return Page(page, cursor_after(page[-1]) if len(found) > limit else None)

    def badges(self, user_id: UserId) -> Badges:
        """For each of the user's tabs, how many conversations it lists and how many are unread for them."""
        inboxes = self._visible_inboxes(self.user(user_id))
        return Badges.from_counts(self.store.tab_counts(user_id, inboxes))

    def history(self, conversation_id: ConversationId) -> list[HistoryEntry]:
        """Every change to the conversation, oldest first, with who or what caused it."""
        self.conversation(conversation_id)
        timezone = self.store.settings().timezone
        events = self.store.events(conversation_id)
        return [
            HistoryEntry(n, event, summarize(event, timezone, self._name))
            for n, event in enumerate(events, start=1)
        ]

    def _name(self, some_id: object) -> str:
        """What people call a user or contact in an activity log; the id itself if it has no name."""
        found: User | Contact | None = None
        if isinstance(some_id, UserId):
            found = self.store.user(some_id)
        elif isinstance(some_id, ContactId):
            found = self.store.contact(some_id)
        return found.name if found is not None and found.name else str(some_id)

    # ------------------------------------------------------------------ plumbing

    def execute(self, command: Command) -> Outcome:
        """Run any core command, after checking that a user actor may act on the conversation."""
        user_id = command.actor.user_id
        if user_id is not None:
            self._may_act(self.user(user_id), self.conversation(command.conversation_id))
        return self._run(command)

    def _act(self, by: UserId, conversation_id: ConversationId, build: Callable[[Actor], Command]) -> Outcome:
        actor = self.user(by)
        self._may_act(actor, self.conversation(conversation_id))
        return self._run(build(Actor.user(actor.id)))

    def _run(self, command: Command, *, external_id: str | None = None) -> Outcome:
        for _ in range(self.attempts):
            state = self.store.conversation(command.conversation_id)
            if state is not None:
                inbox = self.inbox(state.inbox_id)
            elif isinstance(command, ReceiveMessage):
                inbox = self.inbox(command.inbox_id)
            else:
                raise UnknownConversation(f"no conversation {command.conversation_id} in this account")
            context = DecisionContext(self.clock.now(), self.store.settings(), inbox=inbox)
            events = decide(state, command, context)
            if not events:
                assert state is not None  # only a new conversation's first message has no state
                return Outcome(state, ())
            new_state = state
            for event in events:
                new_state = evolve(new_state, event)
            assert new_state is not None
            expected = state.version if state is not None else 0
            try:
                self.store.append(new_state, events, expected_version=expected, external_id=external_id)
            except ConcurrencyConflict:
                continue
            except DuplicateDelivery as duplicate:
                return Outcome(self.conversation(duplicate.conversation_id), ())
            return Outcome(new_state, events)
        raise ConcurrencyConflict(
            f"conversation {command.conversation_id} kept changing under us; "
            f"gave up after {self.attempts} tries"
        )

    def _admin(self, user_id: UserId | None) -> User:
        if user_id is None:
            raise PermissionDenied("only an admin may do this: pass by= an admin's user id")
        user = self.user(user_id)
        if not user.is_admin:
            raise PermissionDenied(f"{user.name} ({user.id}) is not an admin; ask an admin of the account")
        return user

    def _may_act(self, user: User, conversation: Conversation) -> None:
        if user.is_admin or user.id in self.inbox(conversation.inbox_id).members:
            return
        raise PermissionDenied(
            f"{user.name} ({user.id}) is not a member of inbox {conversation.inbox_id}; "
            "an admin can add them to it"
        )

    def _multi_user_inbox(self, inbox_id: InboxId) -> Inbox:
        inbox = self.inbox(inbox_id)
        if inbox.is_single_user:
            raise SingleUserInbox(f"inbox {inbox_id} is a single-user inbox: its members cannot change")
        return inbox

    def _visible_inboxes(self, user: User) -> list[InboxId]:
        return [inbox.id for inbox in self.store.inboxes() if user.is_admin or user.id in inbox.members]

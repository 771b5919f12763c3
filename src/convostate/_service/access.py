"""Who and what an action is about: ids checked and looked up, and who may do what.

Every service asks the same questions (is this a user of the account, may they act in this inbox, is
this an admin) and gets the same errors, so they are answered here once.
"""

from __future__ import annotations

from convostate._core.commands import Command, MarkRead, MarkUnread, Star, Unstar
from convostate._core.errors import (
    PermissionDenied,
    SingleUserInbox,
    UnknownContact,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
)
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._core.model import Contact, Conversation, Inbox, User
from convostate._core.validate import check_type
from convostate._ports.roles import Store


class Access:
    def __init__(self, store: Store) -> None:
        self._store = store

    def user(self, user_id: UserId) -> User:
        user = self._store.user(check_type("user id", user_id, UserId, "UserId('user-1')"))
        if user is None:
            raise UnknownUser(f"no user {user_id} in this account")
        return user

    def inbox(self, inbox_id: InboxId) -> Inbox:
        inbox = self._store.inbox(check_type("inbox id", inbox_id, InboxId, "InboxId('inbox-1')"))
        if inbox is None:
            raise UnknownInbox(f"no inbox {inbox_id} in this account")
        return inbox

    def contact(self, contact_id: ContactId) -> Contact:
        contact = self._store.contact(
            check_type("contact id", contact_id, ContactId, "ContactId('contact-1')")
        )
        if contact is None:
            raise UnknownContact(f"no contact {contact_id} in this account")
        return contact

    def conversation(self, conversation_id: ConversationId) -> Conversation:
        cid = check_type(
            "conversation id", conversation_id, ConversationId, "ConversationId('conversation-1')"
        )
        conversation = self._store.conversation(cid)
        if conversation is None:
            raise UnknownConversation(f"no conversation {conversation_id} in this account")
        return conversation

    def admin(self, user_id: UserId | None) -> User:
        if user_id is None:
            raise PermissionDenied("only an admin may do this: pass by= an admin's user id")
        user = self.user(user_id)
        if not user.is_admin:
            raise PermissionDenied(f"{user.name} ({user.id}) is not an admin; ask an admin of the account")
        return user

    @staticmethod
    def may_act(user: User, inbox: Inbox) -> None:
        """Admins act in every inbox; others in the inboxes they are members of."""
        if not (user.is_admin or user.id in inbox.members):
            raise PermissionDenied(
                f"{user.name} ({user.id}) is not a member of inbox {inbox.id}; an admin can add them to it"
            )

    @staticmethod
    def for_themselves(user: User, command: Command) -> None:
        """Stars and read state are a user's own: a user stars, unstars, reads or unreads for themselves.
        An admin may also mark a conversation read or unread for everyone (``user_id=None``), as a rule
        does; nobody stars for someone else."""
        target = getattr(command, "user_id", user.id)
        if not isinstance(command, (Star, Unstar, MarkRead, MarkUnread)) or target == user.id:
            return
        if target is None and user.is_admin and isinstance(command, (MarkRead, MarkUnread)):
            return
        whose = "everyone" if target is None else str(target)
        raise PermissionDenied(
            f"{user.name} ({user.id}) may {type(command).__name__} only for themselves, not for {whose}"
            + ("; an admin may mark read or unread for everyone" if target is None else "")
        )

    def multi_user_inbox(self, inbox_id: InboxId) -> Inbox:
        inbox = self.inbox(inbox_id)
        if inbox.is_single_user:
            raise SingleUserInbox(f"inbox {inbox_id} is a single-user inbox: its members cannot change")
        return inbox

    def visible_inboxes(self, user: User) -> list[InboxId]:
        return [inbox.id for inbox in self._store.inboxes() if user.is_admin or user.id in inbox.members]

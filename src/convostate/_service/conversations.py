"""Conversation actions: a contact's message, a user's reply, assignment, status, stars and read state.

Each action is one unit of work: load the conversation, its inbox, the settings, the contact and the
rotation counts; check who acts; run the pipeline; commit the whole change set (this conversation, any it
opened, the turns, the delivered message id) or nothing.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime

import attrs

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
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate._core.errors import (
    InvalidInput,
    PermissionDenied,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
)
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, UserId
from convostate._core.model import AccountSettings, Availability, Conversation, Inbox
from convostate._core.rules.authority import could_issue
from convostate._core.validate import aware_datetime, check_type, non_empty_text
from convostate._ports.changes import (
    EMPTY_CHANGE_SET,
    AssignmentsSeen,
    ChangeSet,
    ConversationChange,
    ExternalDelivery,
)
from convostate._ports.roles import Clock, IdGenerator, Store
from convostate._service.access import Access
from convostate._service.pipeline import Loaded, Pipeline, Turns
from convostate._service.results import Outcome
from convostate._service.unit_of_work import UnitOfWork

_COMMAND_TYPES: tuple[type, ...] = typing.get_args(Command)
_NO_TURNS = Turns({})
_NOBODY: tuple[frozenset[UserId], frozenset[UserId]] = (frozenset(), frozenset())


class ConversationService:
    def __init__(
        self,
        *,
        store: Store,
        work: UnitOfWork,
        clock: Clock,
        ids: IdGenerator,
        access: Access,
        pipeline: Pipeline,
    ) -> None:
        self._store = store
        self._work = work
        self._clock = clock
        self._ids = ids
        self._access = access
        self._pipeline = pipeline
        self._round_robin = pipeline.round_robin_rules
        self._rotation_users = pipeline.round_robin_users

    # ------------------------------------------------------------------ actions

    def receive(
        self,
        contact_id: ContactId,
        inbox_id: InboxId,
        body: str,
        *,
        external_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> Outcome:
        self._access.contact(contact_id)
        self._access.inbox(inbox_id)
        if external_id is not None:
            non_empty_text("external_id", external_id)
        sent = aware_datetime(sent_at) if sent_at is not None else None
        existing = self._store.conversation_between(contact_id, inbox_id)
        conversation_id = existing or ConversationId(self._ids.new_id("conversation"))
        message_id = MessageId(self._ids.new_id("message"))
        command = ReceiveMessage(conversation_id, inbox_id, contact_id, message_id, body, external_id, sent)
        return self.run(command)

    def reply(
        self, conversation_id: ConversationId, body: str, *, by: UserId, external_id: str | None = None
    ) -> Outcome:
        message_id = MessageId(self._ids.new_id("message"))
        return self._act(
            by,
            lambda actor: SendReply(conversation_id, message_id, body, actor, external_id),
            conversation_id,
        )

    def assign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        self._access.user(user_id)
        return self._act(by, lambda actor: Assign(conversation_id, user_id, actor), conversation_id)

    def unassign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId) -> Outcome:
        self._access.user(user_id)
        return self._act(by, lambda actor: Unassign(conversation_id, user_id, actor), conversation_id)

    def close(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: Close(conversation_id, actor), conversation_id)

    def reopen(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: Reopen(conversation_id, actor), conversation_id)

    def snooze(self, conversation_id: ConversationId, until: datetime, *, by: UserId) -> Outcome:
        wake_at = aware_datetime(until)
        return self._act(by, lambda actor: Snooze(conversation_id, wake_at, actor), conversation_id)

    def unsnooze(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: Unsnooze(conversation_id, actor), conversation_id)

    def star(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: Star(conversation_id, by, actor), conversation_id)

    def unstar(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: Unstar(conversation_id, by, actor), conversation_id)

    def mark_read(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: MarkRead(conversation_id, by, actor), conversation_id)

    def mark_unread(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, lambda actor: MarkUnread(conversation_id, by, actor), conversation_id)

    def execute(self, command: Command) -> Outcome:
        """Run any core command, after checking that a user actor may act on the conversation."""
        if not isinstance(command, _COMMAND_TYPES):
            raise InvalidInput(f"execute() takes a command such as Close(...), got {type(command).__name__}")
        if isinstance(command, ReceiveMessage):
            self._access.contact(command.contact_id)
            self._access.inbox(command.inbox_id)
            return self.run(command)
        user_id = command.actor.user_id
        if user_id is not None:
            user = self._access.user(user_id)
            self._access.conversation(command.conversation_id)
            self._access.for_themselves(user, command)
            return self.run(command, by=user_id)
        self._in_a_rules_name(command)
        return self.run(command)

    def _in_a_rules_name(self, command: Command) -> None:
        """A command run as a rule must be one of the helpdesk's rules could issue: nobody else may write
        history in a rule's name or skip the permission checks that way."""
        rule_id = command.actor.id
        rule = next((each for each in self._pipeline.rules.active() if each.id == rule_id), None)
        if rule is None:
            raise PermissionDenied(
                f"no enabled rule {rule_id} in this helpdesk's rules: a command run as a rule must name one "
                "(or run it as a user, with Actor.user(...))"
            )
        assignees = self._access.conversation(command.conversation_id).assignees
        if not could_issue(rule, command, assignees):
            raise PermissionDenied(
                f"rule {rule_id} has no action that issues {type(command).__name__} here; its actions are "
                f"{', '.join(action.kind.value for action in rule.actions)}"
            )

    # ------------------------------------------------------------------ the unit of work

    def _act(self, by: UserId, build: Callable[[Actor], Command], conversation_id: ConversationId) -> Outcome:
        check_type("user id", by, UserId, "UserId('user-1')")  # before Actor.user, for its message
        check_type("conversation id", conversation_id, ConversationId, "ConversationId('conversation-1')")
        return self.run(build(Actor.user(by)), by=by)

    def run(self, command: Command, *, by: UserId | None = None) -> Outcome:
        """Decide ``command`` and commit all it changes, deciding again on fresh state after a lost race.
        ``by`` is the user acting (a ``UserId`` already), checked against the inbox as loaded in each
        attempt."""
        external_id = command.external_id if isinstance(command, ReceiveMessage) else None

        def attempt() -> tuple[ChangeSet, Outcome]:
            directory_version = self._store.directory_version()
            user = self._store.user(by) if by is not None else None
            if by is not None and user is None:
                raise UnknownUser(f"no user {by} in this account")
            loaded, decided = self._load(command)
            if user is not None:
                self._access.may_act(user, loaded.inbox)
            turns = self.turns()
            outcome, changes = self._pipeline.command(loaded, decided, self._clock.now(), turns)
            if not changes:
                return EMPTY_CHANGE_SET, outcome
            deliveries: tuple[ExternalDelivery, ...] = ()
            if external_id is not None:
                deliveries = (ExternalDelivery(loaded.inbox.id, external_id, outcome.conversation.id),)
            change_set = ChangeSet(
                tuple(changes), directory_version, rotations=turns.taken(), deliveries=deliveries
            )
            return change_set, outcome

        return self._work.run(attempt, command.conversation_id, duplicate=self._delivered)

    def _delivered(self, conversation_id: ConversationId) -> Outcome:
        """A redelivered message: nothing changes; the outcome is the conversation it went to first."""
        return Outcome(self._access.conversation(conversation_id), ())

    def _load(self, command: Command) -> tuple[Loaded, Command]:
        if isinstance(command, ReceiveMessage) and command.linked_from is None:
            # Another server may have started this contact's conversation since: join it.
            current = self._store.conversation_between(command.contact_id, command.inbox_id)
            if current is not None and current != command.conversation_id:
                command = attrs.evolve(command, conversation_id=current)
        state = self._store.conversation(command.conversation_id)
        if state is not None:
            inbox = self._store.inbox(state.inbox_id)
            if inbox is None:
                raise UnknownInbox(f"no inbox {state.inbox_id} in this account")
            contact_id = state.contact_id
        elif isinstance(command, ReceiveMessage):
            inbox, contact_id = self._access.inbox(command.inbox_id), command.contact_id
        else:
            raise UnknownConversation(f"no conversation {command.conversation_id} in this account")
        contact = self._store.contact(contact_id)
        return Loaded(state, inbox, self._store.settings(), contact, *self._unavailable(state)), command

    def loaded(self, state: Conversation, inbox: Inbox, settings: AccountSettings) -> Loaded:
        """What deciding on a started conversation needs besides it: its inbox, the settings, its contact."""
        contact = self._store.contact(state.contact_id)
        return Loaded(state, inbox, settings, contact, *self._unavailable(state))

    def _unavailable(self, state: Conversation | None) -> tuple[frozenset[UserId], frozenset[UserId]]:
        """Who is away or offline, and who of them is offline, among the users a decision could route to:
        the conversation's assignees (the reopen rule) and the round-robin rules' users (a rotation
        skips them). One directory read per such user, never the whole directory; none for a new
        conversation in a helpdesk without round-robin rules (the common case)."""
        wanted = set(self._rotation_users)
        if state is not None:
            wanted.update(state.assignees)
        if not wanted:
            return _NOBODY
        users = [self._store.user(user_id) for user_id in sorted(wanted, key=lambda each: each.value)]
        away = [
            user for user in users if user is not None and user.availability is not Availability.AVAILABLE
        ]
        if not away:
            return _NOBODY
        offline = frozenset(user.id for user in away if user.availability is Availability.OFFLINE)
        return frozenset(user.id for user in away), offline

    def turns(self) -> Turns:
        """The round-robin rules' counts as stored now, for one decision to take turns from. Without
        round-robin rules no decision takes a turn, so one empty rotation serves them all."""
        return Turns(self._store.rotations(self._round_robin)) if self._round_robin else _NO_TURNS

    def unassign_everywhere(
        self, user_id: UserId, inbox: Inbox, by: UserId, turns: Turns
    ) -> tuple[list[ConversationChange], AssignmentsSeen]:
        """The changes that unassign ``user_id`` from each of the inbox's conversations, by ``by``, and the
        assignments they rest on: for a member's removal, committed with it."""
        settings, now = self._store.settings(), self._clock.now()
        changes: list[ConversationChange] = []
        assigned = self._store.conversations_assigned_to(user_id, inbox.id)
        for conversation_id in assigned:
            state = self._store.conversation(conversation_id)
            if state is None:
                continue
            command = Unassign(conversation_id, user_id, Actor.user(by))
            loaded = self.loaded(state, inbox, settings)
            _, more = self._pipeline.command(loaded, command, now, turns)
            changes.extend(more)
        return changes, AssignmentsSeen(user_id, inbox.id, frozenset(assigned))

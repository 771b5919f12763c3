"""The facade a host app calls: one object for a whole account, built from ports with working defaults.

Every action follows the same path: check the input and the actor, load, decide, save with the version it
loaded (re-deciding on fresh state if someone else saved first), and return what changed. The rules
themselves live in the core's decider; this module only does the plumbing around them.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
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
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate._core.decider import DecisionContext
from convostate._core.errors import (
    ConcurrencyConflict,
    ExportDisabled,
    InvalidInput,
    PermissionDenied,
    SingleUserInbox,
    UnknownContact,
    UnknownConversation,
    UnknownInbox,
    UnknownUser,
)
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, Role, User
from convostate._core.rules.defaults import DEFAULT_RULES
from convostate._core.rules.engine import (
    DEFAULT_MAX_DEPTH,
    FollowUp,
    OpenLinkedConversation,
    RuleLoop,
    Timer,
    Verdict,
    explain,
    fire_timer,
    handle,
    timers,
)
from convostate._core.rules.model import RuleSet
from convostate._core.tabs import Tab
from convostate._core.validate import aware_datetime, check_type, non_empty_text
from convostate._ports import Clock, DueTimer, DuplicateDelivery, IdGenerator, Mailer, OutgoingEmail, Store
from convostate._service.export import DEFAULT_SENDER, SEND_CLAIM, contact_label, email_address, export_email
from convostate._service.history import summarize
from convostate._service.results import (
    Badges,
    Delivery,
    ExportResult,
    HistoryEntry,
    Outcome,
    Page,
    StuckTimer,
    Sweep,
    cursor_after,
    parse_cursor,
)
from convostate._service.user_search import search

_COMMAND_TYPES: tuple[type, ...] = typing.get_args(Command)

DEFAULT_ATTEMPTS: Final = 5
"""How many times an action re-decides on fresh state after losing a race before it gives up."""

MAX_PAGE_SIZE: Final = 500


class _Turns:
    """A rotation that reads the store's turn counts and counts its own turns, to be saved with the decision
    that took them (``Store.append(rotations=...)``), so a refused decision gives away no turn."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.taken: dict[RuleId, int] = {}

    def next_in_rotation(self, rule_id: RuleId, size: int) -> int:
        count = self.taken[rule_id] if rule_id in self.taken else self._store.rotation(rule_id)
        self.taken[rule_id] = count + 1
        return count % size


class Helpdesk:
    """One account's conversations, users, inboxes and contacts.

    ``Helpdesk()`` works with no arguments: memory store, system clock, an outbox mailer that keeps what it
    sends, random ids and the default rules (the seed product's). Pass your own to change any of them.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        ids: IdGenerator | None = None,
        rules: RuleSet | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        max_rule_depth: int = DEFAULT_MAX_DEPTH,
        sender: str = DEFAULT_SENDER,
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.mailer: Mailer = mailer if mailer is not None else OutboxMailer()
        self.ids: IdGenerator = ids if ids is not None else RandomIds()
        self.rules: RuleSet = check_type("rules", rules, RuleSet, "DEFAULT_RULES") if rules else DEFAULT_RULES
        self.attempts = check_type("attempts", attempts, int, "5")
        self.max_rule_depth = check_type("max_rule_depth", max_rule_depth, int, "8")
        if attempts < 1 or max_rule_depth < 1:
            raise InvalidInput("attempts and max_rule_depth must be at least 1")
        self._sender = email_address("sender", sender)
        self.sender = sender
        """The ``From`` address of the emails convostate sends (exports)."""

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

    def add_contact(
        self,
        *,
        name: str = "",
        phone: str | None = None,
        email: str | None = None,
        tags: Iterable[str] = (),
    ) -> Contact:
        """Add a contact, as the host's channel integration meets a new phone number or address. ``tags``
        (``vip``, ``wholesale``) are for rules to test."""
        if isinstance(tags, str):
            raise InvalidInput(f"tags takes a list of tags such as ['vip'], not the single string {tags!r}")
        contact = Contact(ContactId(self.ids.new_id("contact")), name, phone, email, frozenset(tags))
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

    def snooze(self, conversation_id: ConversationId, until: datetime, *, by: UserId) -> Outcome:
        """Put it aside until ``until``; the default rules wake it, unread, then or when the contact
        writes."""
        wake_at = aware_datetime(until)
        return self._act(by, conversation_id, lambda actor: Snooze(conversation_id, wake_at, actor))

    def unsnooze(self, conversation_id: ConversationId, *, by: UserId) -> Outcome:
        return self._act(by, conversation_id, lambda actor: Unsnooze(conversation_id, actor))

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
            HistoryEntry(n, event, summarize(event, timezone, self._name, self._rule_reason))
            for n, event in enumerate(events, start=1)
        ]

    def _rule_reason(self, rule_id: RuleId) -> str:
        try:
            return self.rules[rule_id].description
        except KeyError:
            return ""

    def explain(self, conversation_id: ConversationId, event: Event | None = None) -> tuple[Verdict, ...]:
        """Which rules ``event`` (by default the conversation's latest) would trigger now, which not, and
        why."""
        conversation = self.conversation(conversation_id)
        if event is None:
            event = self.store.events(conversation_id)[-1]
        return explain(
            conversation,
            event,
            self._context(conversation.inbox_id),
            self.rules,
            contact=self._contact_of(conversation),
        )

    # ------------------------------------------------------------------ timers

    def due(self, now: datetime | None = None, *, limit: int = 100) -> list[DueTimer]:
        """The time rules due at ``now`` (default: the clock's now), oldest first, at most ``limit``."""
        at = aware_datetime(now) if now is not None else self.clock.now()
        check_type("limit", limit, int, "100")
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}")
        return list(self.store.due(at, limit=limit))

    def run_due(self, now: datetime | None = None, *, batch: int = 100) -> Sweep:
        """Run every time rule due at ``now`` (default: the clock's now), oldest first.

        Each acts at the instant it was due, so a late sweep records what a punctual one would. Running it
        twice, or from two workers at once, acts once: a rule's action makes it stop matching, and a worker
        that loses the race re-checks the fresh state. A rule that does not settle is reported as stuck.
        """
        at = aware_datetime(now) if now is not None else self.clock.now()
        acted: list[Outcome] = []
        stuck: dict[DueTimer, StuckTimer] = {}
        firings: dict[ConversationId, int] = {}
        while True:
            # Strictly oldest first: a timer that acts can make an older one due, so start over after it.
            timer = self._oldest_due(at, batch, stuck)
            if timer is None:
                return Sweep(tuple(acted), tuple(stuck.values()))
            firings[timer.conversation_id] = firings.get(timer.conversation_id, 0) + 1
            if firings[timer.conversation_id] > self.max_rule_depth:
                reason = f"time rules fired {self.max_rule_depth} times on it in one sweep: a loop"
                stuck[timer] = StuckTimer(timer, reason)
                continue
            try:
                outcome, still_due = self._fire(timer)
            except RuleLoop as loop:
                stuck[timer] = StuckTimer(timer, str(loop))
                continue
            if outcome is not None and outcome.changed:
                acted.append(outcome)
            if still_due:
                reason = f"rule {timer.rule_id} still matches after acting: it must change what it checks"
                stuck[timer] = StuckTimer(timer, reason)

    def _oldest_due(self, at: datetime, batch: int, skip: Mapping[DueTimer, object]) -> DueTimer | None:
        after = None
        while found := self.store.due(aware_datetime(at), limit=batch, after=after):
            for timer in found:
                if timer not in skip:
                    return timer
            after = found[-1]
        return None

    def _fire(self, due: DueTimer) -> tuple[Outcome | None, bool]:
        timer = Timer(due.rule_id, due.due_at)
        for _ in range(self.attempts):
            state = self.store.conversation(due.conversation_id)
            if state is None:
                return None, False
            contact = self._contact_of(state)
            context = self._context(state.inbox_id, max(due.due_at, state.updated_at))
            handled = fire_timer(
                state,
                timer,
                context,
                self.rules,
                contact=contact,
                max_depth=self.max_rule_depth,
                rotation=(turns := _Turns(self.store)),
            )
            new_state = handled.state or state
            new_timers = timers(new_state, self.rules, context, contact=contact)
            try:
                self.store.append(
                    new_state,
                    handled.events,
                    expected_version=state.version,
                    timers=new_timers,
                    rotations=turns.taken,
                )
            except ConcurrencyConflict:
                continue
            outcome = Outcome(new_state, handled.events, self._follow_ups(handled.follow_ups))
            return outcome, timer in new_timers and due.due_at <= context.now
        raise ConcurrencyConflict(
            f"conversation {due.conversation_id} kept changing; gave up on {due.rule_id}"
        )

    def _name(self, some_id: object) -> str:
        """What people call a user or contact in an activity log; the id itself if it has no name."""
        found: User | Contact | None = None
        if isinstance(some_id, UserId):
            found = self.store.user(some_id)
        elif isinstance(some_id, ContactId):
            found = self.store.contact(some_id)
        return found.name if found is not None and found.name else str(some_id)

    # ------------------------------------------------------------------ exports

    def export(self, conversation_id: ConversationId, *, by: UserId) -> ExportResult:
        """Email the conversation to ``by``'s address, as a CSV attachment named ``<conversation id>.csv``.

        Members of the conversation's inbox and admins may export it; when an admin has turned exports off
        (``exports_enabled=False``) it raises :class:`ExportDisabled` (a :class:`PermissionDenied`), and
        nothing is queued. The email is queued in the store's outbox first, so it is never lost, then sent
        at once. A failed send does not raise: the result says it was not delivered, and
        :meth:`deliver_pending` retries it.
        """
        user = self.user(by)
        conversation = self.conversation(conversation_id)
        self._may_act(user, conversation)
        settings = self.store.settings()
        if not settings.exports_enabled:
            raise ExportDisabled(
                "exports are turned off for this account; an admin must enable them: "
                "helpdesk.update_settings(by=<an admin's user id>, exports_enabled=True)"
            )
        recipient = email_address(f"the email of {user.name} ({user.id})", user.email)
        names: dict[Actor, str] = {}

        def author(actor: Actor) -> str:
            if actor not in names:
                names[actor] = self._author(actor)
            return names[actor]

        now = aware_datetime(self.clock.now())  # in UTC, like every instant convostate keeps
        export_id = self.ids.new_id("export")
        message = export_email(
            export_id=export_id,
            conversation_id=conversation.id,
            events=self.store.events(conversation.id),
            contact_name=author(Actor.contact(conversation.contact_id)),
            sender=self._sender,
            recipient_name=user.name,
            recipient=recipient,
            timezone=settings.timezone,
            now=now,
            author=author,
        )
        email = OutgoingEmail(export_id, conversation.id, user.id, message.as_bytes(), now)
        self.store.enqueue_email(email)
        attempt = self._send(email.id)
        if attempt is None:  # another worker picked it up first (deliver_pending): it sends it
            stored = self.store.outgoing_email(email.id)
            return ExportResult(stored if stored is not None else email)
        return ExportResult(*attempt)

    def deliver_pending(self, limit: int = 100) -> Delivery:
        """Send the emails still in the outbox, oldest first, at most ``limit``: call it from the host's
        scheduler, like :meth:`run_due`. Each is tried once per call; one that fails again stays pending.

        convostate never sends an email twice: a worker claims an email before sending it (so several
        workers can run this at once), and marks it sent as soon as the mailer accepts it. One window is
        left, as with any outbox: if the process dies, or the store fails, after the mail server accepted
        an email and before it is marked sent, the email is sent again once the claim ends (``SEND_CLAIM``,
        ten minutes). Both copies carry the same ``Message-ID``, so a receiving server can drop the second.
        """
        check_type("limit", limit, int, "100")
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}")
        sent: list[OutgoingEmail] = []
        failed: list[OutgoingEmail] = []
        for pending in self.store.pending_emails(limit):
            attempt = self._send(pending.id)
            if attempt is not None:
                stored, error = attempt
                (sent if error is None else failed).append(stored)
        return Delivery(tuple(sent), tuple(failed))

    def _send(self, email_id: str) -> tuple[OutgoingEmail, str | None] | None:
        """Claim, send and mark one email: the email as stored afterwards and the error of a failed attempt
        (None if it was sent); None when it is sent already or another worker holds it."""
        now = aware_datetime(self.clock.now())
        claimed = self.store.claim_email(email_id, now, now + SEND_CLAIM)
        if claimed is None:
            return None
        error: str | None = None
        try:
            self.mailer.send(claimed.parsed())
        except Exception as failure:  # whatever the mailer raises is a failed attempt, to retry
            error = f"{type(failure).__name__}: {failure}"
            self.store.email_failed(email_id, aware_datetime(self.clock.now()), error)
        else:
            self.store.email_sent(email_id, aware_datetime(self.clock.now()))
        stored = self.store.outgoing_email(email_id)
        assert stored is not None
        return stored, error

    def _author(self, actor: Actor) -> str:
        """Who wrote a message, in an export: a user's name, a contact's name (or phone or email), a rule's
        id."""
        if isinstance(actor.id, ContactId):
            contact = self.store.contact(actor.id)
            if contact is not None:
                return contact_label(contact.name, contact.phone, contact.email, str(contact.id))
        return self._name(actor.id)

    # ------------------------------------------------------------------ plumbing

    def execute(self, command: Command) -> Outcome:
        """Run any core command, after checking that a user actor may act on the conversation."""
        if not isinstance(command, _COMMAND_TYPES):
            raise InvalidInput(f"execute() takes a command such as Close(...), got {type(command).__name__}")
        if isinstance(command, ReceiveMessage):
            self.contact(command.contact_id)
            self.inbox(command.inbox_id)
            return self._run(command, external_id=command.external_id)
        user_id = command.actor.user_id
        if user_id is not None:
            self._may_act(self.user(user_id), self.conversation(command.conversation_id))
        return self._run(command)

    def _act(self, by: UserId, conversation_id: ConversationId, build: Callable[[Actor], Command]) -> Outcome:
        user = self.user(by)
        conversation = self.conversation(conversation_id)
        inbox = self.inbox(conversation.inbox_id)
        self._may_act(user, conversation, inbox)
        return self._run(build(Actor.user(user.id)), loaded=(conversation, inbox))

    def _context(self, inbox_id: InboxId, now: datetime | None = None) -> DecisionContext:
        return DecisionContext(now or self.clock.now(), self.store.settings(), inbox=self.inbox(inbox_id))

    def _contact_of(self, conversation: Conversation) -> Contact | None:
        return self.store.contact(conversation.contact_id)

    def _refuse_endless_follow_ups(self, follow_ups: Iterable[FollowUp]) -> None:
        """Work out the conversations rules would open, and the ones those would open, before anything is
        saved: a chain that does not end raises RuleLoop while nothing has changed yet."""
        for each in follow_ups:
            if not isinstance(each, OpenLinkedConversation):
                continue
            command = each.message
            handled = handle(
                None,
                command,
                self._context(command.inbox_id),
                self.rules,
                contact=self.store.contact(command.contact_id),
                max_depth=self.max_rule_depth,
                rotation=_Turns(self.store),
                chain=each.chain,
            )
            self._refuse_endless_follow_ups(handled.follow_ups)

    def _follow_ups(self, follow_ups: Iterable[FollowUp]) -> tuple[Outcome, ...]:
        """Open the linked conversations that rules asked for, once the conversation that asked is saved.
        (Round-robin needs no follow-up here: the facade gives the engine the store's rotation.)"""
        return tuple(
            self._run(each.message, chain=each.chain)
            for each in follow_ups
            if isinstance(each, OpenLinkedConversation)
        )

    def _run(
        self,
        command: Command,
        *,
        external_id: str | None = None,
        chain: tuple[RuleId, ...] = (),
        loaded: tuple[Conversation, Inbox] | None = None,
    ) -> Outcome:
        """Decide and save ``command``, deciding again on fresh state when another writer saved first.
        ``loaded`` is the conversation and inbox the caller just read, used for the first attempt."""
        state: Conversation | None
        for _ in range(self.attempts):
            if isinstance(command, ReceiveMessage) and command.linked_from is None:
                # Another server may have started this contact's conversation since: join it.
                current = self.store.conversation_between(command.contact_id, command.inbox_id)
                if current is not None and current != command.conversation_id:
                    command = attrs.evolve(command, conversation_id=current)
            if loaded is not None:
                (state, inbox), loaded = loaded, None
            elif (state := self.store.conversation(command.conversation_id)) is not None:
                inbox = self.inbox(state.inbox_id)
            elif isinstance(command, ReceiveMessage):
                inbox = self.inbox(command.inbox_id)
            else:
                raise UnknownConversation(f"no conversation {command.conversation_id} in this account")
            context = DecisionContext(self.clock.now(), self.store.settings(), inbox=inbox)
            contact_id = state.contact_id if state is not None else getattr(command, "contact_id", None)
            contact = self.store.contact(contact_id) if contact_id is not None else None
            handled = handle(
                state,
                command,
                context,
                self.rules,
                contact=contact,
                max_depth=self.max_rule_depth,
                rotation=(turns := _Turns(self.store)),
                chain=chain,
            )
            if not handled.events:
                assert state is not None  # only a new conversation's first message has no state
                return Outcome(state, ())
            new_state = handled.state
            assert new_state is not None
            self._refuse_endless_follow_ups(handled.follow_ups)
            expected = state.version if state is not None else 0
            new_timers = timers(new_state, self.rules, context, contact=contact)
            try:
                self.store.append(
                    new_state,
                    handled.events,
                    expected_version=expected,
                    external_id=external_id,
                    timers=new_timers,
                    rotations=turns.taken,
                )
            except ConcurrencyConflict:
                continue
            except DuplicateDelivery as duplicate:
                return Outcome(self.conversation(duplicate.conversation_id), ())
            return Outcome(new_state, handled.events, self._follow_ups(handled.follow_ups))
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

    def _may_act(self, user: User, conversation: Conversation, inbox: Inbox | None = None) -> None:
        """Admins act in every inbox; others in the inboxes they are members of. ``inbox`` is the
        conversation's, when the caller has already loaded it."""
        members = (inbox or self.inbox(conversation.inbox_id)).members
        if not (user.is_admin or user.id in members):
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

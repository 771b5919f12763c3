"""The fused write path: the pure core's rules, run in place for simulations and what-if studies.

``decide``/``evolve`` build a frozen ``Conversation``, an event and a message for every step, which is what
makes them safe to share and easy to test, and what bounds them to about 120,000 steps a second. A notebook
simulating a month of traffic over a million conversations keeps none of those values, and waits for them.
``FastCore`` keeps each conversation as one mutable record with its instants as integer microseconds and
its events packed, and does each command's decision, its default rules and its fold in one function: three
and a half times as fast, in under 1 KiB a conversation. The conversations and events it gives back are
the core's own values, built when asked for.

``decide``/``evolve`` and the default rules stay the specification: tests/test_fast_core.py drives random
command streams through both and checks that the states, the events and the tabs are the same.
"""

from __future__ import annotations

import io
import marshal
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Final, cast

import pendulum

from convostate._core.actors import Actor
from convostate._core.decider import ANSWER_WINDOW, not_a_member, refuse_single_user, shared_small_set
from convostate._core.errors import InvalidInput, UnknownConversation
from convostate._core.events import (
    Assigned,
    Closed,
    ConversationStarted,
    Event,
    MarkedRead,
    MarkedUnread,
    MessageReceived,
    MessageSent,
    Reopened,
    ReopenReason,
    Starred,
    Unassigned,
    Unstarred,
)
from convostate._core.ids import ContactId, ConversationId, InboxId, MessageId, UserId
from convostate._core.instants import utc_instant
from convostate._core.model import (
    AccountSettings,
    Conversation,
    Direction,
    Inbox,
    Message,
    OutboundMessage,
    ReadModel,
    Status,
)
from convostate._core.rules.defaults import REOPEN_ON_INBOUND, UNASSIGN_AFTER_WINDOW
from convostate._core.timing import epoch_microseconds
from convostate._core.validate import (
    MAX_BODY_CHARACTERS,
    MAX_TEXT_CHARACTERS,
    aware_datetime,
    check_type,
    is_plain_text,
    non_empty_text,
)

_dumps: Final = marshal.dumps
_load: Final = marshal.load
_ANSWER_WINDOW_US: Final = ANSWER_WINDOW // timedelta(microseconds=1)

# Each event is kept as one marshal record of (kind, at, clock_read, actor, detail), appended to its
# conversation's bytes: about 40 bytes, where the tuple and its integers take three to four times that.
# ``actor`` is a user's text, None for the contact, or the index of a default rule in _RULE_ACTORS;
# ``detail`` is what the kind needs: a message (its id's text or None, its number, its body), a user's
# text, the assignees' texts, or the instant a reopened conversation had closed.
_STARTED, _RECEIVED, _SENT, _ASSIGNED, _UNASSIGNED, _CLOSED, _REOPENED = range(7)
_STARRED, _UNSTARRED, _READ, _UNREAD = range(7, 11)
_BY_UNASSIGN_RULE, _BY_REOPEN_RULE = 0, 1
_RULE_ACTORS: Final = (UNASSIGN_AFTER_WINDOW, REOPEN_ON_INBOUND)

_Detail = str | int | frozenset[str] | tuple[str | None, int, str] | None
_StoredEvent = tuple[int, int, int | None, str | int | None, _Detail]

_NOBODY: Final[frozenset[str]] = shared_small_set(frozenset())


def _toggled(users: frozenset[str], user: str, add: bool) -> frozenset[str]:
    return shared_small_set(users | {user} if add else users - {user})


def _append(record: _Record, event: _StoredEvent) -> None:
    record.log += _dumps(event)


def _stamped(record: _Record, now: int) -> tuple[int, int | None]:
    """When a command's events happen, and what the clock read if that was earlier: ``now``, or the last
    event's instant when the clock reads earlier (as ``decide`` stamps them)."""
    return (now, None) if now >= record.updated_at else (record.updated_at, now)


def _happened(record: _Record, kind: int, now: int, actor: str, detail: str) -> None:
    """The one event of a user's command."""
    stamped, clock_read = _stamped(record, now)
    _append(record, (kind, stamped, clock_read, actor, detail))
    record.updated_at = stamped
    record.version += 1


class _Record:
    """One conversation, mutable: the fields of ``Conversation`` with instants as epoch microseconds, user
    sets as sets of the users' text, and ``window_end``: when the reopen window of its last close ends,
    worked out once, when it closed."""

    __slots__ = (
        "assignees",
        "awaiting_first_reply_since",
        "awaiting_reply_since",
        "closed_at",
        "closes",
        "contact_id",
        "id",
        "inbox",
        "is_open",
        "last_activity_at",
        "last_inbound_at",
        "last_outbound_at",
        "log",
        "messages",
        "opened_at",
        "read_overrides",
        "replied_this_round",
        "starred_by",
        "started_at",
        "unanswered_outbound",
        "unread",
        "updated_at",
        "version",
        "window_end",
    )

    def __init__(self, conversation_id: ConversationId, inbox: Inbox, contact_id: ContactId, at: int) -> None:
        self.id = conversation_id
        self.inbox = inbox
        self.contact_id = contact_id
        self.is_open = True
        self.closed_at: int | None = None
        self.window_end: int | None = None
        self.assignees = self.starred_by = self.read_overrides = _NOBODY
        self.unread = False
        self.started_at = self.last_activity_at = self.updated_at = self.opened_at = at
        self.last_inbound_at: int | None = None
        self.last_outbound_at: int | None = None
        self.awaiting_first_reply_since: int | None = None
        self.awaiting_reply_since: int | None = None
        self.unanswered_outbound: tuple[tuple[int, str], ...] = ()
        self.replied_this_round = False
        self.closes = 0
        self.version = 1  # ConversationStarted's
        self.messages = 0
        self.log = bytearray()


class FastCore:
    """Conversations run in memory by the default rules, three and a half times as fast as ``handle``.

    For simulations and studies in a notebook or a script: what a month of traffic does to the tabs, how
    many conversations reopen after the window. Each method is a core command (``ReceiveMessage``,
    ``SendReply``, ``Assign`` ...) with its instant, decided and folded as ``convostate.rules.handle`` with
    ``DEFAULT_RULES`` would, the same errors included, and nothing changed when one is raised. Nobody is
    away or offline, and the core's checks of a command hold; who may act (membership, roles) is the
    facade's business and is not checked, as in the core. ``conversation()`` and ``events()`` give the
    core's values; instants come back in UTC. It is safe to share between threads (one lock), but it is
    not a store: nothing is saved, and ``Helpdesk`` is what a live inbox runs on.
    """

    def __init__(self, inboxes: Iterable[Inbox], *, settings: AccountSettings | None = None) -> None:
        settings = AccountSettings() if settings is None else settings
        check_type("settings", settings, AccountSettings, "AccountSettings(timezone='UTC')")
        self._settings = settings
        self._inboxes: dict[str, Inbox] = {}
        for inbox in inboxes:
            check_type("each of inboxes", inbox, Inbox, "Inbox.multi_user(InboxId('support'), 'Support')")
            if inbox.id.value in self._inboxes:
                raise InvalidInput(f"inbox {inbox.id} is given twice")
            self._inboxes[inbox.id.value] = inbox
        self._per_user = settings.read_model is ReadModel.PER_USER
        self._conversations: dict[str, _Record] = {}
        self._users: dict[str, UserId] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ commands

    def receive(
        self,
        conversation_id: ConversationId,
        inbox_id: InboxId,
        contact_id: ContactId,
        body: str,
        *,
        at: datetime,
        message_id: MessageId | None = None,
    ) -> int:
        """The contact wrote: start the conversation, or add to it and let the default rules reopen it
        (unassigned at or after the reopen window's end). Returns the number of events (2 for a start)."""
        now = epoch_microseconds(aware_datetime(at))
        body, given = _message(body, message_id)
        if type(contact_id) is not ContactId:
            check_type("contact_id", contact_id, ContactId, "ContactId('c-1')")
        key = _inbox_key(inbox_id)
        with self._lock:
            record = self._conversations.get(_key(conversation_id))
            if record is None:
                inbox = self._inboxes.get(key)
                if inbox is None:
                    raise InvalidInput(f"inbox {inbox_id} is not one of this FastCore's inboxes")
                record = _Record(conversation_id, inbox, contact_id, now)
                _check_numbered(record, given)
                _append(record, (_STARTED, now, None, None, None))
                self._received(record, now, None, body, given)
                self._conversations[conversation_id.value] = record  # once whole
                return 2
            if (record.contact_id is not contact_id and record.contact_id != contact_id) or (
                record.inbox.id is not inbox_id and record.inbox.id != inbox_id
            ):
                raise InvalidInput(
                    f"conversation {record.id} is between {record.contact_id} and {record.inbox.id}, "
                    f"not {contact_id} and {inbox_id}"
                )
            _check_numbered(record, given)
            # The default rules measure the window of a closed conversation; when its end cannot be worked
            # out, the core refuses the message, before anything changes.
            window_end = None
            if not record.is_open:
                window_end = record.window_end if record.window_end is not None else self._window_end(record)
            before = record.version  # one more with each event
            stamped, clock_read = _stamped(record, now)
            self._received(record, stamped, clock_read, body, given)
            if window_end is not None:
                self._reopen(record, now, clock_read, window_end)
            return record.version - before

    def reply(
        self,
        conversation_id: ConversationId,
        body: str,
        *,
        by: UserId,
        at: datetime,
        message_id: MessageId | None = None,
    ) -> int:
        """A user replied: sent whatever the status (it does not reopen), and the replier has read it."""
        body, given = _message(body, message_id)  # the command's own checks come before the conversation's
        record, user, now = self._begin(conversation_id, by, at)
        with self._lock:
            _check_numbered(record, given)
            stamped, clock_read = _stamped(record, now)
            _append(record, (_SENT, stamped, clock_read, user, (given, record.messages + 1, body)))
            record.messages += 1
            record.unanswered_outbound = (
                *(sent for sent in record.unanswered_outbound if stamped - sent[0] <= _ANSWER_WINDOW_US),
                (stamped, user),
            )
            record.last_outbound_at = record.last_activity_at = record.updated_at = stamped
            record.replied_this_round = True
            record.awaiting_first_reply_since = record.awaiting_reply_since = None
            record.version += 1
            if record.unread == (user in record.read_overrides):
                return 1
            self._mark(record, user, stamped, clock_read, unread=False)
            return 2

    def assign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime) -> int:
        return self._assignment(conversation_id, user_id, by, at, assign=True)

    def unassign(self, conversation_id: ConversationId, user_id: UserId, *, by: UserId, at: datetime) -> int:
        return self._assignment(conversation_id, user_id, by, at, assign=False)

    def close(self, conversation_id: ConversationId, *, by: UserId, at: datetime) -> int:
        record, user, now = self._begin(conversation_id, by, at)
        with self._lock:
            if not record.is_open:
                return 0
            stamped, clock_read = _stamped(record, now)
            _append(record, (_CLOSED, stamped, clock_read, user, record.assignees))
            record.is_open, record.closed_at = False, stamped
            # The reopen window's end, once: every message until the next close is measured against it.
            # A calendar with no working time ahead has none; the core then refuses the next message, and
            # so does receive(), which tries again then. Closing is never refused for it.
            try:
                record.window_end = self._window_end(record)
            except InvalidInput:
                record.window_end = None
            record.closes += 1
            record.replied_this_round = False
            record.awaiting_first_reply_since = record.awaiting_reply_since = None
            record.updated_at = stamped
            record.version += 1
            return 1

    def mark_read(self, conversation_id: ConversationId, *, by: UserId, at: datetime) -> int:
        return self._read_state(conversation_id, by, at, unread=False)

    def mark_unread(self, conversation_id: ConversationId, *, by: UserId, at: datetime) -> int:
        return self._read_state(conversation_id, by, at, unread=True)

    def star(self, conversation_id: ConversationId, *, by: UserId, at: datetime) -> int:
        return self._stars(conversation_id, by, at, star=True)

    def unstar(self, conversation_id: ConversationId, *, by: UserId, at: datetime) -> int:
        return self._stars(conversation_id, by, at, star=False)

    # ------------------------------------------------------------------------------------------- reading

    def __len__(self) -> int:
        return len(self._conversations)

    def __contains__(self, conversation_id: object) -> bool:
        return isinstance(conversation_id, ConversationId) and conversation_id.value in self._conversations

    def conversation(self, conversation_id: ConversationId) -> Conversation:
        """The conversation as ``replay`` of its events would give it."""
        with self._lock:
            return self._state(self._record(conversation_id))

    def conversations(self) -> Iterator[Conversation]:
        """Every conversation, in the order they started."""
        with self._lock:
            records = list(self._conversations.values())
        for record in records:
            with self._lock:
                state = self._state(record)
            yield state

    def events(self, conversation_id: ConversationId) -> tuple[Event, ...]:
        """The conversation's events, oldest first, as the core's event classes."""
        with self._lock:
            record = self._record(conversation_id)
            log, count = io.BytesIO(bytes(record.log)), record.version
        return tuple(self._event(record, _load(log)) for _ in range(count))

    # ----------------------------------------------------------------------------------------- the rules

    def _received(
        self, record: _Record, at: int, clock_read: int | None, body: str, given: str | None
    ) -> None:
        _append(record, (_RECEIVED, at, clock_read, None, (given, record.messages + 1, body)))
        record.messages += 1
        record.unread = True
        record.read_overrides = _NOBODY
        record.last_inbound_at = record.last_activity_at = record.updated_at = at
        if record.awaiting_reply_since is None:
            record.awaiting_reply_since = at
        if record.awaiting_first_reply_since is None and not record.replied_this_round:
            record.awaiting_first_reply_since = at
        record.unanswered_outbound = ()
        record.version += 1

    def _reopen(self, record: _Record, clock: int, clock_read: int | None, window_end: int) -> None:
        """DEFAULT_RULES on a message to a closed conversation: everyone unassigned when the clock reads at
        or after the window's end, then reopened (nobody is away, so nobody else is unassigned). Their
        events are stamped as the message's."""
        at = record.updated_at
        if clock >= window_end and record.assignees:
            for user in sorted(record.assignees):
                _append(record, (_UNASSIGNED, at, clock_read, _BY_UNASSIGN_RULE, user))
                record.version += 1
            record.assignees = _NOBODY
        _append(record, (_REOPENED, at, clock_read, _BY_REOPEN_RULE, record.closed_at))
        record.is_open, record.closed_at, record.opened_at = True, None, at
        record.version += 1

    def _assignment(
        self, conversation_id: ConversationId, user_id: UserId, by: UserId, at: datetime, *, assign: bool
    ) -> int:
        user = self._user(user_id, "user_id")  # the command's own checks come before the conversation's
        record, actor, now = self._begin(conversation_id, by, at)
        with self._lock:
            refuse_single_user(record.inbox)
            if assign and user_id not in record.inbox.members:
                raise not_a_member(record.inbox, user_id)
            if (user in record.assignees) is assign:
                return 0
            _happened(record, _ASSIGNED if assign else _UNASSIGNED, now, actor, user)
            record.assignees = _toggled(record.assignees, user, assign)
            return 1

    def _read_state(self, conversation_id: ConversationId, by: UserId, at: datetime, *, unread: bool) -> int:
        record, user, now = self._begin(conversation_id, by, at)
        with self._lock:
            if self._per_user:
                already = (record.unread != (user in record.read_overrides)) is unread
            else:
                already = record.unread is unread and not record.read_overrides
            if already:
                return 0
            self._mark(record, user, *_stamped(record, now), unread=unread)
            return 1

    def _mark(self, record: _Record, user: str, at: int, clock_read: int | None, *, unread: bool) -> None:
        for_user = user if self._per_user else None
        _append(record, (_UNREAD if unread else _READ, at, clock_read, user, for_user))
        if for_user is None:
            record.unread = unread
            record.read_overrides = _NOBODY
        else:  # the user's own state now differs from the shared one, or no longer does
            record.read_overrides = _toggled(record.read_overrides, user, record.unread is not unread)
        record.updated_at = at
        record.version += 1

    def _stars(self, conversation_id: ConversationId, by: UserId, at: datetime, *, star: bool) -> int:
        record, user, now = self._begin(conversation_id, by, at)
        with self._lock:
            if (user in record.starred_by) is star:
                return 0
            _happened(record, _STARRED if star else _UNSTARRED, now, user, user)
            record.starred_by = _toggled(record.starred_by, user, star)
            return 1

    # ------------------------------------------------------------------------------------------- helpers

    def _window_end(self, record: _Record) -> int:
        """When the reopen window of the conversation's last close ends (InvalidInput when its calendar has
        no working time ahead, as the core's rule says)."""
        assert record.closed_at is not None
        closed_at = utc_instant(record.closed_at)
        return epoch_microseconds(
            self._settings.end_of(self._settings.reopen_window, closed_at, inbox=record.inbox)
        )

    def _begin(self, conversation_id: ConversationId, by: UserId, at: datetime) -> tuple[_Record, str, int]:
        """What every command of a user checks first, in one call: the conversation, the user's text and the
        instant. A record is never removed, so it is found without the lock."""
        now = epoch_microseconds(aware_datetime(at))
        if type(by) is UserId and type(by.value) is str and by.value in self._users:
            user = by.value
        else:
            user = self._user(by)
        if type(conversation_id) is ConversationId:
            record = self._conversations.get(conversation_id.value)
            if record is not None:
                return record, user, now
        return self._record(conversation_id), user, now

    def _record(self, conversation_id: ConversationId) -> _Record:
        record = self._conversations.get(_key(conversation_id))
        if record is None:
            raise UnknownConversation(
                f"conversation {conversation_id} has not started; only the contact's first message "
                "(receive) starts a conversation"
            )
        return record

    def _user(self, user_id: UserId, name: str = "by") -> str:
        """The user's text, the key of every set of users here; the id is kept to give it back."""
        if type(user_id) is not UserId:
            check_type(name, user_id, UserId, "UserId('ana')")
        text = _exact(user_id.value)
        if text not in self._users:
            self._users.setdefault(text, user_id)
        return text

    def _users_of(self, texts: Iterable[str]) -> frozenset[UserId]:
        return frozenset(self._users[text] for text in texts)

    def _state(self, record: _Record) -> Conversation:
        return Conversation(
            record.id,
            record.inbox.id,
            record.contact_id,
            utc_instant(record.started_at),
            utc_instant(record.last_activity_at),
            utc_instant(record.updated_at),
            status=Status.OPEN if record.is_open else Status.CLOSED,
            assignees=self._users_of(record.assignees),
            starred_by=self._users_of(record.starred_by),
            unread=record.unread,
            read_overrides=self._users_of(record.read_overrides),
            closed_at=_instant(record.closed_at),
            last_inbound_at=_instant(record.last_inbound_at),
            last_outbound_at=_instant(record.last_outbound_at),
            version=record.version,
            opened_at=utc_instant(record.opened_at),
            closes=record.closes,
            replied_this_round=record.replied_this_round,
            awaiting_first_reply_since=_instant(record.awaiting_first_reply_since),
            awaiting_reply_since=_instant(record.awaiting_reply_since),
            unanswered_outbound=tuple(
                OutboundMessage(utc_instant(at), self._users[by]) for at, by in record.unanswered_outbound
            ),
        )

    def _event(self, record: _Record, stored: _StoredEvent) -> Event:
        kind, at_us, clock_us, who, detail = stored
        cid, at = record.id, utc_instant(at_us)
        clock_read = _instant(clock_us)
        actor = (
            Actor.contact(record.contact_id)
            if who is None
            else Actor.user(self._users[who])
            if isinstance(who, str)
            else Actor.rule(_RULE_ACTORS[who])  # a default rule's index
        )
        if kind == _STARTED:
            return ConversationStarted(cid, actor, at, record.inbox.id, record.contact_id)
        if kind in (_RECEIVED, _SENT):
            given, number, body = cast("tuple[str | None, int, str]", detail)
            message_id = MessageId(given if given is not None else f"{cid.value}/{number}")
            inbound = kind == _RECEIVED
            message = Message(
                message_id, cid, Direction.INBOUND if inbound else Direction.OUTBOUND, actor, body, at
            )
            event_type = MessageReceived if inbound else MessageSent
            return event_type(cid, actor, at, message, clock_read=clock_read)
        if kind == _REOPENED:
            assert isinstance(detail, int)
            previous = utc_instant(detail)
            return Reopened(cid, actor, at, ReopenReason.BY_RULE, previous, clock_read=clock_read)
        if kind == _CLOSED:
            assert isinstance(detail, frozenset)
            return Closed(cid, actor, at, self._users_of(detail), clock_read=clock_read)
        if kind in (_READ, _UNREAD):
            for_user = None if detail is None else self._users[cast("str", detail)]
            read_type = MarkedUnread if kind == _UNREAD else MarkedRead
            return read_type(cid, actor, at, for_user, clock_read=clock_read)
        user = self._users[cast("str", detail)]
        if kind == _ASSIGNED:
            return Assigned(cid, actor, at, user, clock_read=clock_read)
        if kind == _UNASSIGNED:
            return Unassigned(cid, actor, at, user, clock_read=clock_read)
        if kind == _STARRED:
            return Starred(cid, actor, at, user, clock_read=clock_read)
        return Unstarred(cid, actor, at, user, clock_read=clock_read)


def _instant(microseconds: int | None) -> pendulum.DateTime | None:
    return None if microseconds is None else utc_instant(microseconds)


def _key(conversation_id: ConversationId) -> str:
    if type(conversation_id) is not ConversationId:
        check_type("conversation_id", conversation_id, ConversationId, "ConversationId('conv-1')")
    return conversation_id.value


def _inbox_key(inbox_id: InboxId) -> str:
    check_type("inbox_id", inbox_id, InboxId, "InboxId('support')")
    return inbox_id.value


def _exact(text: str) -> str:
    """``text`` as a plain ``str``: the core accepts any ``str`` (a subclass, numpy's ``str_``), and
    ``marshal`` keeps only the plain type (it refuses a subclass, and writes numpy's as bytes)."""
    return text if type(text) is str else str.__str__(text)


def _message(body: str, message_id: MessageId | None) -> tuple[str, str | None]:
    """The body and the message id's text, checked as the core's commands check them, as plain ``str``."""
    if not is_plain_text(body, MAX_BODY_CHARACTERS):
        non_empty_text("body", body, MAX_BODY_CHARACTERS)
        body = _exact(body)
    if message_id is None:
        return body, None
    check_type("message_id", message_id, MessageId, "MessageId('m-1')")
    return body, _exact(message_id.value)


def _check_numbered(record: _Record, given: str | None) -> None:
    """A message without an id is given ``<conversation id>/<its number in the conversation>``, made when
    its event is read; refused now when that would be longer than an id may be."""
    if given is None and len(record.id.value) > MAX_TEXT_CHARACTERS - 21:  # "/" and up to 20 digits
        numbered = f"{record.id.value}/{record.messages + 1}"
        if len(numbered) > MAX_TEXT_CHARACTERS:
            raise InvalidInput(
                f"the conversation's id is {len(record.id.value)} characters long, which leaves no room for "
                f"a numbered message id ({len(numbered)} characters, of at most {MAX_TEXT_CHARACTERS}); pass "
                "message_id="
            )

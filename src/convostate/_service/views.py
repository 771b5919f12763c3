"""What users see: tab pages, badges, participants, user search, a conversation's history and why rules
did (or did not do) something. Reads only; nothing here writes."""

from __future__ import annotations

from collections.abc import Callable

from convostate._core.decider import DecisionContext
from convostate._core.errors import InvalidInput
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import Contact, User
from convostate._core.rules.engine import Verdict, explain
from convostate._core.rules.model import RuleSet
from convostate._core.tabs import Tab
from convostate._core.validate import check_type, clean_text
from convostate._ports.roles import Clock, Store
from convostate._service.access import Access
from convostate._service.history import summarize
from convostate._service.results import Badges, History, HistoryEntry, Page, cursor_after, parse_cursor
from convostate._service.user_search import search

MAX_PAGE_SIZE = 500


class ViewService:
    def __init__(self, store: Store, clock: Clock, access: Access, rules: RuleSet) -> None:
        self._store = store
        self._clock = clock
        self._access = access
        self._rules = rules

    def search_users(self, text: str, *, inbox_id: InboxId | None = None) -> list[User]:
        clean_text("text", text)
        users = self._store.users()
        if inbox_id is not None:
            members = self._access.inbox(inbox_id).members
            users = [user for user in users if user.id in members]
        return search(users, text)

    def participants(self, conversation_id: ConversationId) -> list[User]:
        conversation = self._access.conversation(conversation_id)
        participants = conversation.participants(self._access.inbox(conversation.inbox_id))
        users = (self._access.user(user_id) for user_id in participants)
        return sorted(users, key=lambda user: user.name.casefold())

    def tab(self, user_id: UserId, tab: Tab, *, cursor: str | None = None, limit: int = 25) -> Page:
        check_type("tab", tab, Tab, "Tab.ASSIGNED_TO_YOU")
        check_type("limit", limit, int, "25")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        after = parse_cursor(cursor) if cursor is not None else None
        inboxes = self._access.visible_inboxes(self._access.user(user_id))
        found = self._store.tab_page(tab, user_id, inboxes, after=after, limit=limit + 1)
        page = tuple(found[:limit])
        return Page(page, cursor_after(page[-1]) if len(found) > limit else None)

    def badges(self, user_id: UserId) -> Badges:
        inboxes = self._access.visible_inboxes(self._access.user(user_id))
        return Badges.from_counts(self._store.tab_counts(user_id, inboxes))

    def history(self, conversation_id: ConversationId) -> list[HistoryEntry]:
        self._access.conversation(conversation_id)
        timezone = self._store.settings().timezone
        events = self._store.events(conversation_id)
        name = self.namer()
        return History(
            HistoryEntry(n, event, summarize(event, timezone, name, self._rule_reason))
            for n, event in enumerate(events, start=1)
        )

    def namer(self) -> Callable[[object], str]:
        """What people call a user or contact (the id itself if it has no name), each looked up once per
        call of the namer, so a long history costs one lookup per person, not one per event."""
        names: dict[object, str] = {}

        def name(some_id: object) -> str:
            if some_id not in names:
                found: User | Contact | None = None
                if isinstance(some_id, UserId):
                    found = self._store.user(some_id)
                elif isinstance(some_id, ContactId):
                    found = self._store.contact(some_id)
                names[some_id] = found.name if found is not None and found.name else str(some_id)
            return names[some_id]

        return name

    def _rule_reason(self, rule_id: RuleId) -> str:
        try:
            return self._rules[rule_id].description
        except KeyError:
            return ""

    def explain(self, conversation_id: ConversationId, event: Event | None = None) -> tuple[Verdict, ...]:
        conversation = self._access.conversation(conversation_id)
        if event is None:
            event = self._store.events(conversation_id)[-1]
        context = DecisionContext(
            self._clock.now(), self._store.settings(), inbox=self._access.inbox(conversation.inbox_id)
        )
        contact = self._store.contact(conversation.contact_id)
        return explain(conversation, event, context, self._rules, contact=contact)

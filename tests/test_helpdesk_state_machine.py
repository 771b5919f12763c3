"""The Helpdesk facade against the reference model, tabs, pagination and badges included.

Random sequences of inbound messages (some redelivered), replies, assignment, status, stars, read state,
availability changes (so a reopen within the window keeps only the available assignees, unless the account
keeps the seed's behaviour), erasures of a contact (its text goes, its figures stay) and clock moves that
land on both sides of reopen windows, by users who may or may not be allowed to act. After every step, for
every user: each tab, read page by page, lists exactly the conversations the reference says, in order;
every badge equals what its tab lists; and refused actions changed nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta

import attrs
import hypothesis
import pendulum
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from convostate import (
    AccountSettings,
    Availability,
    ContactId,
    Conversation,
    ConversationId,
    ConvostateError,
    Helpdesk,
    InboxId,
    MemoryStore,
    MessageReceived,
    MessageSent,
    Outcome,
    PermissionDenied,
    ReadModel,
    Reopened,
    Role,
    Store,
    Tab,
    Unassigned,
    UserId,
)
from convostate.analytics import Count, DurationStats, Fact, Figures, Metric, Reopens, Report, Scope, observe
from convostate.ports import ContactTotal
from convostate.privacy import ERASED
from convostate.testing import ManualClock, SequentialIds
from tests import strategies as s
from tests.reference_model import ReferenceConversation, Refused, window_end

NAMES = ("ana", "bo", "cy", "dee")
"""ana is the admin (a member of no inbox); bo and cy are members of Team; dee is an agent with no inbox."""
PAGE = 2
"""A small page size, so listings take several pages and the cursors are exercised."""


class HelpdeskMachine(RuleBasedStateMachine):
    """Subclasses run the same machine on another store (tests/test_sql_state_machine.py) or through the
    asyncio facade (tests/test_async_state_machine.py)."""

    def make_store(self) -> Store:
        return MemoryStore()

    def make_helpdesk(self, store: Store, clock: ManualClock) -> Helpdesk:
        """The facade under test (tests/test_async_state_machine.py puts the asyncio one here)."""
        return Helpdesk(store=store, clock=clock, ids=SequentialIds())

    def snapshot(self) -> object:
        """Everything the store holds, comparable with ``==``: a refused action must leave it equal."""
        assert isinstance(self.store, MemoryStore)
        return self.store.dump()

    @initialize(
        settings=s.account_settings(),
        start=s.start_instants(),
        single_owner=st.sampled_from(NAMES[1:]),
        skips_unavailable=st.booleans(),
    )
    def open_the_account(
        self, settings: AccountSettings, start: pendulum.DateTime, single_owner: str, skips_unavailable: bool
    ) -> None:
        self.clock = ManualClock(start)
        self.store = self.make_store()
        self.helpdesk = self.make_helpdesk(self.store, self.clock)
        admin = self.helpdesk.add_user("Ana", "ana@example.com", role=Role.ADMIN)
        self.users: dict[str, UserId] = {"ana": admin.id}
        for name in NAMES[1:]:
            self.users[name] = self.helpdesk.add_user(name.title(), f"{name}@example.com", by=admin.id).id
        self.helpdesk.update_settings(
            by=admin.id,
            timezone=settings.timezone,
            reopen_window=settings.reopen_window,
            read_model=settings.read_model,
            reopen_skips_unavailable=skips_unavailable,
        )
        self.settings = attrs.evolve(settings, reopen_skips_unavailable=skips_unavailable)
        self.unavailable: set[str] = set()
        team = self.helpdesk.add_inbox("Team", members=[self.users["bo"], self.users["cy"]], by=admin.id)
        solo = self.helpdesk.add_single_user_inbox("Solo", owner=self.users[single_owner], by=admin.id)
        self.members = {team.id: {"bo", "cy"}, solo.id: {single_owner}}
        self.single_user = {team.id: False, solo.id: True}
        self.inboxes = (team.id, solo.id)
        self.contacts = tuple(self.helpdesk.add_contact(name=f"Contact {n}").id for n in range(2))
        self.refs: dict[ConversationId, ReferenceConversation] = {}
        self.ids: dict[tuple[ContactId, InboxId], ConversationId] = {}
        self.delivered: set[tuple[InboxId, str]] = set()
        self.reports_checked = 0
        self.erased: dict[ContactId, dict[ConversationId, int]] = {}
        """Per erased contact: how many events each of its conversations had at its latest erasure."""
        self._receive(0, 0, "hello", None)

    # ------------------------------------------------------------------ the reference's view of who may act

    def _may_act(self, user: str, cid: ConversationId) -> bool:
        return user == "ana" or user in self.members[self._inbox_of(cid)]

    def _inbox_of(self, cid: ConversationId) -> InboxId:
        return next(inbox for (_, inbox), found in self.ids.items() if found == cid)

    def _sees(self, user: str, inbox: InboxId) -> bool:
        return user == "ana" or user in self.members[inbox]

    def _new_reference(self, inbox: InboxId) -> ReferenceConversation:
        return ReferenceConversation(
            users=NAMES,
            members=frozenset(self.members[inbox]),
            single_user=self.single_user[inbox],
            shared_reads=self.settings.read_model is ReadModel.SHARED,
            tz_name=self.settings.timezone,
            window=self.settings.reopen_window,  # type: ignore[arg-type]  # the strategies draw calendar ones
            skips_unavailable=self.settings.reopen_skips_unavailable,
        )

    def _act(
        self,
        cid: ConversationId,
        user: str,
        action: Callable[[], Outcome],
        on_reference: Callable[[ReferenceConversation], None],
    ) -> None:
        reference = self.refs[cid]
        before = copy.deepcopy(reference)
        refused: str | None = None
        if not self._may_act(user, cid):
            refused = "PermissionDenied"
        else:
            try:
                on_reference(reference)
            except Refused as refusal:
                refused = refusal.kind
        # Only an action the reference refuses needs the store's snapshot (a deep copy of everything, the
        # dearest thing a step does): one the facade refuses unexpectedly fails on `raised == refused`.
        dump = self.snapshot() if refused is not None else None
        raised: str | None = None
        try:
            outcome = action()
        except ConvostateError as error:
            raised = type(error).__name__
        assert raised == refused, f"facade raised {raised}, reference refused with {refused}"
        if raised is not None:
            self.refs[cid] = before
            assert self.snapshot() == dump, "a refused action changed the store"
        else:
            self._observe(outcome)

    def _observe(self, outcome: Outcome) -> None:
        for event in outcome.events:
            if isinstance(event, Reopened):
                hypothesis.event(f"reopened: {event.reason.value}")
            if isinstance(event, Unassigned) and event.because is not None:
                hypothesis.event("the reopen rule unassigned someone unavailable")

    # ------------------------------------------------------------------ rules

    @rule(
        contact=st.integers(0, 1),
        inbox=st.integers(0, 1),
        body=s.bodies,
        external_id=st.none() | st.sampled_from(("SM1", "SM2", "SM3")),
    )
    def the_contact_writes(self, contact: int, inbox: int, body: str, external_id: str | None) -> None:
        self._receive(contact, inbox, body, external_id)

    def _receive(self, contact: int, inbox: int, body: str, external_id: str | None) -> None:
        contact_id, inbox_id = self.contacts[contact], self.inboxes[inbox]
        now = self.clock.now()
        outcome = self.helpdesk.receive(contact_id, inbox_id, body, external_id=external_id)
        duplicate = external_id is not None and (inbox_id, external_id) in self.delivered
        assert outcome.changed is not duplicate
        if duplicate:
            hypothesis.event("a redelivered message changed nothing")
            return
        if external_id is not None:
            self.delivered.add((inbox_id, external_id))
        cid = outcome.conversation.id
        if (contact_id, inbox_id) not in self.ids:
            self.ids[(contact_id, inbox_id)] = cid
            self.refs[cid] = self._new_reference(inbox_id)
        assert self.ids[(contact_id, inbox_id)] == cid
        self.refs[cid].receive(now, frozenset(self.unavailable))
        self._observe(outcome)

    def _conversations(self) -> list[ConversationId]:
        return sorted(self.refs, key=lambda cid: cid.value)

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), user=st.sampled_from(NAMES), body=s.bodies)
    def someone_replies(self, data: st.DataObject, user: str, body: str) -> None:
        cid = data.draw(st.sampled_from(self._conversations()))
        now = self.clock.now()
        self._act(
            cid,
            user,
            lambda: self.helpdesk.reply(cid, body, by=self.users[user]),
            lambda ref: ref.reply(user, now),
        )

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), user=st.sampled_from(NAMES), by=st.sampled_from(NAMES), assign=st.booleans())
    def assignment(self, data: st.DataObject, user: str, by: str, assign: bool) -> None:
        cid = data.draw(st.sampled_from(self._conversations()))
        if assign:
            self._act(
                cid,
                by,
                lambda: self.helpdesk.assign(cid, self.users[user], by=self.users[by]),
                lambda r: r.assign(user),
            )
        else:
            self._act(
                cid,
                by,
                lambda: self.helpdesk.unassign(cid, self.users[user], by=self.users[by]),
                lambda r: r.unassign(user),
            )

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), by=st.sampled_from(NAMES), close=st.booleans())
    def status(self, data: st.DataObject, by: str, close: bool) -> None:
        cid = data.draw(st.sampled_from(self._conversations()))
        now = self.clock.now()
        if close:
            self._act(cid, by, lambda: self.helpdesk.close(cid, by=self.users[by]), lambda r: r.close(now))
        else:
            self._act(cid, by, lambda: self.helpdesk.reopen(cid, by=self.users[by]), lambda r: r.reopen(now))

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), by=st.sampled_from(NAMES), star=st.booleans())
    def stars(self, data: st.DataObject, by: str, star: bool) -> None:
        cid = data.draw(st.sampled_from(self._conversations()))
        if star:
            self._act(cid, by, lambda: self.helpdesk.star(cid, by=self.users[by]), lambda r: r.star(by))
        else:
            self._act(cid, by, lambda: self.helpdesk.unstar(cid, by=self.users[by]), lambda r: r.unstar(by))

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), by=st.sampled_from(NAMES), unread=st.booleans())
    def read_state(self, data: st.DataObject, by: str, unread: bool) -> None:
        cid = data.draw(st.sampled_from(self._conversations()))
        mark = self.helpdesk.mark_unread if unread else self.helpdesk.mark_read
        self._act(cid, by, lambda: mark(cid, by=self.users[by]), lambda r: r.mark(by, unread=unread))

    @rule(user=st.sampled_from(NAMES), availability=st.sampled_from(Availability))
    def availability_changes(self, user: str, availability: Availability) -> None:
        changed = self.helpdesk.set_availability(self.users[user], availability)
        assert changed.availability is availability
        if availability is Availability.AVAILABLE:
            self.unavailable.discard(user)
        else:
            self.unavailable.add(user)
            hypothesis.event(f"a user is {availability.value}")

    @rule(data=st.data(), availability=st.sampled_from((Availability.AWAY, Availability.OFFLINE)))
    def an_assignee_is_away_when_the_contact_writes_back(
        self, data: st.DataObject, availability: Availability
    ) -> None:
        """The case availability is for, which random steps alone seldom line up: a Team conversation is
        assigned and closed, one of its assignees goes away, and the contact writes back."""
        team, admin = self.inboxes[0], self.users["ana"]
        cid = data.draw(st.sampled_from([c for c in self._conversations() if self._inbox_of(c) == team]))
        user = data.draw(st.sampled_from(sorted(self.members[team])))
        now = self.clock.now()
        self._act(
            cid,
            "ana",
            lambda: self.helpdesk.assign(cid, self.users[user], by=admin),
            lambda r: r.assign(user),
        )
        self._act(cid, "ana", lambda: self.helpdesk.close(cid, by=admin), lambda r: r.close(now))
        away = data.draw(st.sampled_from(sorted(self.refs[cid].assignees)))
        self.availability_changes(away, availability)
        contact, _ = next(key for key, found in self.ids.items() if found == cid)
        self._receive(self.contacts.index(contact), 0, "back again", None)

    @rule(contact=st.integers(0, 1), by=st.sampled_from(NAMES))
    def someone_erases_a_contact(self, contact: int, by: str) -> None:
        contact_id = self.contacts[contact]
        if by != "ana":
            dump = self.snapshot()
            with pytest.raises(PermissionDenied):
                self.helpdesk.erase_contact(contact_id, by=self.users[by])
            assert self.snapshot() == dump, "a refused erasure changed the store"
            return
        again = contact_id in self.erased
        erasure = self.helpdesk.erase_contact(contact_id, by=self.users[by])
        hypothesis.event(f"an erasure {'again' if again else 'first'}: changed={erasure.changed}")
        self.erased[contact_id] = {
            cid: len(self.store.events(cid)) for (owner, _), cid in self.ids.items() if owner == contact_id
        }
        if not again:  # the store's whole snapshot is dear: searched once, when the name went
            assert f"Contact {contact}" not in repr(self.snapshot()), "the erased name is still stored"

    @rule(step=s.clock_steps)
    def time_passes(self, step: timedelta) -> None:
        self.clock.advance(step)

    def _closed(self) -> list[ConversationId]:
        return [cid for cid in self._conversations() if not self.refs[cid].open]

    @precondition(lambda self: bool(self._closed()))
    @rule(data=st.data(), offset=s.edge_offsets)
    def time_reaches_a_window_edge(self, data: st.DataObject, offset: timedelta) -> None:
        reference = self.refs[data.draw(st.sampled_from(self._closed()))]
        assert reference.closed_at is not None
        edge = window_end(reference.closed_at, reference.tz_name, reference.window) + offset
        if edge > self.clock.now():
            self.clock.set(edge)

    # ------------------------------------------------------------------ invariants

    def _expected_tab(self, user: str, tab: Tab) -> list[ConversationId]:
        listed = [
            cid
            for cid, ref in self.refs.items()
            if self._sees(user, self._inbox_of(cid)) and tab.value in ref.tabs(user)
        ]
        return sorted(listed, key=lambda cid: (-self.refs[cid].last_activity.timestamp(), cid.value))  # type: ignore[union-attr]

    @invariant()
    def every_tab_lists_what_the_reference_says_and_every_badge_counts_it(self) -> None:
        if not hasattr(self, "helpdesk"):
            return
        for user, user_id in self.users.items():
            badges = self.helpdesk.badges(user_id)
            for tab in Tab:
                listed: list[Conversation] = []
                cursor: str | None = None
                while True:
                    page = self.helpdesk.tab(user_id, tab, cursor=cursor, limit=PAGE)
                    listed.extend(page.conversations)
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                assert [c.id for c in listed] == self._expected_tab(user, tab), (user, tab)
                assert badges[tab].total == len(listed), (user, tab)
                unread = len([c for c in listed if c.is_unread_for(user_id)])
                assert badges[tab].unread == unread, (user, tab)
                assert unread == len([c for c in listed if self.refs[c.id].unread[user]]), (user, tab)

    @invariant()
    def conversations_agree_with_the_reference(self) -> None:
        for cid, ref in self.refs.items():
            conversation = self.helpdesk.conversation(cid)
            assert conversation.is_open == ref.open
            assert {self._name(u) for u in conversation.assignees} == ref.assignees
            assert {self._name(u) for u in conversation.starred_by} == ref.stars
            assert {self._name(u.id) for u in self.helpdesk.participants(cid)} == ref.participants()
            assert len(self.helpdesk.history(cid)) == conversation.version

    @invariant()
    def contact_info_agrees_with_the_reference(self) -> None:
        """Each contact's sidebar says what docs/analytics.md's definitions, followed literally over the
        reference's history, say."""
        for contact in self.contacts:
            info = self.helpdesk.contact_info(contact, by=self.users["ana"])
            refs = [self.refs[cid] for (owner, _), cid in self.ids.items() if owner == contact]
            metrics = [ref.metrics for ref in refs]
            reopens = {
                how: sum(m.reopens.get(how, 0) for m in metrics)
                for how in ("to_assignees", "to_unassigned", "by_user")
            }
            expected = Figures(
                conversations=len(refs),
                messages_in=sum(len(m.inbound) for m in metrics),
                messages_out=sum(len(m.outbound) for m in metrics),
                closed=sum(len(m.closes) for m in metrics),
                reopens=Reopens(reopens["to_assignees"], reopens["to_unassigned"], reopens["by_user"]),
                outbound_answered=sum(m.answered for m in metrics),
                first_response=DurationStats.of(d for m in metrics for d in m.first_responses),
                reopen_first_response=DurationStats.of(d for m in metrics for d in m.reopen_first_responses),
                reply=DurationStats.of(d for m in metrics for d in m.replies),
                resolution=DurationStats.of(d for m in metrics for d in m.resolutions),
            )
            assert info.figures == expected, contact
            assert (info.open, info.closed) == (sum(r.open for r in refs), sum(not r.open for r in refs))
            messages = [at for m in metrics for at in (*m.inbound, *m.outbound)]
            assert info.first_contact_at == min(messages, default=None)
            assert info.last_contact_at == max(messages, default=None)
            waiting = [m.unanswered[0] for r, m in zip(refs, metrics, strict=True) if r.open and m.unanswered]
            assert info.waiting_since == min(waiting, default=None)

    @invariant()
    def every_projection_equals_a_recomputation_over_the_event_log(self) -> None:
        """What the store added up, change by change, equals the facts of each conversation's whole log
        added up at once; and each report's total is the sum of its rows."""
        facts: list[Fact] = []
        for cid in self.refs:
            inbox = self.helpdesk.inbox(self._inbox_of(cid))
            calendar = inbox.business_hours or self.helpdesk.settings().business_hours
            events = self.store.events(cid)
            facts.extend(observe(None, events, self.settings.timezone, owner=inbox.owner, calendar=calendar))
        for contact in self.contacts:
            mine = [fact for fact in facts if fact.scope is Scope.CONTACT and fact.scope_id == contact.value]
            totals: dict[Count | Metric, ContactTotal] = {}
            for fact in mine:
                seen = totals.get(fact.kind)
                totals[fact.kind] = (
                    ContactTotal(1, fact.at, fact.at)
                    if seen is None
                    else ContactTotal(seen.count + 1, min(seen.first_at, fact.at), max(seen.last_at, fact.at))
                )
            assert dict(self.store.contact_totals(contact)) == totals
            samples = sorted(
                (f.kind.value, f.value, f.conversation_id) for f in mine if isinstance(f.kind, Metric)
            )
            stored = sorted(
                (d.metric.value, d.micros, d.conversation_id.value)
                for d in self.store.contact_durations(contact)
            )
            assert stored == samples
        if not facts:
            return
        first_day, last_day = min(f.day for f in facts), max(f.day for f in facts)
        scopes = [(Scope.INBOX, inbox.value) for inbox in self.inboxes]
        scopes += [(Scope.USER, user.value) for user in self.users.values()]
        for scope, scope_id in scopes:
            days: dict[tuple[date, Count | Metric], list[int]] = {}
            for fact in facts:
                if fact.scope is scope and fact.scope_id == scope_id:
                    sums = days.setdefault((fact.day, fact.kind), [0, 0])
                    sums[0] += 1
                    sums[1] += fact.value
            stored_days = {
                (row.day, row.kind): [row.count, row.total]
                for row in self.store.daily_totals(scope, [scope_id], first_day, last_day)
            }
            assert stored_days == days, (scope, scope_id)
        # One report a step, in turn, is read whole: its total must be the sum of its rows.
        self.reports_checked += 1
        scope, scope_id = scopes[self.reports_checked % len(scopes)]
        by = self.users["ana"]
        report = (
            self.helpdesk.report(by=by, inbox_id=InboxId(scope_id), first_day=first_day, last_day=last_day)
            if scope is Scope.INBOX
            else self.helpdesk.report(by=by, user_id=UserId(scope_id), first_day=first_day, last_day=last_day)
        )
        _assert_total_is_the_sum_of_rows(report)

    @invariant()
    def an_erased_contacts_text_is_gone_and_its_figures_stay(self) -> None:
        """Every body stored before a contact's latest erasure is the tombstone, and (by the invariants
        above) its conversations, tabs and figures still equal the reference's, which knows nothing of
        erasure."""
        for contact_id, counts in self.erased.items():
            contact = self.helpdesk.contact(contact_id)
            assert (contact.name, contact.erased_by) == (ERASED, self.users["ana"])
            for cid, count in counts.items():
                for event in self.store.events(cid)[:count]:
                    if isinstance(event, MessageReceived | MessageSent):
                        assert event.message.body == ERASED, (cid, event)

    def _name(self, user_id: UserId) -> str:
        return next(name for name, found in self.users.items() if found == user_id)


def _assert_total_is_the_sum_of_rows(report: Report) -> None:
    rows = [row.figures for row in report.rows]
    total = report.total
    for field in ("conversations", "messages_in", "messages_out", "closed", "outbound_answered"):
        assert getattr(total, field) == sum(getattr(row, field) for row in rows), field
    assert total.reopens.total == sum(row.reopens.total for row in rows)
    for metric in ("first_response", "reopen_first_response", "reply", "resolution"):
        counts = [getattr(row, metric).count for row in rows]
        assert getattr(total, metric).count == sum(counts), metric


TestHelpdesk = HelpdeskMachine.TestCase

"""The application service, through the ``Helpdesk`` facade only, row by row of DESIGN.md's behaviour table.

Each test builds the account of ``tests.helpdesk_builders`` (an admin, agents ana and ben in Support, ana
alone in Sales and owner of a single-user inbox, an outsider in no inbox), on a manual clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pendulum
import pytest

from convostate import (
    Actor,
    ActorKind,
    Assigned,
    Closed,
    ConcurrencyConflict,
    ConversationId,
    ConversationStarted,
    Event,
    Helpdesk,
    HistoryEntry,
    InvalidInput,
    MarkedRead,
    MemoryStore,
    MessageReceived,
    MessageSent,
    NotAMember,
    PermissionDenied,
    RandomIds,
    ReadModel,
    Reopened,
    Role,
    SingleUserInbox,
    Status,
    SystemClock,
    Tab,
    TabCount,
    Unassigned,
    User,
    UserId,
)
from convostate.core import tabs_of
from convostate.rules import REOPEN_ON_INBOUND, RuleSet
from convostate.testing import ManualClock
from tests.helpdesk_builders import (
    Account,
    InterceptingStore,
    RacingStore,
    build_account,
    list_tab,
    open_conversation,
    tab_ids,
)

# ---------------------------------------------------------------- set-up


def test_a_helpdesk_works_with_no_arguments() -> None:
    helpdesk = Helpdesk()
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN)
    inbox = helpdesk.add_inbox("Support", members=[admin.id], by=admin.id)
    contact = helpdesk.add_contact(name="Maria Lopez")

    outcome = helpdesk.receive(contact.id, inbox.id, "Hello")

    assert outcome.changed
    assert helpdesk.tab(admin.id, Tab.UNASSIGNED).conversations == (outcome.conversation,)
    assert isinstance(helpdesk.store, MemoryStore)
    assert isinstance(helpdesk.clock, SystemClock)
    assert helpdesk.mailer is None  # exports stay queued until a helpdesk with a mailer delivers them
    assert isinstance(helpdesk.ids, RandomIds)


# ---------------------------------------------------------------- status


def test_closing_an_open_conversation_closes_it() -> None:
    account = build_account()
    conversation = open_conversation(account)

    outcome = account.helpdesk.close(conversation, by=account.ana)

    assert outcome.changed
    assert outcome.conversation.status is Status.CLOSED
    assert account.helpdesk.conversation(conversation).status is Status.CLOSED


def test_closing_a_closed_conversation_changes_nothing_and_records_nothing() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.close(conversation, by=account.ana)
    history = account.helpdesk.history(conversation)

    outcome = account.helpdesk.close(conversation, by=account.ben)

    assert not outcome.changed
    assert outcome.events == ()
    assert outcome.conversation == account.helpdesk.conversation(conversation)
    assert account.helpdesk.history(conversation) == history


def test_reopening_a_closed_conversation_opens_it() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.close(conversation, by=account.ana)

    outcome = account.helpdesk.reopen(conversation, by=account.ana)

    assert outcome.changed
    assert account.helpdesk.conversation(conversation).status is Status.OPEN


def test_reopening_an_open_conversation_changes_nothing_and_records_nothing() -> None:
    account = build_account()
    conversation = open_conversation(account)
    history = account.helpdesk.history(conversation)

    outcome = account.helpdesk.reopen(conversation, by=account.ana)

    assert not outcome.changed
    assert account.helpdesk.history(conversation) == history


# ---------------------------------------------------------------- assignment and participants


def test_any_number_of_members_can_be_assigned() -> None:
    account = build_account()
    conversation = open_conversation(account)

    account.helpdesk.assign(conversation, account.ana, by=account.ana)
    account.helpdesk.assign(conversation, account.ben, by=account.ana)

    assert account.helpdesk.conversation(conversation).assignees == {account.ana, account.ben}
    assert [user.id for user in account.helpdesk.participants(conversation)] == [account.ana, account.ben]


def test_assigning_someone_already_assigned_changes_nothing() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ben, by=account.ana)

    assert not account.helpdesk.assign(conversation, account.ben, by=account.ana).changed


def test_unassigning_removes_a_participant() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.ana)
    account.helpdesk.assign(conversation, account.ben, by=account.ana)

    account.helpdesk.unassign(conversation, account.ana, by=account.ben)

    assert [user.id for user in account.helpdesk.participants(conversation)] == [account.ben]


def test_a_new_conversation_in_a_multi_user_inbox_has_no_participants() -> None:
    account = build_account()
    conversation = open_conversation(account)

    assert account.helpdesk.participants(conversation) == []


def test_assigning_a_user_who_is_not_a_member_is_refused() -> None:
    account = build_account()
    conversation = open_conversation(account)

    with pytest.raises(NotAMember, match="is not a member of inbox"):
        account.helpdesk.assign(conversation, account.outsider, by=account.ana)
    assert account.helpdesk.conversation(conversation).assignees == frozenset()


def test_assigning_anyone_in_a_single_user_inbox_is_refused() -> None:
    account = build_account()
    conversation = open_conversation(account, account.ana_line)

    with pytest.raises(SingleUserInbox, match="single-user inbox"):
        account.helpdesk.assign(conversation, account.ana, by=account.ana)


def test_the_only_participant_in_a_single_user_inbox_is_its_owner() -> None:
    account = build_account()
    conversation = open_conversation(account, account.ana_line)

    assert [user.id for user in account.helpdesk.participants(conversation)] == [account.ana]


# ---------------------------------------------------------------- finding users to assign


def _with_people(account: Account, *names: str) -> dict[str, UserId]:
    """Add agents with these names (emails made from their position) and return their ids by name."""
    added = {}
    for n, name in enumerate(names):
        user = account.helpdesk.add_user(name, f"person{n}@example.com", by=account.admin)
        added[name] = user.id
    return added


def _names(users: Sequence[User]) -> list[str]:
    return [user.name for user in users]


def test_search_ignores_case_and_accents() -> None:
    account = build_account()
    _with_people(account, "José Núñez")

    assert _names(account.helpdesk.search_users("jose")) == ["José Núñez"]
    assert _names(account.helpdesk.search_users("JOSÉ")) == ["José Núñez"]


def test_search_matches_inside_a_name() -> None:
    account = build_account()
    _with_people(account, "José Núñez")

    assert _names(account.helpdesk.search_users("NUN")) == ["José Núñez"]
    assert _names(account.helpdesk.search_users("ñez")) == ["José Núñez"]


def test_search_ranks_word_starts_before_matches_inside_a_word() -> None:
    account = build_account()
    _with_people(account, "Dianne Cole", "Zoe Annan")

    assert _names(account.helpdesk.search_users("ann")) == ["Zoe Annan", "Dianne Cole"]


def test_search_within_an_inbox_lists_only_its_members() -> None:
    account = build_account()

    assert _names(account.helpdesk.search_users("a", inbox_id=account.support)) == ["Ana Lima", "Ben Okafor"]
    assert _names(account.helpdesk.search_users("o", inbox_id=account.sales)) == []


def test_an_empty_search_lists_everyone_by_name() -> None:
    account = build_account()

    assert _names(account.helpdesk.search_users("")) == [
        "Alex Morgan",
        "Ana Lima",
        "Ben Okafor",
        "Olga Petrova",
    ]


def test_a_search_that_matches_nobody_finds_nothing() -> None:
    account = build_account()

    assert account.helpdesk.search_users("zz") == []


# ---------------------------------------------------------------- tabs


def test_assigned_to_you_lists_the_open_conversations_a_user_is_assigned_to() -> None:
    account = build_account()
    hers, his, both, closed = (open_conversation(account) for _ in range(4))
    account.helpdesk.assign(hers, account.ana, by=account.admin)
    account.helpdesk.assign(his, account.ben, by=account.admin)
    account.helpdesk.assign(both, account.ana, by=account.admin)
    account.helpdesk.assign(both, account.ben, by=account.admin)
    account.helpdesk.assign(closed, account.ana, by=account.admin)
    account.helpdesk.close(closed, by=account.ana)

    assert tab_ids(account, account.ana, Tab.ASSIGNED_TO_YOU) == [both, hers]
    assert tab_ids(account, account.ben, Tab.ASSIGNED_TO_YOU) == [both, his]


def test_a_conversation_stays_in_assigned_to_you_until_it_is_closed_or_the_user_is_unassigned() -> None:
    account = build_account()
    closing, unassigning = open_conversation(account), open_conversation(account)
    for conversation in (closing, unassigning):
        account.helpdesk.assign(conversation, account.ben, by=account.ana)
    account.helpdesk.reply(closing, "On it", by=account.ben)
    assert set(tab_ids(account, account.ben, Tab.ASSIGNED_TO_YOU)) == {closing, unassigning}

    account.helpdesk.close(closing, by=account.ana)
    account.helpdesk.unassign(unassigning, account.ben, by=account.ana)

    assert tab_ids(account, account.ben, Tab.ASSIGNED_TO_YOU) == []


def test_the_open_conversations_of_a_single_user_inbox_are_its_owners() -> None:
    account = build_account()
    conversation = open_conversation(account, account.ana_line)

    assert tab_ids(account, account.ana, Tab.ASSIGNED_TO_YOU) == [conversation]
    assert tab_ids(account, account.ana, Tab.UNASSIGNED) == []


def test_unassigned_lists_open_conversations_with_nobody_assigned() -> None:
    account = build_account()
    nobody, assigned, closed = (open_conversation(account) for _ in range(3))
    account.helpdesk.assign(assigned, account.ben, by=account.ana)
    account.helpdesk.close(closed, by=account.ana)

    assert tab_ids(account, account.ben, Tab.UNASSIGNED) == [nobody]


def test_closed_lists_closed_conversations() -> None:
    account = build_account()
    first, _still_open, second = (open_conversation(account) for _ in range(3))
    account.helpdesk.close(first, by=account.ana)
    account.helpdesk.close(second, by=account.ben)

    assert tab_ids(account, account.ben, Tab.CLOSED) == [second, first]


def test_starred_lists_what_the_user_starred_whatever_its_status() -> None:
    account = build_account()
    open_one, closed_one, bens = (open_conversation(account) for _ in range(3))
    account.helpdesk.star(open_one, by=account.ana)
    account.helpdesk.star(closed_one, by=account.ana)
    account.helpdesk.close(closed_one, by=account.ana)
    account.helpdesk.star(bens, by=account.ben)

    assert tab_ids(account, account.ana, Tab.STARRED) == [closed_one, open_one]
    assert tab_ids(account, account.ben, Tab.STARRED) == [bens]


def test_star_and_unstar_are_idempotent() -> None:
    account = build_account()
    conversation = open_conversation(account)

    assert account.helpdesk.star(conversation, by=account.ana).changed
    assert not account.helpdesk.star(conversation, by=account.ana).changed
    assert account.helpdesk.unstar(conversation, by=account.ana).changed
    assert not account.helpdesk.unstar(conversation, by=account.ana).changed
    assert tab_ids(account, account.ana, Tab.STARRED) == []


def test_all_open_lists_the_open_conversations_of_every_inbox_the_user_sees() -> None:
    account = build_account()
    in_support = open_conversation(account, account.support)
    in_sales = open_conversation(account, account.sales)
    on_anas_line = open_conversation(account, account.ana_line)
    account.helpdesk.close(open_conversation(account, account.support), by=account.ana)

    assert tab_ids(account, account.ana, Tab.ALL_OPEN) == [on_anas_line, in_sales, in_support]
    assert tab_ids(account, account.ben, Tab.ALL_OPEN) == [in_support]
    assert tab_ids(account, account.admin, Tab.ALL_OPEN) == [on_anas_line, in_sales, in_support]
    assert tab_ids(account, account.outsider, Tab.ALL_OPEN) == []


def test_tabs_list_the_latest_activity_first() -> None:
    account = build_account()
    first, second, third = (open_conversation(account) for _ in range(3))
    account.clock.advance(minutes=1)
    account.helpdesk.reply(first, "Let me check", by=account.ana)

    assert tab_ids(account, account.ana, Tab.ALL_OPEN) == [first, third, second]


def test_following_cursors_across_several_inboxes_lists_everything_once_in_order() -> None:
    account = build_account()
    inboxes = [account.support, account.sales, account.ana_line]
    for n in range(11):
        open_conversation(account, inboxes[n % 3], minutes=n % 2)  # pairs share an instant
    everything = account.helpdesk.tab(account.ana, Tab.ALL_OPEN, limit=500)

    pages, cursor = [], None
    for _ in range(10):  # four pages are enough; stop a cursor that goes round
        page = account.helpdesk.tab(account.ana, Tab.ALL_OPEN, cursor=cursor, limit=3)
        pages.append(page.conversations)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    walked = [conversation for page_conversations in pages for conversation in page_conversations]
    assert [len(page_conversations) for page_conversations in pages] == [3, 3, 3, 2]
    assert walked == list(everything.conversations)
    assert len({conversation.id for conversation in walked}) == 11
    activity = [conversation.last_activity_at for conversation in walked]
    assert activity == sorted(activity, reverse=True)


def test_a_page_that_holds_the_rest_of_a_tab_has_no_next_cursor() -> None:
    account = build_account()
    for _ in range(3):
        open_conversation(account)

    assert account.helpdesk.tab(account.ana, Tab.ALL_OPEN, limit=3).next_cursor is None
    assert account.helpdesk.tab(account.ana, Tab.ALL_OPEN, limit=2).next_cursor is not None


# ---------------------------------------------------------------- badges and read state


def _mixed_scenario(account: Account) -> list[ConversationId]:
    """Conversations in every inbox, assigned, closed, reopened, starred, read and unread by several users."""
    helpdesk, ana, ben, admin = account.helpdesk, account.ana, account.ben, account.admin
    inboxes = [account.support, account.sales, account.ana_line, account.support, account.support]
    conversations = [open_conversation(account, inbox) for inbox in inboxes * 2]
    c = conversations
    helpdesk.assign(c[0], ana, by=admin)
    helpdesk.assign(c[0], ben, by=admin)
    helpdesk.assign(c[3], ben, by=ana)
    helpdesk.assign(c[1], ana, by=ana)
    helpdesk.mark_read(c[0], by=ben)
    helpdesk.reply(c[3], "On it", by=ben)
    helpdesk.close(c[4], by=ana)
    helpdesk.close(c[2], by=ana)
    helpdesk.star(c[2], by=ana)
    helpdesk.star(c[4], by=ben)
    helpdesk.star(c[5], by=admin)
    helpdesk.assign(c[8], ana, by=admin)
    helpdesk.close(c[8], by=admin)
    account.clock.advance(days=8)
    helpdesk.receive(helpdesk.conversation(c[8]).contact_id, account.support, "Anyone there?")
    helpdesk.close(c[9], by=ben)
    helpdesk.reopen(c[9], by=ben)
    helpdesk.mark_read(c[6], by=ana)
    helpdesk.mark_unread(c[6], by=admin)
    helpdesk.mark_read(c[7], by=admin)
    return conversations


@pytest.mark.parametrize("read_model", [ReadModel.SHARED, ReadModel.PER_USER], ids=lambda model: model.value)
def test_badges_equal_what_listing_each_tab_gives_for_every_user(read_model: ReadModel) -> None:
    account = build_account()
    account.helpdesk.update_settings(by=account.admin, read_model=read_model)
    _mixed_scenario(account)

    for user in account.users:
        badges = account.helpdesk.badges(user)
        for tab in Tab:
            listed = list_tab(account, user, tab, page_size=4)
            unread = sum(conversation.is_unread_for(user) for conversation in listed)
            assert badges[tab] == TabCount(total=len(listed), unread=unread), (user, tab)


@pytest.mark.parametrize("read_model", [ReadModel.SHARED, ReadModel.PER_USER], ids=lambda model: model.value)
def test_each_tab_lists_exactly_the_conversations_that_belong_in_it(read_model: ReadModel) -> None:
    account = build_account()
    account.helpdesk.update_settings(by=account.admin, read_model=read_model)
    conversations = [account.helpdesk.conversation(cid) for cid in _mixed_scenario(account)]

    for user in account.users:
        visible = {
            inbox.id: inbox
            for inbox in account.helpdesk.store.inboxes()
            if user == account.admin or user in inbox.members
        }
        for tab in Tab:
            expected = {
                conversation.id
                for conversation in conversations
                if conversation.inbox_id in visible
                and tab in tabs_of(conversation, visible[conversation.inbox_id], user)
            }
            assert set(tab_ids(account, user, tab)) == expected, (user, tab)


def test_an_inbound_message_shows_a_badge_for_every_assignee() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.assign(conversation, account.ben, by=account.admin)

    for user in (account.ana, account.ben):
        assert account.helpdesk.badges(user).assigned_to_you == TabCount(total=1, unread=1)


def test_shared_read_model_one_assignee_reading_clears_the_badge_for_both() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.assign(conversation, account.ben, by=account.admin)

    account.helpdesk.mark_read(conversation, by=account.ben)

    for user in (account.ana, account.ben):
        assert account.helpdesk.badges(user).assigned_to_you == TabCount(total=1, unread=0)


def test_per_user_read_model_one_assignee_reading_clears_only_their_badge() -> None:
    account = build_account()
    account.helpdesk.update_settings(by=account.admin, read_model=ReadModel.PER_USER)
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.assign(conversation, account.ben, by=account.admin)

    account.helpdesk.mark_read(conversation, by=account.ben)

    assert account.helpdesk.badges(account.ana).assigned_to_you == TabCount(total=1, unread=1)
    assert account.helpdesk.badges(account.ben).assigned_to_you == TabCount(total=1, unread=0)


def test_a_new_inbound_message_makes_a_read_conversation_unread() -> None:
    account = build_account()
    conversation = open_conversation(account, contact=account.contact)
    account.helpdesk.mark_read(conversation, by=account.ana)

    account.helpdesk.receive(account.contact, account.support, "Any news?")

    assert account.helpdesk.badges(account.ana).all_open == TabCount(total=1, unread=1)


# ---------------------------------------------------------------- reopen timing


def _closed_while_assigned_to_ana(account: Account) -> ConversationId:
    conversation = open_conversation(account, contact=account.contact)
    account.helpdesk.assign(conversation, account.ana, by=account.ana)
    account.helpdesk.close(conversation, by=account.ana)
    return conversation


def test_a_contact_writing_within_the_window_returns_it_to_its_assignees() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(days=6)

    outcome = account.helpdesk.receive(account.contact, account.support, "It broke again")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == {account.ana}
    assert tab_ids(account, account.ana, Tab.ASSIGNED_TO_YOU) == [conversation]
    assert tab_ids(account, account.ana, Tab.UNASSIGNED) == []


def test_a_contact_writing_after_the_window_reopens_it_unassigned() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(days=8)

    outcome = account.helpdesk.receive(account.contact, account.support, "It broke again")

    assert outcome.conversation.status is Status.OPEN
    assert outcome.conversation.assignees == frozenset()
    assert tab_ids(account, account.ana, Tab.ASSIGNED_TO_YOU) == []
    assert tab_ids(account, account.ana, Tab.UNASSIGNED) == [conversation]


def test_the_exact_end_of_the_window_counts_as_after_it() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(weeks=1)

    account.helpdesk.receive(account.contact, account.support, "It broke again")

    assert tab_ids(account, account.ana, Tab.UNASSIGNED) == [conversation]


def test_one_microsecond_before_the_end_of_the_window_counts_as_within() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(weeks=1, microseconds=-1)

    account.helpdesk.receive(account.contact, account.support, "It broke again")

    assert tab_ids(account, account.ana, Tab.ASSIGNED_TO_YOU) == [conversation]


@pytest.mark.parametrize(
    ("hours", "minutes", "tab"),
    [(166, 59, Tab.ASSIGNED_TO_YOU), (167, 0, Tab.UNASSIGNED), (167, 30, Tab.UNASSIGNED)],
    ids=["a minute before 167 hours", "167 hours", "167 and a half hours"],
)
def test_the_window_is_a_calendar_week_in_the_accounts_time_zone(hours: int, minutes: int, tab: Tab) -> None:
    account = build_account()
    account.helpdesk.update_settings(by=account.admin, timezone="America/New_York")
    account.clock.set(
        pendulum.datetime(2026, 3, 5, 12, 0, tz="America/New_York")
    )  # clocks spring forward on the 8th
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(hours=hours, minutes=minutes)

    account.helpdesk.receive(account.contact, account.support, "Still broken")

    assert tab_ids(account, account.ana, tab) == [conversation]


# ---------------------------------------------------------------- history


def _says_who(summary: str, name: str, some_id: object) -> bool:
    """A readable summary names who acted: by name, or by id for someone without one."""
    return name in summary or str(some_id) in summary


def test_history_lists_every_change_in_order_with_who_did_it() -> None:
    account = build_account()
    conversation = open_conversation(account, contact=account.contact)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.reply(conversation, "Sorry about that", by=account.ana)
    account.helpdesk.close(conversation, by=account.ana)

    history = account.helpdesk.history(conversation)

    maria, alex, ana = Actor.contact(account.contact), Actor.user(account.admin), Actor.user(account.ana)
    expected: list[tuple[type[Event], Actor]] = [
        (ConversationStarted, maria),
        (MessageReceived, maria),
        (Assigned, alex),
        (MessageSent, ana),
        (MarkedRead, ana),
        (Closed, ana),
    ]
    assert [(type(entry.event), entry.actor) for entry in history] == expected
    assert [entry.version for entry in history] == [1, 2, 3, 4, 5, 6]
    names = {maria: "Maria Lopez", alex: "Alex Morgan", ana: "Ana Lima"}
    for entry in history:
        assert _says_who(entry.summary, names[entry.actor], entry.actor.id), entry.summary
    assert "wrote 'Hello, my order has not arrived'" in history[1].summary
    assert _says_who(history[2].summary.split("assigned", 1)[1], "Ana Lima", account.ana)
    assert "replied 'Sorry about that'" in history[3].summary
    assert "closed it" in history[5].summary


def _since_the_last_message(account: Account, conversation: ConversationId) -> list[HistoryEntry]:
    history = account.helpdesk.history(conversation)
    last = max(n for n, entry in enumerate(history) if isinstance(entry.event, MessageReceived))
    return history[last + 1 :]


def test_history_says_why_a_conversation_reopened_unassigned() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(days=8)
    account.helpdesk.receive(account.contact, account.support, "It broke again")

    caused = _since_the_last_message(account, conversation)

    assert {type(entry.event) for entry in caused} == {Reopened, Unassigned}
    assert all(entry.actor.kind is ActorKind.RULE for entry in caused)
    unassigned = next(entry for entry in caused if isinstance(entry.event, Unassigned))
    assert unassigned.event == Unassigned(conversation, unassigned.actor, unassigned.event.at, account.ana)
    assert _says_who(unassigned.summary.split("unassigned", 1)[1], "Ana Lima", account.ana)
    why = " ".join(entry.summary for entry in caused)
    assert "reopen window" in why
    assert "Unassigned" in why


def test_history_of_a_reopen_within_the_window_keeps_the_assignees() -> None:
    account = build_account()
    conversation = _closed_while_assigned_to_ana(account)
    account.clock.advance(days=6)
    account.helpdesk.receive(account.contact, account.support, "It broke again")

    caused = _since_the_last_message(account, conversation)

    assert [type(entry.event) for entry in caused] == [Reopened]
    assert caused[0].actor == Actor.rule(REOPEN_ON_INBOUND)
    assert "reopened" in caused[0].summary


# ---------------------------------------------------------------- who may do what

_CONVERSATION_ACTIONS: list[tuple[str, Callable[[Account, ConversationId, UserId], object]]] = [
    ("close", lambda account, cid, by: account.helpdesk.close(cid, by=by)),
    ("reopen", lambda account, cid, by: account.helpdesk.reopen(cid, by=by)),
    ("assign", lambda account, cid, by: account.helpdesk.assign(cid, account.ana, by=by)),
    ("unassign", lambda account, cid, by: account.helpdesk.unassign(cid, account.ana, by=by)),
    ("star", lambda account, cid, by: account.helpdesk.star(cid, by=by)),
    ("unstar", lambda account, cid, by: account.helpdesk.unstar(cid, by=by)),
    ("mark read", lambda account, cid, by: account.helpdesk.mark_read(cid, by=by)),
    ("mark unread", lambda account, cid, by: account.helpdesk.mark_unread(cid, by=by)),
    ("reply", lambda account, cid, by: account.helpdesk.reply(cid, "Hi", by=by)),
]
_ACTIONS = [action for _, action in _CONVERSATION_ACTIONS]
_ACTION_NAMES = [name for name, _ in _CONVERSATION_ACTIONS]


@pytest.mark.parametrize("action", _ACTIONS, ids=_ACTION_NAMES)
def test_an_agent_who_is_not_a_member_of_the_inbox_may_not_act_on_its_conversations(
    action: Callable[[Account, ConversationId, UserId], object],
) -> None:
    account = build_account()
    conversation = open_conversation(account)
    history = account.helpdesk.history(conversation)

    with pytest.raises(PermissionDenied, match="is not a member of inbox"):
        action(account, conversation, account.outsider)
    assert account.helpdesk.history(conversation) == history


@pytest.mark.parametrize("action", _ACTIONS, ids=_ACTION_NAMES)
def test_an_admin_who_is_not_a_member_may_act_on_any_conversation(
    action: Callable[[Account, ConversationId, UserId], object],
) -> None:
    account = build_account()
    conversation = open_conversation(account)

    action(account, conversation, account.admin)  # no error


def test_settings_changes_by_a_non_admin_are_refused() -> None:
    account = build_account()

    with pytest.raises(PermissionDenied, match="is not an admin"):
        account.helpdesk.update_settings(by=account.ana, exports_enabled=False)
    assert account.helpdesk.settings().exports_enabled


def test_an_admin_changes_settings() -> None:
    account = build_account()

    account.helpdesk.update_settings(
        by=account.admin, timezone="Europe/Lisbon", read_model=ReadModel.PER_USER
    )

    assert account.helpdesk.settings().timezone == "Europe/Lisbon"
    assert account.helpdesk.settings().read_model is ReadModel.PER_USER


def test_the_first_user_must_be_an_admin() -> None:
    helpdesk = Helpdesk(clock=ManualClock())

    with pytest.raises(PermissionDenied, match="first user as an admin"):
        helpdesk.add_user("Ana Lima", "ana@example.com")
    assert list(helpdesk.store.users()) == []


def test_later_users_are_added_by_an_admin() -> None:
    account = build_account()

    with pytest.raises(PermissionDenied, match="is not an admin"):
        account.helpdesk.add_user("Dan Silva", "dan@example.com", by=account.ana)
    dan = account.helpdesk.add_user("Dan Silva", "dan@example.com", by=account.admin)
    assert account.helpdesk.user(dan.id) == dan


# ---------------------------------------------------------------- idempotent inbound


def test_a_message_delivered_twice_changes_nothing_the_second_time() -> None:
    account = build_account()
    first = account.helpdesk.receive(account.contact, account.support, "Hello", external_id="SM1")
    account.clock.advance(minutes=1)
    account.helpdesk.receive(account.contact, account.support, "Are you there?", external_id="SM2")
    history = account.helpdesk.history(first.conversation.id)
    state = account.helpdesk.conversation(first.conversation.id)

    again = account.helpdesk.receive(account.contact, account.support, "Hello", external_id="SM1")

    assert not again.changed
    assert again.conversation == state
    assert account.helpdesk.history(first.conversation.id) == history


def test_a_redelivered_message_does_not_reopen_a_closed_conversation() -> None:
    account = build_account()
    first = account.helpdesk.receive(account.contact, account.support, "Hello", external_id="SM1")
    account.helpdesk.close(first.conversation.id, by=account.ana)

    again = account.helpdesk.receive(account.contact, account.support, "Hello", external_id="SM1")

    assert not again.changed
    assert account.helpdesk.conversation(first.conversation.id).status is Status.CLOSED


def test_the_same_provider_id_in_another_inbox_is_another_message() -> None:
    account = build_account()
    account.helpdesk.receive(account.contact, account.support, "Hello", external_id="SM1")

    outcome = account.helpdesk.receive(account.contact, account.sales, "Hello", external_id="SM1")

    assert outcome.changed
    assert outcome.conversation.inbox_id == account.sales


# ---------------------------------------------------------------- optimistic concurrency


class FlakyStore(InterceptingStore):
    """A memory store whose next ``conflicts`` appends fail as if another server had saved first."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 0
        self.appends = 0

    def before_append(self) -> None:
        self.appends += 1
        if self.conflicts > 0:
            self.conflicts -= 1
            raise ConcurrencyConflict("another writer saved this conversation first")


def test_an_action_that_loses_a_race_is_decided_again_and_succeeds() -> None:
    store = FlakyStore()
    account = build_account(store=store)
    conversation = open_conversation(account)
    store.conflicts, store.appends = 2, 0

    outcome = account.helpdesk.assign(conversation, account.ben, by=account.ana)

    assert outcome.changed
    assert store.appends == 3
    assigned = [
        entry for entry in account.helpdesk.history(conversation) if isinstance(entry.event, Assigned)
    ]
    assert len(assigned) == 1


def test_an_action_that_keeps_losing_gives_up_after_its_attempts() -> None:
    store = FlakyStore()
    account = build_account(store=store, attempts=3)
    conversation = open_conversation(account)
    before = store.dump()
    store.conflicts, store.appends = 3, 0

    with pytest.raises(ConcurrencyConflict, match="gave up after 3 tries"):
        account.helpdesk.assign(conversation, account.ben, by=account.ana)
    assert store.appends == 3
    assert store.dump() == before


def test_a_retry_keeps_what_the_other_writer_saved() -> None:
    store = RacingStore()
    account = build_account(store=store)
    rival = Helpdesk(store=store, clock=account.clock)
    conversation = open_conversation(account)
    store.rival = lambda: rival.assign(conversation, account.ben, by=account.ben)

    account.helpdesk.assign(conversation, account.ana, by=account.ana)

    assert account.helpdesk.conversation(conversation).assignees == {account.ana, account.ben}


def test_a_retry_of_something_the_other_writer_already_did_records_nothing() -> None:
    store = RacingStore()
    account = build_account(store=store)
    rival = Helpdesk(store=store, clock=account.clock)
    conversation = open_conversation(account)
    store.rival = lambda: rival.close(conversation, by=account.ben)

    outcome = account.helpdesk.close(conversation, by=account.ana)

    assert not outcome.changed
    closes = [entry for entry in account.helpdesk.history(conversation) if isinstance(entry.event, Closed)]
    assert [entry.actor for entry in closes] == [Actor.user(account.ben)]


def test_a_first_message_that_races_another_first_message_joins_its_conversation() -> None:
    store = RacingStore()
    account = build_account(store=store)
    rival = Helpdesk(store=store, clock=account.clock)
    store.rival = lambda: rival.receive(account.contact, account.support, "First!")

    outcome = account.helpdesk.receive(account.contact, account.support, "Second!")

    winner = store.conversation_between(account.contact, account.support)
    assert winner is not None
    assert outcome.conversation.id == winner
    bodies = [
        entry.event.message.body
        for entry in account.helpdesk.history(winner)
        if isinstance(entry.event, MessageReceived)
    ]
    assert bodies == ["First!", "Second!"]


# ---------------------------------------------------------------- membership changes


def test_removing_a_member_unassigns_them_from_the_inboxs_conversations() -> None:
    account = build_account()
    open_one, closed_one = open_conversation(account), open_conversation(account)
    in_sales = open_conversation(account, account.sales)
    for conversation in (open_one, closed_one, in_sales):
        account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.assign(open_one, account.ben, by=account.admin)
    account.helpdesk.close(closed_one, by=account.ana)

    inbox = account.helpdesk.remove_member(account.support, account.ana, by=account.admin)

    assert inbox.members == {account.ben}
    assert account.helpdesk.conversation(open_one).assignees == {account.ben}
    assert account.helpdesk.conversation(closed_one).assignees == frozenset()
    assert account.helpdesk.conversation(in_sales).assignees == {account.ana}
    last = account.helpdesk.history(open_one)[-1]
    assert isinstance(last.event, Unassigned)
    assert last.actor == Actor.user(account.admin)


def test_a_removed_member_no_longer_sees_the_inbox() -> None:
    account = build_account()
    conversation = open_conversation(account)

    account.helpdesk.remove_member(account.support, account.ben, by=account.admin)

    assert tab_ids(account, account.ben, Tab.ALL_OPEN) == []
    with pytest.raises(PermissionDenied):
        account.helpdesk.close(conversation, by=account.ben)


def test_an_added_member_can_be_assigned() -> None:
    account = build_account()
    conversation = open_conversation(account)

    account.helpdesk.add_member(account.support, account.outsider, by=account.admin)

    assert account.helpdesk.assign(conversation, account.outsider, by=account.ana).changed


# ---------------------------------------------------------------- the manual clock


def test_the_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC"))

    assert clock.now() == pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    assert clock.advance(days=6) == pendulum.datetime(2026, 3, 8, 9, tz="UTC")
    assert clock.now() == pendulum.datetime(2026, 3, 8, 9, tz="UTC")


def test_the_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC"))

    with pytest.raises(InvalidInput, match="cannot go back"):
        clock.set(pendulum.datetime(2026, 3, 2, 8, tz="UTC"))
    with pytest.raises(InvalidInput, match="cannot go back"):
        clock.advance(minutes=-1)
    assert clock.now() == pendulum.datetime(2026, 3, 2, 9, tz="UTC")


def test_the_manual_clock_refuses_naive_datetimes() -> None:
    naive = datetime.fromisoformat("2026-03-02T09:00:00")

    with pytest.raises(InvalidInput, match="has no time zone"):
        ManualClock(naive)
    clock = ManualClock()
    with pytest.raises(InvalidInput, match="has no time zone"):
        clock.set(naive)


def test_actions_are_stamped_with_the_manual_clocks_time() -> None:
    account = build_account()
    account.clock.set(pendulum.datetime(2026, 4, 1, 12, tz="UTC"))

    outcome = account.helpdesk.receive(account.contact, account.support, "Hello")

    assert outcome.conversation.started_at == pendulum.datetime(2026, 4, 1, 12, tz="UTC")


def test_the_rules_attempts_and_depth_of_a_helpdesk_can_be_changed_after_it_is_built() -> None:
    account = build_account()
    helpdesk = account.helpdesk
    helpdesk.rules = RuleSet(())  # no rules at all: a closed conversation stays closed on a new message
    conversation = open_conversation(account)
    helpdesk.close(conversation, by=account.ana)
    account.clock.advance(minutes=1)
    helpdesk.receive(helpdesk.conversation(conversation).contact_id, account.support, "Still there?")

    assert helpdesk.conversation(conversation).status is Status.CLOSED
    with pytest.raises(InvalidInput, match="attempts must be at least 1"):
        helpdesk.attempts = 0
    with pytest.raises(InvalidInput, match="rules must be a RuleSet"):
        helpdesk.rules = "DEFAULT_RULES"  # type: ignore[assignment]
    assert helpdesk.rules == RuleSet(())

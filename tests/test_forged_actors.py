"""Nobody writes history in someone else's name.

``Helpdesk.execute`` runs any core command. Run as a rule, it must name a rule of the helpdesk's rule set
and be a command one of that rule's actions issues; run as a user, a star or a read mark is the user's own
(an admin may mark read or unread for everyone, as a rule does). Each refusal is ``PermissionDenied`` and
changes nothing.
"""

from __future__ import annotations

import pytest

from convostate import (
    Actor,
    Helpdesk,
    MemoryStore,
    MessageId,
    PermissionDenied,
    RuleId,
    Status,
)
from convostate.core import (
    Assign,
    Close,
    Command,
    MarkRead,
    MarkUnread,
    Reopen,
    SendReply,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
)
from convostate.rules import (
    DEFAULT_RULES,
    UNASSIGN_AFTER_WINDOW,
    Action,
    OnEvent,
    Rule,
    RuleSet,
    when,
)
from convostate.rules import REOPEN_ON_INBOUND as REOPEN
from convostate.rules import WAKE_WHEN_SNOOZE_ENDS as WAKE
from tests.helpdesk_builders import Account, build_account, open_conversation


def refused_unchanged(account: Account, command: Command, match: str) -> None:
    store = account.helpdesk.store
    assert isinstance(store, MemoryStore)
    before = store.dump()
    with pytest.raises(PermissionDenied, match=match):
        account.helpdesk.execute(command)
    assert store.dump() == before


def test_a_command_in_the_name_of_a_rule_that_does_not_exist_is_refused() -> None:
    account = build_account()
    conversation = open_conversation(account)
    refused_unchanged(
        account, Close(conversation, Actor.rule(RuleId("anything"))), "no enabled rule anything"
    )


def test_a_rule_may_not_reply_or_do_what_none_of_its_actions_does() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    phishing = SendReply(conversation, MessageId("m-x"), "click http://example.com", Actor.rule(REOPEN))
    refused_unchanged(account, phishing, "rule reopen-on-inbound has no action that issues SendReply")
    refused_unchanged(account, Close(conversation, Actor.rule(REOPEN)), "no action that issues Close")
    refused_unchanged(account, Assign(conversation, account.ben, Actor.rule(UNASSIGN_AFTER_WINDOW)), "Assign")


def test_a_disabled_rule_may_not_act() -> None:
    account = build_account()
    account.helpdesk.rules = DEFAULT_RULES.enabled(REOPEN, False)
    conversation = open_conversation(account)
    account.helpdesk.close(conversation, by=account.admin)
    refused_unchanged(account, Reopen(conversation, Actor.rule(REOPEN)), "no enabled rule reopen-on-inbound")


def test_a_rule_does_what_its_actions_do() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)
    account.helpdesk.close(conversation, by=account.ana)

    account.helpdesk.execute(Reopen(conversation, Actor.rule(REOPEN)))
    account.helpdesk.execute(Unassign(conversation, account.ana, Actor.rule(UNASSIGN_AFTER_WINDOW)))
    account.helpdesk.execute(MarkUnread(conversation, None, Actor.rule(WAKE)))
    account.helpdesk.execute(Unsnooze(conversation, Actor.rule(WAKE)))

    state = account.helpdesk.conversation(conversation)
    assert (state.status, state.assignees, state.unread) == (Status.OPEN, frozenset(), True)
    reopened = [
        entry for entry in account.helpdesk.history(conversation) if entry.actor == Actor.rule(REOPEN)
    ]
    assert len(reopened) == 1


def test_all_and_assignees_stand_for_the_conversations_assignees_now() -> None:
    account = build_account()
    starring = Rule(
        RuleId("star-vip"),
        OnEvent("MessageReceived"),
        (Action.star("assignees"),),
        when("unread", "eq", True),
    )
    account.helpdesk.rules = DEFAULT_RULES.with_rules(starring)
    conversation = open_conversation(account)
    account.helpdesk.assign(conversation, account.ana, by=account.admin)

    refused_unchanged(
        account, Star(conversation, account.ben, Actor.rule(starring.id)), "no action that issues Star"
    )
    account.helpdesk.execute(Star(conversation, account.ana, Actor.rule(starring.id)))
    assert account.helpdesk.conversation(conversation).starred_by == {account.ana}


def test_a_user_stars_and_reads_only_for_themselves() -> None:
    account = build_account()
    conversation = open_conversation(account)
    ana = Actor.user(account.ana)
    refused_unchanged(account, Star(conversation, account.ben, ana), "may Star only for themselves, not for")
    refused_unchanged(account, Unstar(conversation, account.ben, ana), "may Unstar only for themselves")
    refused_unchanged(account, MarkRead(conversation, account.ben, ana), "may MarkRead only for themselves")
    refused_unchanged(account, MarkUnread(conversation, None, ana), "an admin may mark read or unread")
    refused_unchanged(
        account, Star(conversation, account.ana, Actor.user(account.admin)), "Alex Morgan .* may Star only"
    )


def test_an_admin_marks_read_or_unread_for_everyone() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.execute(MarkRead(conversation, None, Actor.user(account.admin)))
    assert not account.helpdesk.conversation(conversation).unread
    account.helpdesk.execute(MarkUnread(conversation, None, Actor.user(account.admin)))
    assert account.helpdesk.conversation(conversation).unread


def test_a_user_runs_their_own_commands_through_execute() -> None:
    account = build_account()
    conversation = open_conversation(account)
    account.helpdesk.execute(Star(conversation, account.ana, Actor.user(account.ana)))
    assert account.helpdesk.conversation(conversation).starred_by == {account.ana}


def test_a_rule_set_with_no_rules_runs_no_rules() -> None:
    account = build_account()
    helpdesk = Helpdesk(store=account.helpdesk.store, clock=account.clock, rules=RuleSet(()))
    conversation = open_conversation(account)
    helpdesk.close(conversation, by=account.admin)
    helpdesk.receive(account.contact, account.support, "Back again")
    assert helpdesk.conversation(conversation).status is Status.CLOSED  # no reopen rule ran

"""The pipeline of one conversation action, with no I/O: from what was loaded to the change set to commit.

decide -> rules (cascade) -> rule follow-ups (a linked conversation, decided the same way) -> timers ->
tab changes -> analytics facts -> one :class:`~convostate._ports.changes.ConversationChange` per
conversation touched. Whatever the engine needs from outside (rotation counts, the inbox, the settings, the
contact) is loaded before; nothing here calls a port, so the same pipeline serves a sync or an async shell
and any store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import attrs
import pendulum

from convostate._core.analytics.facts import Fact, observe
from convostate._core.commands import Command
from convostate._core.decider import DecisionContext
from convostate._core.events import Event
from convostate._core.ids import ConversationId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox
from convostate._core.rules.engine import (
    Handled,
    OpenLinkedConversation,
    Timer,
    fire_timer,
    handle,
    timers,
)
from convostate._core.rules.model import RuleSet
from convostate._core.rules.vocabulary import ActionKind
from convostate._core.tab_changes import NO_TAB_CHANGES, TabChanges, tab_changes
from convostate._ports.changes import ConversationChange, RotationTurns
from convostate._service.results import Outcome


class Loaded(NamedTuple):
    """What a conversation action reads before it decides: the conversation (None before its first
    message), its inbox, the account's settings, the conversation's contact and which of its assignees
    are not available."""

    state: Conversation | None
    inbox: Inbox
    settings: AccountSettings
    contact: Contact | None
    unavailable: frozenset[UserId] = frozenset()
    """The conversation's assignees and the round-robin rules' users who are away or offline."""
    offline: frozenset[UserId] = frozenset()
    """Those of ``unavailable`` who are offline."""


@attrs.frozen
class Pipeline:
    """The rules and limits every action of one helpdesk is decided with."""

    rules: RuleSet
    max_depth: int

    @property
    def round_robin_rules(self) -> tuple[RuleId, ...]:
        """The rules whose turn counts an action must load before deciding."""
        return tuple(
            rule.id
            for rule in self.rules.active()
            if any(action.kind is ActionKind.ASSIGN_ROUND_ROBIN for action in rule.actions)
        )

    @property
    def round_robin_users(self) -> frozenset[UserId]:
        """The users the round-robin rules may assign: whose availability an action must load, since a
        rotation skips those who are not available."""
        return frozenset(
            UserId(user)
            for rule in self.rules.active()
            for action in rule.actions
            if action.kind is ActionKind.ASSIGN_ROUND_ROBIN
            for user in action.users
        )

    def command(
        self,
        loaded: Loaded,
        command: Command,
        now: pendulum.DateTime,
        turns: Turns,
        chain: tuple[RuleId, ...] = (),
    ) -> tuple[Outcome, list[ConversationChange]]:
        """Decide ``command`` and everything its rules do: the outcome and the conversations' changes."""
        context = DecisionContext(
            now, loaded.settings, inbox=loaded.inbox, unavailable=loaded.unavailable, offline=loaded.offline
        )
        handled = handle(
            loaded.state,
            command,
            context,
            self.rules,
            contact=loaded.contact,
            max_depth=self.max_depth,
            rotation=turns,
            chain=chain,
        )
        if not handled.events:
            assert loaded.state is not None  # only a new conversation's first message has no state
            return Outcome(loaded.state, ()), []
        return self._changed(loaded, handled, context, turns)

    def timer(
        self, loaded: Loaded, timer: Timer, turns: Turns
    ) -> tuple[Outcome, list[ConversationChange], bool]:
        """Fire a due time rule on the loaded conversation, at the instant it was due (or at the
        conversation's last change, if that is later): the outcome, the changes, and whether the rule is
        still due after acting (a rule that does not settle). The conversation's timers are re-derived even
        when the rule no longer applies, which also ends the claim on them."""
        state = loaded.state
        assert state is not None
        context = DecisionContext(
            max(timer.due_at, state.updated_at),
            loaded.settings,
            inbox=loaded.inbox,
            unavailable=loaded.unavailable,
            offline=loaded.offline,
        )
        handled = fire_timer(
            state,
            timer,
            context,
            self.rules,
            contact=loaded.contact,
            max_depth=self.max_depth,
            rotation=turns,
        )
        if not handled.events:
            new_timers = timers(state, self.rules, context, contact=loaded.contact)
            change = ConversationChange(state, (), state.version, new_timers, NO_TAB_CHANGES)
            return Outcome(state, ()), [change], timer in new_timers and timer.due_at <= context.now
        outcome, changes = self._changed(loaded, handled, context, turns)
        still_due = timer in changes[0].timers and timer.due_at <= context.now
        return outcome, changes, still_due

    def _changed(
        self, loaded: Loaded, handled: Handled, context: DecisionContext, turns: Turns
    ) -> tuple[Outcome, list[ConversationChange]]:
        new_state = handled.state
        assert new_state is not None
        changes = [self._change(loaded, new_state, handled.events, context)]
        follow_ups: list[Outcome] = []
        for each in handled.follow_ups:
            if isinstance(each, OpenLinkedConversation):  # same inbox and contact, a conversation of its own
                linked = loaded._replace(state=None)
                outcome, more = self.command(linked, each.message, context.now, turns, each.chain)
                follow_ups.append(outcome)
                changes.extend(more)
        return Outcome(new_state, handled.events, tuple(follow_ups)), changes

    def _change(
        self, loaded: Loaded, new_state: Conversation, events: tuple[Event, ...], context: DecisionContext
    ) -> ConversationChange:
        state = loaded.state
        timers_, tabs = self.derived(loaded, new_state, context)
        facts = self.facts(loaded, events)
        return ConversationChange(
            new_state, events, state.version if state is not None else 0, timers_, tabs, facts
        )

    def derived(
        self, loaded: Loaded, new_state: Conversation, context: DecisionContext
    ) -> tuple[tuple[Timer, ...], TabChanges]:
        """What a change from ``loaded.state`` to ``new_state`` means beyond the conversation: its timers
        (as of ``context``), its tab rows and counters. Both depend only on the two states, so a batch works
        them out once for all its actions on a conversation and gets what each action's would add up to."""
        return (
            timers(new_state, self.rules, context, contact=loaded.contact),
            tab_changes(loaded.state, new_state, loaded.inbox),
        )

    @staticmethod
    def facts(loaded: Loaded, events: Sequence[Event]) -> tuple[Fact, ...]:
        """The analytics facts of ``events`` on ``loaded.state``."""
        settings, inbox = loaded.settings, loaded.inbox
        return observe(
            loaded.state,
            events,
            settings.timezone,
            owner=inbox.owner,
            calendar=inbox.business_hours or settings.business_hours,
        )


@attrs.frozen
class DeferredPipeline(Pipeline):
    """The pipeline of a batch: it decides as :class:`Pipeline` does but leaves out each change's timers
    and tab changes, recording instead what each conversation was last decided with, so that the batch
    derives them once per conversation (:meth:`Pipeline.derived`) when it commits. (Facts are worked out
    per action: they fold over the events with the state before each, which the action has at hand.)"""

    last: dict[ConversationId, tuple[Loaded, DecisionContext]] = attrs.field(factory=dict, eq=False)

    def _change(
        self, loaded: Loaded, new_state: Conversation, events: tuple[Event, ...], context: DecisionContext
    ) -> ConversationChange:
        self.last[new_state.id] = (loaded, context)
        state = loaded.state
        expected = state.version if state is not None else 0
        return ConversationChange(new_state, events, expected, facts=self.facts(loaded, events))


class Turns:
    """A round-robin rotation over counts loaded before deciding: it counts the turns a decision takes,
    so they are committed with it (:class:`RotationTurns`, a compare-and-set) or not at all."""

    def __init__(self, counts: Mapping[RuleId, int]) -> None:
        self._loaded = counts
        self._counts = dict(counts)

    def next_in_rotation(self, rule_id: RuleId, size: int) -> int:
        if rule_id not in self._loaded:
            raise AssertionError(f"rule {rule_id}'s turn count was not loaded before deciding")
        count = self._counts.get(rule_id, 0)
        self._counts[rule_id] = count + 1
        return count % size

    def taken(self) -> tuple[RotationTurns, ...]:
        if not self._counts:
            return ()
        return tuple(
            RotationTurns(rule_id, self._loaded.get(rule_id, 0), count)
            for rule_id, count in self._counts.items()
            if count != self._loaded.get(rule_id, 0)
        )

"""Rules as data: JSON and TOML read and written in one schema, bad documents refused with a message that
names the rule, the field and what is allowed, nothing in a document ever executed, and ``vocabulary()``
describing everything a rule can say.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest

from convostate import (
    AccountSettings,
    CalendarDuration,
    ContactId,
    ConversationId,
    Helpdesk,
    Inbox,
    InboxId,
    InvalidInput,
    MessageId,
    Role,
    Status,
    UserId,
)
from convostate._core.rules.model import EVENT_TYPES
from convostate._core.rules.vocabulary import FIELDS, NO_VALUE, OPERATORS, TIME_FIELDS, ValueType
from convostate.core import DecisionContext, ReceiveMessage
from convostate.rules import (
    DEFAULT_RULES,
    MAX_CONDITION_DEPTH,
    MAX_RULES,
    MAX_TEXT_LENGTH,
    REOPEN_WINDOW,
    Action,
    ActionKind,
    AfterTime,
    InvalidRules,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    all_of,
    any_of,
    explain,
    handle,
    rules_from_data,
    rules_from_json,
    rules_from_toml,
    rules_to_data,
    rules_to_json,
    vocabulary,
    when,
)
from convostate.testing import ManualClock, SequentialIds

# ---------------------------------------------------------------- round trips

EVERYTHING = RuleSet(
    (
        Rule(
            "auto-close",
            AfterTime("last_outbound_at", "PT24H"),
            (Action.close(),),
            all_of(when("status", "eq", "open"), when("waiting_on", "eq", "contact")),
            description="Close after a day of silence.",
        ),
        Rule(
            "unassign-idle",
            AfterTime("last_activity_at", CalendarDuration(days=3, hours=1)),
            (Action.unassign(),),
            when("assignee_count", "gt", 0),
            priority=-5,
        ),
        Rule(
            "round-robin",
            OnEvent("ConversationStarted"),
            (Action.assign_round_robin(["ana", "bo"]),),
            priority=50,
            enabled=False,
        ),
        Rule(
            "vip",
            OnEvent("MessageReceived"),
            (Action.star("ana"), Action.mark_unread(), Action.snooze("P1W")),
            any_of(
                when("contact.tags", "contains", "vip"),
                Not(when("inbox_id", "in", ["support", "sales"])),
                all_of(when("event.body", "contains", "urgent"), when("unread", "eq", True)),
            ),
        ),
        Rule(
            "follow-up",
            OnEvent("MessageReceived"),
            (Action.open_linked_conversation(),),
            all_of(when("closed_at", "older_than", REOPEN_WINDOW), when("closed_at", "is_set")),
            priority=300,
        ),
        Rule(
            "misc",
            OnEvent("Assigned"),
            (
                Action.assign("bo"),
                Action.unstar(),
                Action.mark_read("ana"),
                Action.reopen(),
                Action.unsnooze(),
            ),
            all_of(
                when("closed_at", "within", "P2D"),
                when("status", "not_in", ["closed"]),
                when("starred_by", "is_empty"),
                when("assignees", "not_contains", "cy"),
                when("snoozed_until", "is_not_set"),
                when("assignee_count", "lte", 2),
                when("event.actor", "ne", "rule"),
            ),
        ),
    )
)


@pytest.mark.parametrize("rules", [DEFAULT_RULES, EVERYTHING], ids=["defaults", "everything"])
def test_json_round_trips(rules: RuleSet) -> None:
    assert rules_from_json(rules_to_json(rules)) == rules


@pytest.mark.parametrize("rules", [DEFAULT_RULES, EVERYTHING], ids=["defaults", "everything"])
def test_data_round_trips_and_is_plain_json(rules: RuleSet) -> None:
    data = rules_to_data(rules)

    assert json.loads(json.dumps(data)) == data
    assert rules_from_data(data) == rules


def test_the_json_of_the_defaults_names_every_rule_in_order() -> None:
    data = json.loads(rules_to_json(DEFAULT_RULES))

    assert [rule["id"] for rule in data["rules"]] == [str(rule.id) for rule in DEFAULT_RULES]
    assert data["rules"][0] == {
        "id": "unassign-after-reopen-window",
        "description": "The contact wrote at or after the end of the reopen window: it goes to Unassigned.",
        "priority": 200,
        "enabled": True,
        "trigger": {"event": "MessageReceived"},
        "conditions": {
            "all": [
                {"field": "status", "op": "eq", "value": "closed"},
                {"field": "closed_at", "op": "older_than", "value": "reopen_window"},
            ]
        },
        "actions": [{"do": "unassign", "user": "all"}],
    }


TOML = """
[[rules]]
id = "auto-close-after-silence"
description = "Close after 24 hours with no reply from the contact."
trigger = { after = "PT24H", field = "last_outbound_at" }
conditions = { all = [
    { field = "status", op = "eq", value = "open" },
    { field = "waiting_on", op = "eq", value = "contact" },
] }
actions = [ { do = "close" } ]

[[rules]]
id = "round-robin"
priority = 10
trigger = { event = "ConversationStarted" }
actions = [ { do = "assign_round_robin", users = ["ana", "bo"] } ]

[[rules]]
id = "star-vips"
enabled = false
trigger.event = "Assigned"
conditions = { field = "contact.tags", op = "contains", value = "vip" }

[[rules.actions]]
do = "star"
user = "assignees"

[[rules.actions]]
do = "snooze"
for = "P2D"
"""


def test_a_toml_document_with_several_rules() -> None:
    rules = rules_from_toml(TOML)

    assert [str(rule.id) for rule in rules] == ["round-robin", "auto-close-after-silence", "star-vips"]
    assert rules["auto-close-after-silence"] == Rule(
        "auto-close-after-silence",
        AfterTime("last_outbound_at", CalendarDuration(hours=24)),
        (Action.close(),),
        all_of(when("status", "eq", "open"), when("waiting_on", "eq", "contact")),
        description="Close after 24 hours with no reply from the contact.",
    )
    assert rules["round-robin"].priority == 10
    assert rules["round-robin"].actions == (Action.assign_round_robin(["ana", "bo"]),)
    vip = rules["star-vips"]
    assert not vip.enabled
    assert vip.trigger == OnEvent("Assigned")
    assert vip.actions == (Action.star("assignees"), Action.snooze(CalendarDuration(days=2)))
    assert [rule.id for rule in rules.active()] == [
        rules["round-robin"].id,
        rules["auto-close-after-silence"].id,
    ]


def test_toml_and_json_read_the_same_schema() -> None:
    rules = rules_from_toml(TOML)

    assert rules_from_json(rules_to_json(rules)) == rules


def test_rules_read_from_data_extend_the_defaults() -> None:
    rules = DEFAULT_RULES.with_rules(*rules_from_toml(TOML))

    assert len(rules) == len(DEFAULT_RULES) + 3
    assert rules.without("round-robin", "star-vips", "auto-close-after-silence") == DEFAULT_RULES


def test_an_empty_document_is_an_empty_rule_set() -> None:
    assert rules_from_json('{"rules": []}') == RuleSet(())
    assert rules_from_toml("rules = []") == RuleSet(())


def test_optional_keys_take_their_defaults() -> None:
    (rule,) = rules_from_json(
        '{"rules": [{"id": "r", "trigger": {"event": "Closed"}, "actions": [{"do": "reopen"}]}]}'
    )

    assert rule == Rule("r", OnEvent("Closed"), (Action.reopen(),))
    assert (rule.priority, rule.enabled, rule.description, rule.conditions) == (0, True, "", all_of())


# ---------------------------------------------------------------- bad documents


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": "r1", "trigger": {"event": "MessageReceived"}, "actions": [{"do": "close"}]}
    rule.update(changes)
    return rule


def _doc(**changes: Any) -> dict[str, Any]:
    return {"rules": [_rule(**changes)]}


_ACTION_NAMES = str(sorted(kind.value for kind in ActionKind))
_RULE_KEYS = "['actions', 'conditions', 'description', 'enabled', 'id', 'priority', 'trigger']"

BAD_DOCUMENTS: list[tuple[str, object, str, list[str]]] = [
    (
        "unknown field",
        _doc(conditions={"field": "colour", "op": "eq", "value": "red"}),
        "rules[0].conditions.field",
        ["rule r1", "conditions", "'colour' is not a field", "'assignee_count'", "'waiting_on'"],
    ),
    (
        "unknown field deep in a tree",
        _doc(
            conditions={"all": [{"field": "status", "op": "eq", "value": "open"}, {"field": "x", "op": "eq"}]}
        ),
        "rules[0].conditions.all[1].field",
        ["rule r1", "rules[0].conditions.all[1].field (rule r1): ", "'x' is not a field"],
    ),
    (
        "an operator that does not apply to the field's type",
        _doc(conditions={"field": "status", "op": "gt", "value": 1}),
        "rules[0].conditions.op",
        ["rule r1", "conditions", "'gt' does not apply to status (choice)", "['eq', 'in', 'ne', 'not_in']"],
    ),
    (
        "an unknown operator",
        _doc(conditions={"field": "assignee_count", "op": "approximately", "value": 1}),
        "rules[0].conditions.op",
        ["rule r1", "conditions", "'approximately'", "['eq', 'gt', 'gte', 'lt', 'lte', 'ne']"],
    ),
    (
        "a value of the wrong type",
        _doc(conditions={"field": "assignee_count", "op": "gt", "value": "3"}),
        "rules[0].conditions.value",
        ["rule r1", "conditions", "assignee_count gt: expected number", "expected number", "'3'"],
    ),
    (
        "a boolean where a number belongs",
        _doc(conditions={"field": "assignee_count", "op": "eq", "value": True}),
        "rules[0].conditions.value",
        ["rule r1", "assignee_count eq: expected number", "expected number, got True"],
    ),
    (
        "a choice that is not one of the field's",
        _doc(conditions={"field": "waiting_on", "op": "eq", "value": "agent"}),
        "rules[0].conditions.value",
        ["rule r1", "waiting_on eq: ", "'agent' is not one of ['team', 'contact', 'nobody']"],
    ),
    (
        "a value for an operator that takes none",
        _doc(conditions={"field": "closed_at", "op": "is_set", "value": True}),
        "rules[0].conditions.value",
        ["rule r1", "closed_at is_set: ", "is_set takes no value"],
    ),
    (
        "a text where a list belongs",
        _doc(conditions={"field": "status", "op": "in", "value": "open"}),
        "rules[0].conditions.value",
        ["rule r1", "status in: ", "expected a list of at most 1,000 texts"],
    ),
    (
        "an unknown action",
        _doc(actions=[{"do": "explode"}]),
        "rules[0].actions[0].do",
        ["rule r1", "actions[0]", "'explode' is not an action", _ACTION_NAMES],
    ),
    (
        "an action with a missing parameter",
        _doc(actions=[{"do": "close"}, {"do": "assign"}]),
        "rules[0].actions[1]",
        ["rule r1", "actions[1]", "action assign takes user (a user id); got nothing"],
    ),
    (
        "an action with an extra parameter",
        _doc(actions=[{"do": "close", "user": "ana"}]),
        "rules[0].actions[0]",
        ["rule r1", "actions[0]", "action close takes nothing; got ['user']"],
    ),
    (
        "an action with an unknown key",
        _doc(actions=[{"do": "close", "at": "noon"}]),
        "rules[0].actions[0]",
        ["rule r1", "actions[0]", "unknown ['at']", "['do', 'for', 'user', 'users']"],
    ),
    (
        "round-robin users that are not a list",
        _doc(actions=[{"do": "assign_round_robin", "users": "ana"}]),
        "rules[0].actions[0].users",
        ["rule r1", "actions[0]", "must be a list of user ids"],
    ),
    (
        "a bad duration in a trigger",
        _doc(trigger={"after": "24 hours", "field": "last_outbound_at"}),
        "rules[0].trigger.after",
        ["rule r1", "trigger", "'24 hours' is not an ISO 8601 duration", "'P1W'", "'PT48H'"],
    ),
    (
        "a bad duration in an action",
        _doc(actions=[{"do": "snooze", "for": "tomorrow"}]),
        "rules[0].actions[0].for",
        ["rule r1", "actions[0]", "actions[0].for (rule r1)", "'tomorrow' is not an ISO 8601 duration"],
    ),
    (
        "a negative duration in a condition",
        _doc(conditions={"field": "closed_at", "op": "within", "value": "P-1D"}),
        "rules[0].conditions.value",
        ["rule r1", "closed_at within: ", "'P-1D' is not an ISO 8601 duration"],
    ),
    (
        "an unknown trigger event",
        _doc(trigger={"event": "MessageDeleted"}),
        "rules[0].trigger.event",
        ["rule r1", "trigger", "'MessageDeleted' is not an event", "'MessageReceived'", "'Closed'"],
    ),
    (
        "a field that is not a time in after",
        _doc(trigger={"after": "P1D", "field": "status"}),
        "rules[0].trigger.field",
        ["rule r1", "trigger", "'status' is not a time field", str(list(TIME_FIELDS))],
    ),
    (
        "a trigger with both event and after",
        _doc(trigger={"event": "Closed", "after": "P1D", "field": "closed_at"}),
        "rules[0].trigger",
        ["rule r1", "trigger", "unknown ['after', 'field']", "['event']"],
    ),
    (
        "duplicate ids",
        {"rules": [_rule(), _rule(priority=2)]},
        "rules[1].id",
        ["rule ids must be unique", "'r1' is also the id of rules[0]"],
    ),
    (
        "a missing id",
        {"rules": [_rule(id="ok"), {"trigger": {"event": "Closed"}, "actions": [{"do": "reopen"}]}]},
        "rules[1]",
        ["rules[1]: missing", "missing ['id']", _RULE_KEYS],
    ),
    (
        "an id that is not text",
        {"rules": [_rule(id=7)]},
        "rules[0].id",
        ["rules[0].id: ", "must be non-empty text, got 7"],
    ),
    (
        "an unknown key in a rule",
        _doc(colour="red"),
        "rules[0]",
        ["rule r1", "unknown ['colour']", _RULE_KEYS],
    ),
    (
        "a missing trigger",
        {"rules": [{"id": "r1", "actions": [{"do": "close"}]}]},
        "rules[0]",
        ["rule r1", "missing ['trigger']"],
    ),
    (
        "an unknown top-level key",
        {"rules": [_rule()], "version": 2},
        "",
        ['{"rules": [ ... ]}', 'one key, "rules", a list'],
    ),
    (
        "rules that are not a list",
        {"rules": _rule()},
        "",
        ['{"rules": [ ... ]}', "a list"],
    ),
    (
        "a document that is a list",
        [_rule()],
        "",
        ['{"rules": [ ... ]}'],
    ),
    (
        "a rule that is not an object",
        {"rules": ["close"]},
        "rules[0]",
        ["rules[0]: ", "must be an object", _RULE_KEYS],
    ),
    (
        "no actions",
        _doc(actions=[]),
        "rules[0].actions",
        ["rule r1", "must be a list of one or more actions"],
    ),
    (
        "not with a list",
        _doc(conditions={"not": [{"field": "status", "op": "eq", "value": "open"}]}),
        "rules[0].conditions.not",
        [
            "rule r1",
            "rules[0].conditions.not (rule r1)",
            'must be a condition {"field": ..., "op": ..., "value": ...}',
        ],
    ),
    (
        "all with an object",
        _doc(conditions={"all": {"field": "status", "op": "eq", "value": "open"}}),
        "rules[0].conditions.all",
        ["rule r1", "conditions", "must be a list of conditions"],
    ),
    (
        "a condition with no op",
        _doc(conditions={"field": "status", "value": "open"}),
        "rules[0].conditions",
        ["rule r1", "conditions", "missing ['op']", "['field', 'op', 'value']"],
    ),
    (
        "a priority that is not a whole number",
        _doc(priority="high"),
        "rules[0].priority",
        ["rules[0].priority (rule r1): must be a whole number", "got 'high'"],
    ),
    (
        "a fractional priority",
        _doc(priority=1.5),
        "rules[0].priority",
        ["rules[0].priority (rule r1): must be a whole number", "got 1.5"],
    ),
    (
        "enabled that is not a boolean",
        _doc(enabled="yes"),
        "rules[0].enabled",
        ["rule r1", "enabled", "must be true or false, got 'yes'"],
    ),
    (
        "a time rule that would never stop matching",
        _doc(
            trigger={"after": "PT1H", "field": "last_inbound_at"},
            actions=[{"do": "mark_read", "user": "everyone"}],
        ),
        "rules[0]",
        ["rule r1", "a time rule must change something it depends on", "['last_inbound_at']", "['unread']"],
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [(d, p, e) for _, d, p, e in BAD_DOCUMENTS],
    ids=[n for n, _, _, _ in BAD_DOCUMENTS],
)
def test_a_bad_document_is_refused_with_a_message_that_says_where_and_what_is_allowed(
    document: object, path: str, expected: list[str]
) -> None:
    with pytest.raises(InvalidRules) as raised:
        rules_from_json(json.dumps(document))

    assert raised.value.path == path
    assert str(raised.value).startswith(path)
    for fragment in expected:
        assert fragment in str(raised.value), (fragment, str(raised.value))


def test_there_are_at_least_fifteen_bad_documents() -> None:
    assert len(BAD_DOCUMENTS) >= 15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not a JSON document"),
        ("", "not a JSON document"),
        ('{"rules": [], "rules": 3}', '{"rules": [ ... ]}'),
    ],
)
def test_text_that_is_not_a_json_rules_document_is_refused(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(expected)):
        rules_from_json(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rules]]\nid = 'r1'\n=", "not a TOML document"),
        ("rules = 3", '{"rules": [ ... ]}'),
        (
            "[[rules]]\nid = 'r1'\ntrigger = { event = 'Closed' }\n"
            "actions = [{ do = 'reopen' }]\npriority = 1.5\n",
            "rule r1",
        ),
        (
            "[[rules]]\nid = 'r1'\ntrigger = { after = 'P1D', field = 'closed_at' }\n"
            "actions = [{ do = 'reopen' }]\n"
            "conditions = { field = 'closed_at', op = 'is_set', value = 1979-05-27 }\n",
            "rules[0].conditions.value (rule r1): closed_at is_set: is_set takes no value, got datetime.date",
        ),
    ],
)
def test_a_bad_toml_document_is_refused(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        rules_from_toml(text)

    assert expected in str(raised.value)


def test_an_error_in_the_third_rule_names_it() -> None:
    document = {"rules": [_rule(id="a"), _rule(id="b"), _rule(id="c", actions=[{"do": "star", "users": []}])]}

    with pytest.raises(InvalidRules, match=r"^rules\[2\]\.actions\[0\] \(rule c\): action star takes user"):
        rules_from_data(document)


def test_building_a_bad_rule_in_code_is_refused_too() -> None:
    with pytest.raises(InvalidInput, match="'colour' is not a field"):
        when("colour", "eq", "red")
    with pytest.raises(InvalidInput, match="'MessageDeleted' is not an event"):
        OnEvent("MessageDeleted")
    with pytest.raises(InvalidInput, match="'status' is not a time field"):
        AfterTime("status", "P1D")
    with pytest.raises(InvalidInput, match="action close takes nothing"):
        Action(ActionKind.CLOSE, user="ana")
    with pytest.raises(InvalidRules, match=r"^rule r\.priority: must be a whole number"):
        Rule("r", OnEvent("Closed"), (Action.reopen(),), priority="1")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"repeated: \['r'\]"):
        RuleSet((Rule("r", OnEvent("Closed"), (Action.reopen(),)),) * 2)


# ---------------------------------------------------------------- data never executes code

PYTHONISH = (
    "__import__('os').system('touch /tmp/convostate-pwned')",
    "{{7*7}}",
    "${7*7}",
    "eval('1+1')",
    "lambda: 0",
    "os.system",
    "convostate._core.rules.engine.handle",
)


@pytest.fixture
def nothing_may_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make eval, exec, os.system and subprocess record that they were called."""
    calls: list[str] = []

    def forbidden(name: str) -> Any:
        def call(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called with {args!r}")

        return call

    monkeypatch.setattr(builtins, "eval", forbidden("eval"))
    monkeypatch.setattr(builtins, "exec", forbidden("exec"))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    monkeypatch.setattr(subprocess, "Popen", forbidden("subprocess.Popen"))
    return calls


@pytest.mark.parametrize("text", PYTHONISH)
def test_code_where_a_name_belongs_is_refused(nothing_may_run: list[str], text: str) -> None:
    modules = set(sys.modules)
    for document in (
        _doc(trigger={"event": text}),
        _doc(trigger={"after": "P1D", "field": text}),
        _doc(trigger={"after": text, "field": "closed_at"}),
        _doc(conditions={"field": text, "op": "eq", "value": "x"}),
        _doc(conditions={"field": "status", "op": text, "value": "open"}),
        _doc(conditions={"field": "status", "op": "eq", "value": text}),
        _doc(conditions={"field": "assignee_count", "op": "gt", "value": text}),
        _doc(actions=[{"do": text}]),
        _doc(actions=[{"do": "snooze", "for": text}]),
        {"rules": [_rule(**{text: 1})]},
    ):
        with pytest.raises(InvalidInput):
            rules_from_json(json.dumps(document))
    assert nothing_may_run == []
    assert set(sys.modules) == modules


@pytest.mark.parametrize("text", PYTHONISH)
def test_code_where_text_belongs_is_kept_as_inert_text(nothing_may_run: list[str], text: str) -> None:
    modules = set(sys.modules)
    document = _doc(
        id=text,
        description=text,
        conditions={
            "any": [
                {"field": "contact.name", "op": "eq", "value": text},
                {"field": "event.body", "op": "contains", "value": text},
            ]
        },
        actions=[{"do": "assign", "user": text}, {"do": "star", "user": "ana"}],
    )

    (rule,) = rules_from_json(json.dumps(document))

    assert str(rule.id) == text
    assert rule.description == text
    assert rule.conditions == any_of(when("contact.name", "eq", text), when("event.body", "contains", text))
    assert rule.actions[0] == Action.assign(text)
    assert rules_from_json(rules_to_json(RuleSet((rule,)))) == RuleSet((rule,))

    inbox = Inbox.multi_user(InboxId("support"), "Support", frozenset({UserId("ana")}))
    context = DecisionContext(pendulum.datetime(2026, 3, 2, 9, tz="UTC"), inbox=inbox)
    receive = ReceiveMessage(ConversationId("c"), inbox.id, ContactId("maria"), MessageId("m"), "49")
    handled = handle(None, receive, context, RuleSet((rule,)))
    assert handled.state is not None
    assert handled.state.starred_by == frozenset()  # "49" is not the text, whatever the text would compute
    assert handled.state.assignees == frozenset()

    literal = ReceiveMessage(ConversationId("c"), inbox.id, ContactId("maria"), MessageId("m"), f"re: {text}")
    handled = handle(None, literal, context, RuleSet((rule,)))
    assert handled.state is not None
    assert handled.state.starred_by == {UserId("ana")}  # the text matches itself, as text
    assert handled.state.assignees == frozenset()  # and names no user: the assign is skipped
    assert nothing_may_run == []
    assert set(sys.modules) == modules


def test_a_rule_with_code_in_its_text_runs_through_a_helpdesk_as_text(nothing_may_run: list[str]) -> None:
    code = PYTHONISH[0]
    document = _doc(id="close-odd-names", conditions={"field": "contact.name", "op": "eq", "value": code})
    rules = DEFAULT_RULES.with_rules(*rules_from_json(json.dumps(document)))
    clock = ManualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC"))
    helpdesk = Helpdesk(clock=clock, ids=SequentialIds(), rules=rules)
    admin = helpdesk.add_user("Alex", "alex@example.com", role=Role.ADMIN).id
    inbox = helpdesk.add_inbox("Support", members=[admin], by=admin).id
    odd = helpdesk.add_contact(name=code).id
    plain = helpdesk.add_contact(name="Maria").id

    assert helpdesk.receive(odd, inbox, "hi").conversation.status is Status.CLOSED
    assert helpdesk.receive(plain, inbox, "hi").conversation.status is Status.OPEN
    assert not os.path.exists("/tmp/convostate-pwned")
    assert nothing_may_run == []


# ---------------------------------------------------------------- vocabulary


def test_the_vocabulary_is_plain_json() -> None:
    described = vocabulary()

    assert json.loads(json.dumps(described)) == described
    assert set(described) == {"fields", "operators", "triggers", "actions", "durations", "limits"}


def test_the_vocabulary_states_the_limits_a_document_is_held_to() -> None:
    limits = vocabulary()["limits"]

    assert limits["condition_depth"] == MAX_CONDITION_DEPTH == 32
    assert (limits["rules"], limits["text_characters"]) == (MAX_RULES, MAX_TEXT_LENGTH)
    days = limits["longest_duration_days"]
    with pytest.raises(InvalidRules, match="at most 100 years"):
        rules_from_data(_doc(trigger={"after": f"P{days + 1}D", "field": "closed_at"}))
    assert len(rules_from_data(_doc(trigger={"after": f"P{days}D", "field": "closed_at"}))) == 1


def test_the_vocabulary_lists_every_field_with_its_type_and_operators() -> None:
    fields = {field["name"]: field for field in vocabulary()["fields"]}

    assert list(fields) == list(FIELDS)
    for name, field in FIELDS.items():
        described = fields[name]
        assert described["type"] == field.type.value
        assert described["description"] == field.description
        assert described["operators"] == sorted(
            op for op, spec in OPERATORS.items() if field.type in spec.applies_to
        )
        assert described["operators"], name
        assert described.get("choices", []) == list(field.choices)


def test_the_vocabulary_lists_every_operator_every_trigger_and_every_action() -> None:
    described = vocabulary()

    assert [op["name"] for op in described["operators"]] == list(OPERATORS)
    assert {op["name"] for op in described["operators"] if op["value"] == "none"} == NO_VALUE
    assert described["triggers"]["event"] == sorted(EVENT_TYPES)
    assert described["triggers"]["after"]["fields"] == list(TIME_FIELDS)
    assert [action["do"] for action in described["actions"]] == [kind.value for kind in ActionKind]
    params = {action["do"]: [p["name"] for p in action["params"]] for action in described["actions"]}
    assert params["assign"] == ["user"]
    assert params["assign_round_robin"] == ["users"]
    assert params["snooze"] == ["for"]
    assert params["close"] == []
    assert REOPEN_WINDOW in described["durations"]


_SAMPLE_VALUES: dict[ValueType, object] = {
    ValueType.TEXT: "x",
    ValueType.BOOL: True,
    ValueType.NUMBER: 1,
    ValueType.SET: ["x"],
    ValueType.DURATION: "P1D",
    ValueType.TIME: "2026-03-02T09:00:00Z",  # no operator compares a time with a value: always refused
}


def _sample(field_name: str, value_type: str) -> object:
    field = FIELDS[field_name]
    if value_type == "none":
        return None
    wanted = field.type if value_type == "same as the field" else ValueType(value_type)
    if field.choices:
        if wanted is ValueType.CHOICE:
            return field.choices[0]
        if wanted is ValueType.SET:
            return [field.choices[0]]
    return _SAMPLE_VALUES[wanted]


def test_a_condition_is_accepted_exactly_when_the_vocabulary_lists_its_operator_for_the_field() -> None:
    described = vocabulary()
    values = {op["name"]: op["value"] for op in described["operators"]}
    for field in described["fields"]:
        for op, value_type in values.items():
            value = _sample(field["name"], value_type)
            if op in field["operators"]:
                when(field["name"], op, value)
            else:
                with pytest.raises(InvalidInput, match=re.escape(f"use one of {field['operators']}")):
                    when(field["name"], op, value)


def test_every_action_of_the_vocabulary_can_be_written_as_data() -> None:
    samples = {"user": "ana", "users": ["ana", "bo"], "for": "P1D"}
    actions = [
        {"do": action["do"], **{param["name"]: samples[param["name"]] for param in action["params"]}}
        for action in vocabulary()["actions"]
    ]

    (rule,) = rules_from_data(_doc(actions=actions))

    assert [action.kind.value for action in rule.actions] == [action["do"] for action in actions]


def _reads(name: str) -> Rule:
    """A rule whose one condition reads ``name``, so that explain shows the field's value."""
    field = FIELDS[name]
    if field.type is ValueType.TIME:
        condition = when(name, "is_set")
    elif field.type is ValueType.SET:
        condition = when(name, "is_empty")
    else:
        condition = when(name, "eq", _sample(name, "same as the field"))
    return Rule(f"reads-{name}", OnEvent("MessageReceived"), (Action.close(),), condition)


def test_every_field_of_the_vocabulary_can_be_read_and_explained() -> None:
    inbox = Inbox.multi_user(InboxId("support"), "Support", frozenset({UserId("ana")}))
    context = DecisionContext(pendulum.datetime(2026, 3, 2, 9, tz="UTC"), AccountSettings(), inbox=inbox)
    receive = ReceiveMessage(ConversationId("c"), inbox.id, ContactId("maria"), MessageId("m"), "Hi there")
    handled = handle(None, receive, context, RuleSet(()))
    assert handled.state is not None

    verdicts = explain(handled.state, handled.events[-1], context, RuleSet(_reads(name) for name in FIELDS))

    reasons = {verdict.reasons[0].split(" ")[0]: verdict.reasons[0] for verdict in verdicts}
    assert set(reasons) == set(FIELDS)
    assert reasons["event.type"].endswith("it is 'MessageReceived'")
    assert reasons["event.actor"].endswith("it is 'contact'")
    assert reasons["event.body"].endswith("it is 'Hi there'")
    assert reasons["waiting_on"].endswith("it is 'team'")
    assert reasons["status"].endswith("it is 'open'")
    assert reasons["unread"].endswith("holds: it is True")
    assert reasons["assignee_count"].endswith("it is 0")
    assert reasons["assignees"].endswith("holds: it is {}")
    assert reasons["last_inbound_at"].endswith("holds: it is 2026-03-02 09:00 UTC")
    assert reasons["closed_at"].endswith("does not hold: it is unset")
    assert reasons["contact.name"].endswith("it is ''")  # no contact was given


# ---------------------------------------------------------------- docs/rules.md stays true

RULES_PAGE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def _table_rows(markdown: str, first_header: str) -> dict[str, list[str]]:
    """The rows of the table whose first header cell is ``first_header``, by their first cell."""
    rows: dict[str, list[str]] = {}
    inside = False
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            inside = True
            continue
        if inside and not line.startswith("|"):
            break
        if inside and not set(cells[0]) <= {"-", " "}:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_docs_quote_the_default_rules_as_rules_to_json_writes_them() -> None:
    page = RULES_PAGE.read_text(encoding="utf-8")
    quoted = re.search(r"```json\n(\{\n  \"rules\".*?)\n```", page, re.DOTALL)

    assert quoted is not None
    assert quoted.group(1) == rules_to_json(DEFAULT_RULES)


def test_the_docs_tables_are_the_vocabulary() -> None:
    page = RULES_PAGE.read_text(encoding="utf-8")
    described = vocabulary()

    fields = _table_rows(page, "field")
    assert list(fields) == [field["name"] for field in described["fields"]]
    for field in described["fields"]:
        kind, operators, description = fields[field["name"]]
        assert kind.split(" ")[0] == field["type"]
        assert operators == ", ".join(f"`{op}`" for op in field["operators"])
        assert description == field["description"]
    operator_rows = _table_rows(page, "operator")
    assert list(operator_rows) == [op["name"] for op in described["operators"]]
    for op in described["operators"]:
        assert operator_rows[op["name"]] == [", ".join(op["applies_to"]), op["value"], op["description"]]
    actions = _table_rows(page, "`do`")
    assert list(actions) == [action["do"] for action in described["actions"]]
    for action in described["actions"]:
        assert actions[action["do"]][1] == action["description"]
        for param in action["params"]:
            assert f"`{param['name']}`: {param['description']}" in actions[action["do"]][0]
    for event in described["triggers"]["event"]:
        assert f"`{event}`" in page
    for name in described["triggers"]["after"]["fields"]:
        assert f"`{name}`" in page

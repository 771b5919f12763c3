"""The rules loaders never crash: any JSON text, TOML text, bytes or parsed data either loads or raises
``InvalidRules`` with a path, and whatever loads is usable (written back the same, every delay
representable from the latest instant convostate accepts).

Three sources of input, each run at the profile's depth (``HYPOTHESIS_PROFILE=ci``: 1,000 examples each):
arbitrary JSON-like values (any keys, surrogates, NUL, huge numbers, NaN), valid rule files mutated a few
times (keys dropped, replaced, added, values changed in type), and text or bytes spliced from valid
documents. The hand-picked hostile inputs of issue 10 come first, one per row, so a regression names itself.
"""

from __future__ import annotations

import copy
import math
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from convostate import CalendarDuration, InvalidInput
from convostate._core.rules.model import EVENT_TYPES, ConditionTree
from convostate._core.rules.vocabulary import FIELDS, OPERATORS, TIME_FIELDS
from convostate.rules import (
    DEFAULT_RULES,
    MAX_CONDITION_DEPTH,
    MAX_DOCUMENT_LENGTH,
    MAX_ITEMS,
    MAX_RULES,
    MAX_TEXT_LENGTH,
    Action,
    ActionKind,
    AfterTime,
    AllOf,
    InvalidRules,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    rules_from_data,
    rules_from_json,
    rules_from_toml,
    rules_to_data,
    rules_to_json,
    when,
)
from tests.test_rules_data import EVERYTHING

_LATEST = pendulum.datetime(8999, 12, 31, 23, 59, 59, tz="UTC")


def loads_or_refuses(load: Callable[[Any], RuleSet], document: object) -> RuleSet | InvalidRules:
    """What every loader promises: a rule set that can be used, or InvalidRules with a path and a message
    of a readable size. Any other exception fails the test."""
    try:
        rules = load(document)
    except InvalidRules as error:
        # Shown by --hypothesis-show-statistics: how deep into documents the inputs reach.
        event(f"refused at depth {error.path.count('.') + error.path.count('[')}")
        return _readable(error)
    event("loaded")
    assert isinstance(rules, RuleSet)
    assert rules_from_json(rules_to_json(rules)) == rules
    for rule in rules:
        delays = [action.duration for action in rule.actions]
        delays.append(rule.trigger.delay if isinstance(rule.trigger, AfterTime) else None)
        for delay in delays:
            if isinstance(delay, CalendarDuration):
                assert delay.end(_LATEST, "Pacific/Kiritimati").year <= 9999
    return rules


def _readable(refused: InvalidRules) -> InvalidRules:
    message = str(refused)
    assert refused.problem
    assert message.startswith(refused.path)
    assert len(message) < 3_000, message[:200]
    return refused


def _rule(**changes: object) -> dict[str, object]:
    rule: dict[str, object] = {
        "id": "r1",
        "trigger": {"event": "MessageReceived"},
        "actions": [{"do": "close"}],
    }
    rule.update(changes)
    return rule


def _nested(depth: int) -> dict[str, object]:
    tree: dict[str, object] = {"field": "status", "op": "eq", "value": "open"}
    for _ in range(depth):
        tree = {"not": tree}
    return tree


# ---------------------------------------------------------------- issue 10's hostile data, one per row

HOSTILE_DATA: list[tuple[str, object, str, str]] = [
    (
        "a delay of 9000 years",
        {"rules": [_rule(trigger={"after": "P9000Y", "field": "closed_at"})]},
        "rules[0].trigger.after",
        "at most 100 years",
    ),
    (
        "a delay of 10**12 hours",
        {"rules": [_rule(trigger={"after": "PT1000000000000H", "field": "closed_at"})]},
        "rules[0].trigger.after",
        "at most 100 years",
    ),
    (
        "a snooze of 9000 years",
        {"rules": [_rule(actions=[{"do": "snooze", "for": "P9000Y"}])]},
        "rules[0].actions[0].for",
        "at most 100 years",
    ),
    (
        "a within of 5,000 digits",
        {
            "rules": [
                _rule(conditions={"field": "closed_at", "op": "within", "value": "P" + "9" * 5_000 + "D"})
            ]
        },
        "rules[0].conditions.value",
        "expected a duration",
    ),
    (
        "a priority of 5,000 digits",
        {"rules": [_rule(priority=10**5_000)]},
        "rules[0].priority",
        "must be between",
    ),
    (
        "a count of 5,000 digits",
        {"rules": [_rule(conditions={"field": "assignee_count", "op": "gt", "value": -(10**5_000)})]},
        "rules[0].conditions.value",
        "must be between",
    ),
    ("a priority past 2**53", {"rules": [_rule(priority=2**53)]}, "rules[0].priority", "must be between"),
    (
        "an action that is a list",
        {"rules": [_rule(actions=[{"do": ["close"]}])]},
        "rules[0].actions[0].do",
        "is not an action",
    ),
    (
        "an action that is an object",
        {"rules": [_rule(actions=[{"do": {"x": 1}}])]},
        "rules[0].actions[0].do",
        "is not an action",
    ),
    (
        "an event that is a list",
        {"rules": [_rule(trigger={"event": ["Closed"]})]},
        "rules[0].trigger.event",
        "must be non-empty text",
    ),
    (
        "a field that is a list",
        {"rules": [_rule(conditions={"field": ["status"], "op": "eq"})]},
        "rules[0].conditions.field",
        "must be non-empty text",
    ),
    (
        "an operator that is an object",
        {"rules": [_rule(conditions={"field": "status", "op": {}})]},
        "rules[0].conditions.op",
        "must be non-empty text",
    ),
    (
        "conditions 10,000 deep",
        {"rules": [_rule(conditions=_nested(10_000))]},
        "rules[0].conditions" + ".not" * MAX_CONDITION_DEPTH,
        "nest at most 32 levels",
    ),
    (
        "conditions one level too deep",
        {"rules": [_rule(conditions=_nested(MAX_CONDITION_DEPTH))]},
        "rules[0].conditions" + ".not" * MAX_CONDITION_DEPTH,
        "nest at most 32 levels",
    ),
    ("an integer key", {"rules": [{1: "x", **_rule()}]}, "rules[0]", "keys are text, got 1"),
    (
        "a None key in a condition",
        {"rules": [_rule(conditions={None: 1, "field": "status", "op": "eq"})]},
        "rules[0].conditions",
        "keys are text, got None",
    ),
    ("a tuple key at the top", {"rules": [], ("a", 1): 2}, "", "keys are text"),
    ("NaN as a priority", {"rules": [_rule(priority=math.nan)]}, "rules[0].priority", "got nan"),
    (
        "infinity as a count",
        {"rules": [_rule(conditions={"field": "assignee_count", "op": "gt", "value": math.inf})]},
        "rules[0].conditions.value",
        "expected number, got inf",
    ),
    (
        "a 20,000-character id",
        {"rules": [_rule(id="r" * 20_000)]},
        "rules[0].id",
        "at most 10,000 characters",
    ),
    (
        "a huge description",
        {"rules": [_rule(description="d" * (MAX_TEXT_LENGTH + 1))]},
        "rules[0].description",
        "at most 10,000 characters",
    ),
    (
        "a lone surrogate in an id",
        {"rules": [_rule(id="a\ud800b")]},
        "rules[0].id",
        "lone surrogate (U+D800 at 1)",
    ),
    (
        "a NUL in a value",
        {"rules": [_rule(conditions={"field": "event.body", "op": "contains", "value": "a\0"})]},
        "rules[0].conditions.value",
        "NUL",
    ),
    (
        "a surrogate in a set",
        {"rules": [_rule(conditions={"field": "inbox_id", "op": "in", "value": ["\udfff"]})]},
        "rules[0].conditions.value",
        "lone surrogate",
    ),
    (
        "a user id that is a number",
        {"rules": [_rule(actions=[{"do": "assign", "user": 7}])]},
        "rules[0].actions[0].user",
        "must be non-empty text, got 7",
    ),
    (
        "round-robin users that are numbers",
        {"rules": [_rule(actions=[{"do": "assign_round_robin", "users": [1]}])]},
        "rules[0].actions[0].users[0]",
        "must be non-empty text, got 1",
    ),
    (
        "too many round-robin users",
        {"rules": [_rule(actions=[{"do": "assign_round_robin", "users": ["u"] * (MAX_ITEMS + 1)}])]},
        "rules[0].actions[0].users",
        "at most 1,000",
    ),
    (
        "too many rules",
        {"rules": [_rule(id=f"r{n}") for n in range(MAX_RULES + 1)]},
        "rules",
        "at most 1,000 rules",
    ),
    (
        "a delay that is a number",
        {"rules": [_rule(trigger={"after": 86_400, "field": "closed_at"})]},
        "rules[0].trigger.after",
        "expected a duration",
    ),
    (
        "a delay that is a list",
        {"rules": [_rule(trigger={"after": ["P1D"], "field": "closed_at"})]},
        "rules[0].trigger.after",
        "expected a duration",
    ),
    ("enabled that is a number", {"rules": [_rule(enabled=1)]}, "rules[0].enabled", "must be true or false"),
    (
        "a description that is a list",
        {"rules": [_rule(description=["x"])]},
        "rules[0].description",
        "must be text",
    ),
    (
        "conditions that are a list",
        {"rules": [_rule(conditions=[])]},
        "rules[0].conditions",
        "must be a condition",
    ),
    (
        "a set value with a dict",
        {"rules": [_rule(conditions={"field": "status", "op": "in", "value": [{}]})]},
        "rules[0].conditions.value",
        "expected a list of at most 1,000 texts",
    ),
    (
        "a value that is an object",
        {"rules": [_rule(conditions={"field": "status", "op": "eq", "value": {"a": 1}})]},
        "rules[0].conditions.value",
        "expected choice",
    ),
    ("an id repeated", {"rules": [_rule(), _rule()]}, "rules[1].id", "is also the id of rules[0]"),
    ("a document that is a string", "rules", "", 'a rules document is {"rules": [ ... ]}'),
    ("a document that is None", None, "", 'a rules document is {"rules": [ ... ]}'),
    ("rules that are a tuple", {"rules": (_rule(),)}, "", 'a rules document is {"rules": [ ... ]}'),
]


@pytest.mark.parametrize(
    ("document", "path", "fragment"),
    [(d, p, f) for _, d, p, f in HOSTILE_DATA],
    ids=[name for name, _, _, _ in HOSTILE_DATA],
)
def test_hostile_data_is_refused_with_the_rules_error_and_its_path(
    document: object, path: str, fragment: str
) -> None:
    with pytest.raises(InvalidRules) as raised:
        rules_from_data(document)

    assert isinstance(raised.value, InvalidInput)
    assert raised.value.path == path
    assert fragment in raised.value.problem, raised.value.problem


def test_conditions_exactly_as_deep_as_the_limit_load() -> None:
    rules = rules_from_data({"rules": [_rule(conditions=_nested(MAX_CONDITION_DEPTH - 1))]})

    assert len(rules) == 1


def _deep_in_code(depth: int) -> ConditionTree:
    tree: ConditionTree = when("status", "eq", "open")
    for _ in range(depth):
        tree = Not(tree)
    return tree


def _rule_in_code(**changes: Any) -> Rule:
    arguments: dict[str, Any] = {"id": "r", "trigger": OnEvent("Closed"), "actions": (Action.reopen(),)}
    arguments.update(changes)
    return Rule(**arguments)


HOSTILE_CODE: list[tuple[str, Callable[[], object], str, str]] = [
    ("a tree 10,000 deep", lambda: _rule_in_code(conditions=_deep_in_code(10_000)), "rule r.conditions",
     "nest at most 32 levels"),
    ("an event that is a list", lambda: OnEvent(["Closed"]), "trigger.event", "is not an event"),  # type: ignore[arg-type]
    ("a field that is a list", lambda: when(["status"], "eq", "open"), "condition.field", "is not a field"),  # type: ignore[arg-type]
    ("an operator that is a dict", lambda: when("status", {}, "open"), "condition.op", "does not apply"),  # type: ignore[arg-type]
    ("an action kind that is a list", lambda: Action(["close"]), "action.do", "must be an ActionKind"),  # type: ignore[arg-type]
    ("a user that is a number", lambda: Action(ActionKind.ASSIGN, user=5), "action.user", "non-empty text"),  # type: ignore[arg-type]
    ("users that are text", lambda: Action(ActionKind.ASSIGN_ROUND_ROBIN, users="ana"), "action.users",  # type: ignore[arg-type]
     "a tuple of at most 1,000 user ids"),
    ("a rule set of a number", lambda: RuleSet(5), "", "an iterable of Rule(...)s"),  # type: ignore[arg-type]
    ("a rule set of numbers", lambda: RuleSet([1]), "", "Rule(...)s only"),  # type: ignore[list-item]
    ("text in all_of", lambda: _rule_in_code(conditions=AllOf(("x",))), "rule r.conditions",  # type: ignore[arg-type]
     "must be a condition tree"),
    ("a list in all_of", lambda: _rule_in_code(conditions=AllOf([when("unread", "eq", True)])),  # type: ignore[arg-type]
     "rule r.conditions", "hold a tuple"),
    ("no description", lambda: _rule_in_code(description=None), "rule r.description", "must be text"),
    ("enabled that is text", lambda: _rule_in_code(enabled="yes"), "rule r.enabled", "True or False"),
    ("a priority of 5,000 digits", lambda: _rule_in_code(priority=10**5_000), "rule r.priority",
     "must be between"),
    ("a delay of 5,000 digits", lambda: AfterTime("closed_at", "P" + "9" * 5_000 + "D"), "trigger.after",
     "expected a duration"),
    ("a delay of 9000 years", lambda: AfterTime("closed_at", "P9000Y"), "trigger.after", "at most 100 years"),
    ("an id that is a number", lambda: _rule_in_code(id=5), "rule.id", "non-empty text"),
    ("an id with a lone surrogate", lambda: _rule_in_code(id="a\ud800"), "rule.id", "lone surrogate"),
    ("actions that are text", lambda: _rule_in_code(actions="close"), "rule.actions", "a tuple of Action"),
    ("no actions at all", lambda: _rule_in_code(actions=None), "rule.actions", "a tuple of Action"),
    ("a count of 5,000 digits", lambda: when("assignee_count", "gt", 10**5_000), "condition.value",
     "must be between"),
    ("a list of 2,000 inboxes", lambda: when("inbox_id", "in", ["x"] * 2_000), "condition.value",
     "at most 1,000 texts"),
    ("a trigger that is text", lambda: _rule_in_code(trigger="Closed"), "rule r.trigger", "OnEvent(...)"),
    ("a snooze of a number", lambda: Action.snooze(5), "action.for", "expected a duration"),  # type: ignore[arg-type]
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "path", "fragment"),
    [(b, p, f) for _, b, p, f in HOSTILE_CODE],
    ids=[name for name, _, _, _ in HOSTILE_CODE],
)
def test_hostile_rules_built_in_code_are_refused_the_same_way(
    build: Callable[[], object], path: str, fragment: str
) -> None:
    with pytest.raises(InvalidRules) as raised:
        build()

    assert raised.value.path == path
    assert fragment in raised.value.problem, raised.value.problem


HOSTILE_TEXT: list[tuple[str, Callable[[Any], RuleSet], object, str]] = [
    ("JSON nested 100,000 deep", rules_from_json, "[" * 100_000 + "]" * 100_000, "nests too deeply"),
    (
        "JSON objects nested 100,000 deep",
        rules_from_json,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "nests too deeply",
    ),
    (
        "TOML arrays nested 100,000 deep",
        rules_from_toml,
        "a = " + "[" * 100_000 + "]" * 100_000,
        "nests too deeply",
    ),
    ("a JSON number of 5,000 digits", rules_from_json, '{"rules": [' + "9" * 5_000 + "]}", "5,000 digits"),
    ("a TOML number of 5,000 digits", rules_from_toml, "x = " + "9" * 5_000, "not a TOML document"),
    ("NaN in JSON", rules_from_json, '{"rules": [], "x": NaN}', "NaN is not a JSON number"),
    ("-Infinity in JSON", rules_from_json, '{"rules": [-Infinity]}', "-Infinity is not a JSON number"),
    (
        "a repeated JSON key",
        rules_from_json,
        '{"rules": [{"id": "a", "id": "b"}]}',
        "the key 'id' is given twice",
    ),
    ("bytes that are not UTF-8", rules_from_json, b'{"rules": []}\xff', "are not UTF-8"),
    ("TOML bytes that are not UTF-8", rules_from_toml, b"\xc3(", "are not UTF-8"),
    (
        "a document past the size limit",
        rules_from_json,
        " " * (MAX_DOCUMENT_LENGTH + 1) + "{}",
        "at most 1,000,000 characters",
    ),
    ("a number instead of text", rules_from_json, 42, "is text (str or UTF-8 bytes)"),
    ("None instead of TOML", rules_from_toml, None, "is text (str or UTF-8 bytes)"),
    (
        "a lone surrogate escaped in JSON",
        rules_from_json,
        '{"rules": [{"id": "\\ud800", "trigger": {"event": "Closed"}, "actions": [{"do": "reopen"}]}]}',
        "lone surrogate",
    ),
]


@pytest.mark.parametrize(
    ("load", "text", "fragment"),
    [(load, text, f) for _, load, text, f in HOSTILE_TEXT],
    ids=[name for name, _, _, _ in HOSTILE_TEXT],
)
def test_hostile_text_is_refused_with_the_rules_error(
    load: Callable[[Any], RuleSet], text: object, fragment: str
) -> None:
    with pytest.raises(InvalidRules) as raised:
        load(text)

    assert fragment in str(raised.value), str(raised.value)


def test_a_valid_document_as_utf8_bytes_loads() -> None:
    assert rules_from_json(rules_to_json(EVERYTHING).encode()) == EVERYTHING


# ---------------------------------------------------------------- arbitrary values

_WORDS = sorted(
    {
        "rules", "id", "description", "priority", "enabled", "trigger", "conditions", "actions", "event",
        "after", "field", "do", "user", "users", "for", "all", "any", "not", "op", "value", "reopen_window",
        "P1D", "PT24H", "P9000Y", "PT1000000000000H", "P-1D", "assignees", "everyone", "open",
        *FIELDS, *OPERATORS, *EVENT_TYPES, *TIME_FIELDS, *(kind.value for kind in ActionKind),
    }
)  # fmt: skip
"""The vocabulary's own words, so that arbitrary values often get past the first check."""

_any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
"""Any code point: lone surrogates, NUL and every control character included."""
_texts = st.one_of(st.sampled_from(_WORDS), _any_text)
_numbers = st.one_of(
    st.integers(),
    st.sampled_from((2**53 - 1, 2**53, -(2**63))),
    st.sampled_from((4_300, -5_000)).map(lambda digits: 10 ** abs(digits) * (1 if digits > 0 else -1)),
    st.floats(allow_nan=True, allow_infinity=True),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _texts)
_keys = st.one_of(_texts, st.integers(), st.none(), st.booleans(), st.tuples(st.integers()), st.floats())

json_like = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children),
        st.dictionaries(_texts, children, max_size=6),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=40,
)
"""Any value a JSON or TOML parser, or a host's own code, could hand to ``rules_from_data``."""


@given(json_like)
def test_any_value_as_a_document_loads_or_is_refused(value: object) -> None:
    loads_or_refuses(rules_from_data, value)
    loads_or_refuses(rules_from_data, {"rules": [value]})


@given(
    st.sampled_from(("trigger", "conditions", "actions", "priority", "enabled", "description", "id")),
    json_like,
)
def test_any_value_in_any_field_of_a_rule_loads_or_is_refused(key: str, value: object) -> None:
    loads_or_refuses(rules_from_data, {"rules": [_rule(**{key: value})]})
    loads_or_refuses(rules_from_data, {"rules": [_rule(actions=[{"do": "assign", key: value}])]})
    loads_or_refuses(
        rules_from_data, {"rules": [_rule(conditions={"any": [{"field": key, "op": "eq", "value": value}]})]}
    )


# ---------------------------------------------------------------- mutated valid documents

VALID_DOCUMENTS = (rules_to_data(DEFAULT_RULES), rules_to_data(EVERYTHING))

Place = tuple[str | int, ...]


def _paths(value: object, path: Place = ()) -> list[Place]:
    """Every place in a document: the root, each key of an object, each item of a list."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


def _text_of(value: object) -> str:
    """``str(value)``, or a long number when Python refuses it (a whole number of more than 4,300 digits)."""
    try:
        return str(value)
    except ValueError:
        return "9" * 5_000


@st.composite
def mutated_documents(draw: st.DrawFn) -> object:
    """A valid document with one to four mutations: a key dropped, a value replaced (by any value, or the
    same value in another type), an unknown key added, an item duplicated."""
    document = copy.deepcopy(draw(st.sampled_from(VALID_DOCUMENTS)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        last, current = path[-1], parent[path[-1]]
        operation = draw(st.sampled_from(("drop", "replace", "retype", "add", "duplicate")))
        if operation == "drop":
            del parent[last]
        elif operation == "replace":
            parent[last] = draw(json_like)
        elif operation == "retype":
            retyped = (_text_of(current), [current], {"value": current}, None, True, 1.5, -1, "")
            parent[last] = retyped[draw(st.integers(0, len(retyped) - 1))]  # sampled_from would repr them
        elif operation == "add" and isinstance(current, dict):
            current[draw(_texts)] = draw(json_like)
        elif operation == "duplicate" and isinstance(parent, list):
            parent.insert(int(last), copy.deepcopy(current))
    return document


@given(mutated_documents())
def test_a_mutated_valid_document_loads_or_is_refused(document: object) -> None:
    loads_or_refuses(rules_from_data, document)


# ---------------------------------------------------------------- text and bytes

VALID_TOML = """
[[rules]]
id = "auto-close"
description = "Closed after a day of silence."
priority = 10
trigger = { after = "PT24H", field = "last_outbound_at" }
conditions = { all = [
    { field = "status", op = "eq", value = "open" },
    { not = { field = "contact.tags", op = "contains", value = "vip" } },
] }
actions = [ { do = "close" } ]

[[rules]]
id = "round-robin"
trigger.event = "ConversationStarted"
actions = [ { do = "assign_round_robin", users = ["ana", "bo"] }, { do = "snooze", for = "P2D" } ]
"""


def test_the_valid_toml_loads() -> None:
    assert len(rules_from_toml(VALID_TOML)) == 2


@st.composite
def spliced(draw: st.DrawFn, base: str) -> str:
    """``base`` with one to three slices replaced by arbitrary text, by a slice of itself or by nothing."""
    text = base
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        insert = draw(
            st.one_of(_any_text, st.sampled_from(("[", "{", "}", "]", '"', "=", ",", "\n", "9" * 30)))
        )
        text = text[:start] + insert + text[end:]
    return text


_json_texts = st.one_of(
    _any_text, st.sampled_from([rules_to_json(EVERYTHING), rules_to_json(DEFAULT_RULES)]).flatmap(spliced)
)
_toml_texts = st.one_of(_any_text, spliced(VALID_TOML))


@given(_json_texts)
def test_any_json_text_loads_or_is_refused(text: str) -> None:
    loads_or_refuses(rules_from_json, text)


@given(_toml_texts)
def test_any_toml_text_loads_or_is_refused(text: str) -> None:
    loads_or_refuses(rules_from_toml, text)


@given(st.one_of(st.binary(max_size=200), _json_texts.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_any_bytes_load_or_are_refused(data: bytes) -> None:
    loads_or_refuses(rules_from_json, data)
    loads_or_refuses(rules_from_toml, data)


# ---------------------------------------------------------------- atheris, where it installs

HARNESS = Path(__file__).resolve().parent / "fuzz" / "fuzz_rules.py"


def test_the_atheris_harness_finds_no_crash(tmp_path: Path) -> None:
    """A short coverage-guided run (libFuzzer) from the valid documents of the corpus. atheris has no
    wheels for every supported Python, so CI's environments do not install it and this is skipped there;
    run the harness longer by hand (see its docstring)."""
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    shutil.copytree(HARNESS.parent / "corpus", corpus)

    ran = subprocess.run(
        [sys.executable, str(HARNESS), "-runs=20000", "-seed=1", str(corpus)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr[-3_000:]
    assert "Done 20000 runs" in ran.stderr

"""Rules as data: JSON and TOML documents, read and written in one schema (docs/rules.md).

Reading checks every key against the vocabulary and says, for a mistake, which rule, which field and what
is allowed. Data only ever names things the vocabulary defines: nothing in a document is evaluated,
imported or executed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from convostate._core.errors import InvalidInput
from convostate._core.rules.model import (
    Action,
    AfterTime,
    AllOf,
    AnyOf,
    Condition,
    ConditionTree,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    Trigger,
)
from convostate._core.rules.vocabulary import ActionKind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

T = TypeVar("T")
_RULE_KEYS = {"id", "description", "priority", "enabled", "trigger", "conditions", "actions"}


def rules_from_json(text: str) -> RuleSet:
    """Read rules from a JSON document: ``{"rules": [{"id": ..., "trigger": ..., ...}]}``."""
    try:
        document = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"not a JSON document: {error}") from error
    return rules_from_data(document)


def rules_from_toml(text: str) -> RuleSet:
    """Read rules from a TOML document with one ``[[rules]]`` table per rule."""
    try:
        document = tomllib.loads(text)
    except (TypeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"not a TOML document: {error}") from error
    return rules_from_data(document)


def rules_from_data(document: object) -> RuleSet:
    """Read rules from parsed JSON or TOML (dicts, lists, strings, numbers, booleans)."""
    shape = 'a rules document is {"rules": [ ... ]}: an object with one key, "rules", a list'
    if not isinstance(document, Mapping) or not isinstance(document.get("rules"), list):
        raise InvalidInput(shape)
    unknown = sorted(str(key) for key in document if key != "rules")
    if unknown:
        raise InvalidInput(f"unknown top-level keys {unknown}; {shape}")
    rules = []
    for number, entry in enumerate(document["rules"], start=1):
        name = entry.get("id", f"#{number}") if isinstance(entry, Mapping) else f"#{number}"
        rules.append(_at(f"rule {name}", _rule, entry))
    return _at("rules", RuleSet, rules)


def rules_to_data(rules: RuleSet) -> dict[str, Any]:
    """The rules as plain data for ``json.dumps`` or a TOML writer: what ``rules_from_data`` reads."""
    return {"rules": [_rule_data(rule) for rule in rules]}


def rules_to_json(rules: RuleSet) -> str:
    return json.dumps(rules_to_data(rules), indent=2, ensure_ascii=False)


def _at(where: str, build: Callable[..., T], *args: Any) -> T:
    """Call ``build(*args)``, saying ``where`` in the message of any InvalidInput it raises."""
    try:
        return build(*args)
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error}") from None


def _keys(
    where: str, entry: object, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise InvalidInput(f"{where} must be an object with {sorted(required | optional)}, got {entry!r}")
    missing, unknown = required - entry.keys(), entry.keys() - required - optional
    if missing or unknown:
        problems = [f"missing {sorted(missing)}"] * bool(missing) + [f"unknown {sorted(unknown)}"] * bool(
            unknown
        )
        raise InvalidInput(f"{where}: {' and '.join(problems)}; it takes {sorted(required | optional)}")
    return entry


def _rule(entry: object) -> Rule:
    data = _keys("the rule", entry, {"id", "trigger", "actions"}, _RULE_KEYS - {"id", "trigger", "actions"})
    actions = data["actions"]
    if not isinstance(actions, list) or not actions:
        raise InvalidInput("actions must be a list of one or more actions")
    return Rule(
        _at("id", _text, "id", data["id"]),
        _at("trigger", _trigger, data["trigger"]),
        tuple(_at(f"actions[{n}]", _action, action) for n, action in enumerate(actions)),
        _at("conditions", _conditions, data.get("conditions", {"all": []})),
        priority=_at("priority", _whole_number, data.get("priority", 0)),
        enabled=_at("enabled", _bool, data.get("enabled", True)),
        description=_at("description", _text, "description", data.get("description", ""), True),
    )


def _trigger(entry: object) -> Trigger:
    if isinstance(entry, Mapping) and "event" in entry:
        data = _keys("trigger", entry, {"event"})
        return OnEvent(_text("event", data["event"]))
    data = _keys("trigger", entry, {"after", "field"})
    return AfterTime(_text("field", data["field"]), data["after"])


def _conditions(entry: object) -> ConditionTree:
    if isinstance(entry, Mapping) and len(entry) == 1 and next(iter(entry)) in ("all", "any", "not"):
        ((key, value),) = entry.items()
        if key == "not":
            return Not(_at("not", _conditions, value))
        if not isinstance(value, list):
            raise InvalidInput(f"{key} takes a list of conditions, got {value!r}")
        children = tuple(_at(f"{key}[{n}]", _conditions, child) for n, child in enumerate(value))
        return AllOf(children) if key == "all" else AnyOf(children)
    data = _keys("a condition", entry, {"field", "op"}, {"value"})
    return Condition(_text("field", data["field"]), _text("op", data["op"]), data.get("value"))


def _action(entry: object) -> Action:
    data = _keys("an action", entry, {"do"}, {"user", "users", "for"})
    kinds = {kind.value: kind for kind in ActionKind}
    kind = kinds.get(data["do"])
    if kind is None:
        raise InvalidInput(f"do: {data['do']!r} is not an action; use one of {sorted(kinds)}")
    users = data.get("users", ())
    if not isinstance(users, list | tuple) or not all(isinstance(user, str) for user in users):
        raise InvalidInput(f"users must be a list of user ids, got {users!r}")
    user = data.get("user")
    if user is not None:
        _text("user", user)
    return Action(kind, user=user, users=tuple(users), duration=data.get("for"))


def _text(name: str, value: object, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InvalidInput(f"{name} must be {'text' if empty else 'non-empty text'}, got {value!r}")
    return value


def _whole_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"must be a whole number (higher runs first), got {value!r}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"must be true or false, got {value!r}")
    return value


def _rule_data(rule: Rule) -> dict[str, Any]:
    trigger: dict[str, Any] = (
        {"event": rule.trigger.event}
        if isinstance(rule.trigger, OnEvent)
        else {"after": str(rule.trigger.delay), "field": rule.trigger.field}
    )
    return {
        "id": rule.id.value,
        "description": rule.description,
        "priority": rule.priority,
        "enabled": rule.enabled,
        "trigger": trigger,
        "conditions": _conditions_data(rule.conditions),
        "actions": [_action_data(action) for action in rule.actions],
    }


def _conditions_data(tree: ConditionTree) -> dict[str, Any]:
    if isinstance(tree, Condition):
        data: dict[str, Any] = {"field": tree.field, "op": tree.op}
        if tree.value is not None:
            value = tree.value
            data["value"] = (
                sorted(value)
                if isinstance(value, frozenset)
                else value
                if isinstance(value, str | int | bool)
                else str(value)
            )
        return data
    if isinstance(tree, Not):
        return {"not": _conditions_data(tree.condition)}
    key = "all" if isinstance(tree, AllOf) else "any"
    return {key: [_conditions_data(child) for child in tree.conditions]}


def _action_data(action: Action) -> dict[str, Any]:
    data: dict[str, Any] = {"do": action.kind.value}
    if action.user is not None:
        data["user"] = action.user
    if action.users:
        data["users"] = list(action.users)
    if action.duration is not None:
        data["for"] = str(action.duration)
    return data

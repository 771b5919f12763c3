"""Rules as data: JSON and TOML documents, read and written in one schema (docs/rules.md).

Reading checks every key against the vocabulary and says, for a mistake, where it is (a path such as
``rules[2].conditions.all[0].value``), which rule and what is allowed. Any input at all either loads or
raises :class:`InvalidRules`: a document is often typed by a person or sent through a settings page, so a
malformed, hostile or merely enormous one must be refused as bad input, never crash with Python's own
exceptions or wedge the engine later. Data only ever names things the vocabulary defines: nothing in a
document is evaluated, imported or executed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final, TypeVar

from convostate._core.rules.model import (
    MAX_CONDITION_DEPTH,
    MAX_CONDITIONS,
    MAX_DOCUMENT_LENGTH,
    MAX_ITEMS,
    MAX_RULES,
    Action,
    AfterTime,
    AllOf,
    AnyOf,
    Condition,
    ConditionTree,
    InvalidRules,
    Not,
    OnEvent,
    Rule,
    RuleSet,
    Trigger,
    checked_number,
    checked_text,
    shown,
)
from convostate._core.rules.vocabulary import ActionKind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

T = TypeVar("T")

_LONGEST_NUMBER_TEXT: Final = 20
"""JSON numbers longer than this are refused before ``int`` reads them (no number a rule may hold is
longer): a 5,000-digit number would otherwise fail inside ``int`` or take time to convert."""

_RULE_KEYS = {"id", "description", "priority", "enabled", "trigger", "conditions", "actions"}
_ACTION_KINDS = {kind.value: kind for kind in ActionKind}


def rules_from_json(text: str | bytes) -> RuleSet:
    """Read rules from a JSON document: ``{"rules": [{"id": ..., "trigger": ..., ...}]}``.

    Strict JSON: ``NaN``, ``Infinity`` and a key repeated in one object (which JSON readers keep only the
    last of, silently) are refused, and so is a document past MAX_DOCUMENT_LENGTH."""
    return rules_from_data(_parsed("JSON", text, _json))


def rules_from_toml(text: str | bytes) -> RuleSet:
    """Read rules from a TOML document with one ``[[rules]]`` table per rule."""
    return rules_from_data(_parsed("TOML", text, tomllib.loads))


def rules_from_data(document: object) -> RuleSet:
    """Read rules from parsed JSON or TOML (dicts, lists, strings, numbers, booleans).

    Raises:
        InvalidRules: for anything that is not a rules document within the limits (docs/errors.md), with
            the path of the first mistake.
    """
    shape = 'a rules document is {"rules": [ ... ]}: an object with one key, "rules", a list'
    if not isinstance(document, Mapping) or not isinstance(document.get("rules"), list):
        raise InvalidRules(f"{shape}; got {shown(document)}")
    _object("", document, {"rules"}, hint=shape)
    entries = document["rules"]
    if len(entries) > MAX_RULES:
        raise InvalidRules(
            f"a document may hold at most {MAX_RULES:,} rules, got {len(entries):,}; split it", "rules"
        )
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries):
        where = f"rules[{number}]"
        name = _name_of(entry)
        try:
            rule = _rule(where, entry)
        except InvalidRules as error:
            raise InvalidRules(error.problem, error.path, rule=name) from None
        first = seen.setdefault(rule.id.value, number)
        if first != number:
            raise InvalidRules(
                f"rule ids must be unique; {shown(rule.id.value)} is also the id of rules[{first}]",
                f"{where}.id",
                rule=name,
            )
        rules.append(rule)
    return RuleSet(rules)


def rules_to_data(rules: RuleSet) -> dict[str, Any]:
    """The rules as plain data for ``json.dumps`` or a TOML writer: what ``rules_from_data`` reads."""
    return {"rules": [_rule_data(rule) for rule in rules]}


def rules_to_json(rules: RuleSet) -> str:
    return json.dumps(rules_to_data(rules), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- reading text


class _RepeatedKeys(dict[str, Any]):
    """A JSON object with a key given twice: kept (with the last value, as JSON readers do) so that the
    walk over the document can refuse it with its path, which the parser's hook does not know."""

    repeated: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    repeated, seen = _RepeatedKeys(found), set()
    for key, _ in pairs:
        if key in seen:
            repeated.repeated = key
            break
        seen.add(key)
    return repeated


def _number(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _LONGEST_NUMBER_TEXT:
        raise ValueError(f"the number {text[:12]}... has {digits:,} digits; rules hold numbers of at most 16")
    return int(text)


def _constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number; rules hold whole numbers")


def _json(text: str) -> object:
    return json.loads(text, object_pairs_hook=_pairs, parse_int=_number, parse_constant=_constant)


def _parsed(kind: str, text: object, parse: Callable[[str], object]) -> object:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRules(
                f"not a {kind} document: bytes {error.start} to {error.end} are not UTF-8; save the file as "
                "UTF-8 or pass it as text"
            ) from None
    if not isinstance(text, str):
        raise InvalidRules(f"a {kind} document is text (str or UTF-8 bytes), got {shown(text)}")
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise InvalidRules(
            f"a {kind} document may be at most {MAX_DOCUMENT_LENGTH:,} characters, got {len(text):,}; "
            "split the rules over several documents"
        )
    try:
        return parse(text)
    except RecursionError:
        raise InvalidRules(
            f"not a {kind} document that convostate reads: it nests too deeply (conditions may nest "
            f"{MAX_CONDITION_DEPTH} levels)"
        ) from None
    except ValueError as error:  # JSONDecodeError, TOMLDecodeError, a number too long for int()
        raise InvalidRules(f"not a {kind} document: {str(error)[:300]}") from None


# ---------------------------------------------------------------- reading data


def _name_of(entry: object) -> str | None:
    """The rule's id for messages, when it is one."""
    if isinstance(entry, Mapping):
        name = entry.get("id")
        if isinstance(name, str) and name.strip():
            return shown(name) if len(name) > 60 or not name.isprintable() else name
    return None


def _object(
    where: str,
    entry: object,
    required: AbstractSet[str],
    optional: AbstractSet[str] = frozenset(),
    *,
    hint: str = "",
) -> Mapping[str, Any]:
    """``entry`` as an object with exactly the ``required`` keys and some of the ``optional`` ones."""
    allowed = sorted(required | optional)
    hint = hint or f"it takes {allowed}"
    if not isinstance(entry, Mapping):
        raise InvalidRules(f"must be an object with {allowed}, got {shown(entry)}", where)
    if isinstance(entry, _RepeatedKeys):
        raise InvalidRules(f"the key {entry.repeated!r} is given twice; give each key once", where)
    strays = [key for key in entry if not isinstance(key, str)]
    if strays:
        raise InvalidRules(f"keys are text, got {shown(strays[0])}; {hint}", where)
    missing, unknown = required - entry.keys(), entry.keys() - required - optional
    if missing or unknown:
        shown_unknown = shown(sorted(unknown)[:5]) + (
            f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        )
        problems = [f"missing {sorted(missing)}"] * bool(missing) + [f"unknown {shown_unknown}"] * bool(
            unknown
        )
        raise InvalidRules(f"{' and '.join(problems)}; {hint}", where)
    return entry


def _list(where: str, value: object, what: str, *, empty: bool = True) -> list[Any]:
    if not isinstance(value, list | tuple) or len(value) > MAX_ITEMS or (not empty and not value):
        size = "" if empty else "one or more "
        raise InvalidRules(
            f"must be a list of {size}{what} (at most {MAX_ITEMS:,}), got {shown(value)}", where
        )
    return list(value)


def _built(where: str, build: Callable[..., T], *args: Any) -> T:
    """``build(*args)``: a refusal by the model (which names only its own field) is moved to ``where``."""
    try:
        return build(*args)
    except InvalidRules as error:
        raise InvalidRules(error.problem, f"{where}.{error.field}" if error.field else where) from None


def _rule(where: str, entry: object) -> Rule:
    data = _object(where, entry, {"id", "trigger", "actions"}, _RULE_KEYS - {"id", "trigger", "actions"})
    actions = _list(f"{where}.actions", data["actions"], "actions", empty=False)
    count = [0]
    return _built(
        where,
        Rule,
        checked_text(f"{where}.id", data["id"]),
        _trigger(f"{where}.trigger", data["trigger"]),
        tuple(_action(f"{where}.actions[{n}]", action) for n, action in enumerate(actions)),
        _conditions(f"{where}.conditions", data.get("conditions", {"all": []}), 1, count),
        checked_number(f"{where}.priority", data.get("priority", 0), "higher runs first"),
        _bool(f"{where}.enabled", data.get("enabled", True)),
        checked_text(f"{where}.description", data.get("description", ""), empty=True),
    )


def _trigger(where: str, entry: object) -> Trigger:
    if isinstance(entry, Mapping) and "event" in entry:
        data = _object(where, entry, {"event"})
        return _built(where, OnEvent, checked_text(f"{where}.event", data["event"]))
    data = _object(where, entry, {"after", "field"}, hint="it takes ['event'], or ['after', 'field']")
    return _built(where, AfterTime, checked_text(f"{where}.field", data["field"]), data["after"])


def _conditions(where: str, entry: object, depth: int, count: list[int]) -> ConditionTree:
    """One node of a condition tree. Recursive, but refused past MAX_CONDITION_DEPTH before it recurses
    further, and past MAX_CONDITIONS nodes in all (``count``), however the data nests or shares."""
    count[0] += 1
    if depth > MAX_CONDITION_DEPTH or count[0] > MAX_CONDITIONS:
        raise InvalidRules(
            f"a rule's conditions may nest at most {MAX_CONDITION_DEPTH} levels and hold at most "
            f"{MAX_CONDITIONS:,} conditions; split the rule in two",
            where,
        )
    if isinstance(entry, Mapping) and len(entry) == 1 and next(iter(entry)) in ("all", "any", "not"):
        _object(where, entry, set(entry))  # a repeated key
        ((key, value),) = entry.items()
        if key == "not":
            return Not(_conditions(f"{where}.not", value, depth + 1, count))
        children = _list(f"{where}.{key}", value, "conditions")
        trees = tuple(
            _conditions(f"{where}.{key}[{n}]", child, depth + 1, count) for n, child in enumerate(children)
        )
        return AllOf(trees) if key == "all" else AnyOf(trees)
    if not isinstance(entry, Mapping):
        raise InvalidRules(
            'must be a condition {"field": ..., "op": ..., "value": ...}, or {"all": [...]}, {"any": [...]} '
            f'or {{"not": {{...}}}}, got {shown(entry)}',
            where,
        )
    data = _object(
        where,
        entry,
        {"field", "op"},
        {"value"},
        hint="it takes ['field', 'op', 'value'], or one of ['all', 'any', 'not']",
    )
    field = checked_text(f"{where}.field", data["field"])
    op = checked_text(f"{where}.op", data["op"])
    return _built(where, Condition, field, op, data.get("value"))


def _action(where: str, entry: object) -> Action:
    data = _object(where, entry, {"do"}, {"user", "users", "for"})
    kind = _ACTION_KINDS.get(data["do"]) if isinstance(data["do"], str) else None
    if kind is None:
        raise InvalidRules(
            f"{shown(data['do'])} is not an action; use one of {sorted(_ACTION_KINDS)}", f"{where}.do"
        )
    users = tuple(
        checked_text(f"{where}.users[{n}]", user)
        for n, user in enumerate(_list(f"{where}.users", data.get("users", ()), "user ids"))
    )
    user = data.get("user")
    if user is not None:
        checked_text(f"{where}.user", user)
    return _built(where, Action, kind, user, users, data.get("for"))


def _bool(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidRules(f"must be true or false, got {shown(value)}", where)
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

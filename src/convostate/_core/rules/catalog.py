"""The rule vocabulary as plain data, for a host's rule editor: what the model and the vocabulary modules
define, in one document. Kept apart from both so that neither imports the other's user."""

from __future__ import annotations

from typing import Any

from convostate._core.business_hours import BUSINESS_PREFIX
from convostate._core.rules.model import (
    EVENT_TYPES,
    LARGEST_NUMBER,
    MAX_CONDITION_DEPTH,
    MAX_CONDITIONS,
    MAX_DOCUMENT_LENGTH,
    MAX_ITEMS,
    MAX_RULES,
    MAX_TEXT_LENGTH,
    REOPEN_WINDOW,
)
from convostate._core.rules.vocabulary import ACTIONS, FIELDS, NO_VALUE, OPERATORS, TIME_FIELDS
from convostate._core.timing import LONGEST_DURATION_DAYS


def vocabulary() -> dict[str, Any]:
    """The fields, operators, triggers and actions rules can use, with their types, as plain data, so that
    a settings page can build its rule editor from it (and stay in step with the library)."""
    return {
        "fields": [
            {
                "name": field.name,
                "type": field.type.value,
                "description": field.description,
                "operators": sorted(name for name, op in OPERATORS.items() if field.type in op.applies_to),
                **({"choices": list(field.choices)} if field.choices else {}),
            }
            for field in FIELDS.values()
        ],
        "operators": [
            {
                "name": op.name,
                "applies_to": sorted(value_type.value for value_type in op.applies_to),
                "value": "none"
                if op.name in NO_VALUE
                else (op.value.value if op.value else "same as the field"),
                "description": op.description,
            }
            for op in OPERATORS.values()
        ],
        "triggers": {
            "event": sorted(EVENT_TYPES),
            "after": {
                "fields": list(TIME_FIELDS),
                "delay": f"an ISO 8601 duration such as P1D, business time such as {BUSINESS_PREFIX}PT24H, "
                f"or {REOPEN_WINDOW}",
            },
        },
        "actions": [
            {
                "do": spec.kind.value,
                "params": [
                    {"name": name, "type": value_type.value, "description": text}
                    for name, value_type, text in spec.params
                ],
                "description": spec.description,
            }
            for spec in ACTIONS.values()
        ],
        "durations": f"ISO 8601 (P1W, P2D, PT48H); {BUSINESS_PREFIX!r} and ISO 8601 hours, minutes and "
        f"seconds for working time on the business hours ({BUSINESS_PREFIX}PT24H); or {REOPEN_WINDOW!r} "
        "for the account's reopen window",
        # What a document may hold (docs/errors.md, "Limits"), so that an editor can say so before saving.
        "limits": {
            "document_characters": MAX_DOCUMENT_LENGTH,
            "rules": MAX_RULES,
            "condition_depth": MAX_CONDITION_DEPTH,
            "conditions_per_rule": MAX_CONDITIONS,
            "items_per_list": MAX_ITEMS,
            "text_characters": MAX_TEXT_LENGTH,
            "largest_number": LARGEST_NUMBER,
            "longest_duration_days": LONGEST_DURATION_DAYS,  # a year counts as 366 days, a month as 31
        },
    }

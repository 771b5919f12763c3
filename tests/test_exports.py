"""The public API is exactly ``convostate.__all__``.

The package docstring: "Everything is re-exported here; modules whose names start with ``_`` are
private." The expected names are written out below, so adding (or dropping) a public name is a
decision made in a review, not a side effect.
"""

from __future__ import annotations

import types

import convostate

EXPECTED = frozenset(
    {
        "DEFAULT_RULES",
        "INITIAL_STATE",
        "REOPEN_ON_INBOUND",
        "REOPEN_WINDOW",
        "UNASSIGN_AFTER_WINDOW",
        "WAKE_WHEN_CONTACT_WRITES",
        "WAKE_WHEN_SNOOZE_ENDS",
        "AccountSettings",
        "Action",
        "ActionKind",
        "Actor",
        "ActorKind",
        "AfterTime",
        "AllOf",
        "AnyOf",
        "Assign",
        "AssignNextInRotation",
        "Assigned",
        "Badges",
        "CalendarDuration",
        "Clock",
        "Close",
        "Closed",
        "Command",
        "ConcurrencyConflict",
        "Condition",
        "Contact",
        "ContactId",
        "Conversation",
        "ConversationId",
        "ConversationStarted",
        "ConvostateError",
        "DecisionContext",
        "Delivery",
        "Direction",
        "DueTimer",
        "DuplicateDelivery",
        "Event",
        "ExportDisabled",
        "ExportResult",
        "Handled",
        "Helpdesk",
        "HistoryEntry",
        "IdGenerator",
        "Inbox",
        "InboxId",
        "InboxKind",
        "InvalidInput",
        "Listing",
        "Mailer",
        "MailerUnavailable",
        "ManualClock",
        "MarkRead",
        "MarkUnread",
        "MarkedRead",
        "MarkedUnread",
        "MemoryStore",
        "Message",
        "MessageId",
        "MessageReceived",
        "MessageSent",
        "Not",
        "NotAMember",
        "OnEvent",
        "OpenLinkedConversation",
        "OutboxMailer",
        "Outcome",
        "OutgoingEmail",
        "Page",
        "PermissionDenied",
        "Position",
        "RandomIds",
        "ReadModel",
        "ReceiveMessage",
        "Reopen",
        "ReopenReason",
        "Reopened",
        "Role",
        "Rule",
        "RuleId",
        "RuleLoop",
        "RuleSet",
        "SendReply",
        "SequentialIds",
        "SingleUserInbox",
        "Snooze",
        "Snoozed",
        "Star",
        "Starred",
        "Status",
        "StatusMachine",
        "Store",
        "StuckTimer",
        "Sweep",
        "SystemClock",
        "Tab",
        "TabCount",
        "Timer",
        "Transition",
        "Unassign",
        "Unassigned",
        "UnknownContact",
        "UnknownConversation",
        "UnknownInbox",
        "UnknownUser",
        "Unsnooze",
        "Unsnoozed",
        "Unstar",
        "Unstarred",
        "User",
        "UserId",
        "Verdict",
        "__version__",
        "all_of",
        "any_of",
        "cascade",
        "decide",
        "evolve",
        "explain",
        "fire_timer",
        "handle",
        "listing",
        "replay",
        "rules_from_data",
        "rules_from_json",
        "rules_from_toml",
        "rules_to_data",
        "rules_to_json",
        "status_machine",
        "tabs_of",
        "timers",
        "vocabulary",
        "when",
    }
)

DUNDERS_IN_ALL = frozenset({"__version__"})
"""The one name with underscores that is public on purpose."""


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then the rest."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def public_names_bound_in_the_package() -> set[str]:
    """Every name bound in ``convostate`` that does not start with ``_``, except the package's own
    submodules and ``annotations`` (from ``from __future__ import annotations``)."""
    return {
        name
        for name, value in vars(convostate).items()
        if not name.startswith("_")
        and name != "annotations"
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith("convostate."))
    }


def test_all_is_exactly_the_expected_public_api() -> None:
    assert set(convostate.__all__) == EXPECTED


def test_all_has_no_duplicates() -> None:
    assert len(convostate.__all__) == len(set(convostate.__all__))


def test_all_is_sorted() -> None:
    assert list(convostate.__all__) == sorted(convostate.__all__, key=_isort_style)


def test_all_lists_every_public_name_bound_in_the_package_and_nothing_else() -> None:
    assert set(convostate.__all__) - DUNDERS_IN_ALL == public_names_bound_in_the_package()


def test_every_name_in_all_resolves() -> None:
    missing = [name for name in convostate.__all__ if not hasattr(convostate, name)]

    assert missing == []


def test_star_import_binds_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from convostate import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(convostate.__all__)


def test_the_version_is_a_string() -> None:
    assert isinstance(convostate.__version__, str)
    assert convostate.__version__

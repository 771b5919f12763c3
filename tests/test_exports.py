"""The public API of every public module is exactly its ``__all__``, and ``__all__`` is what is written here.

The top level holds the facade's world; the pure core, the rules, the ports, the fakes and the conformance
suites live in named public submodules. The expected names are written out below, so adding (or dropping)
a public name is a decision made in a review, not a side effect.
"""

from __future__ import annotations

import importlib
import types

import pytest

import convostate

EXPECTED: dict[str, frozenset[str]] = {
    "convostate": frozenset(
        {
            "AccountSettings",
            "Actor",
            "ActorKind",
            "Assigned",
            "Availability",
            "Badges",
            "Batch",
            "CalendarDuration",
            "Clock",
            "Closed",
            "Committed",
            "ConcurrencyConflict",
            "Contact",
            "ContactId",
            "DuplicateContact",
            "Conversation",
            "ConversationId",
            "ConversationStarted",
            "ConvostateError",
            "Delivery",
            "Direction",
            "DueTimer",
            "EmailStatus",
            "Event",
            "ExportDisabled",
            "ExportResult",
            "FastCore",
            "Helpdesk",
            "HistoryEntry",
            "IdGenerator",
            "Inbox",
            "InboxId",
            "InboxKind",
            "InvalidInput",
            "Mailer",
            "MailerNotConfigured",
            "MarkedRead",
            "MarkedUnread",
            "MemoryStore",
            "Message",
            "MessageId",
            "MessageReceived",
            "MessageSent",
            "NotAMember",
            "Outcome",
            "OutgoingEmail",
            "Page",
            "PermanentDeliveryFailure",
            "PermissionDenied",
            "RandomIds",
            "ReadModel",
            "ReopenReason",
            "Reopened",
            "Role",
            "RuleId",
            "RetryPolicy",
            "RuleLoop",
            "SchemaMismatch",
            "SingleUserInbox",
            "SmtpMailer",
            "Snoozed",
            "Starred",
            "Status",
            "StorageBusy",
            "StorageError",
            "Store",
            "StuckTimer",
            "Sweep",
            "SystemClock",
            "Tab",
            "TabCount",
            "TemporaryDeliveryFailure",
            "Unassigned",
            "UnknownContact",
            "UnknownConversation",
            "UnknownInbox",
            "UnknownUser",
            "Unsnoozed",
            "Unstarred",
            "User",
            "UserId",
            "Verdict",
            "__version__",
        }
    ),
    "convostate.sql": frozenset({"DEFAULT_ACCOUNT", "DEFAULT_PREFIX", "SqlStore", "upgrade"}),
    "convostate.aio": frozenset({"AsyncBatch", "AsyncHelpdesk", "open_sql_store"}),
    "convostate.core": frozenset(
        {
            "Assign",
            "BusinessDuration",
            "BusinessHours",
            "Close",
            "Command",
            "DecisionContext",
            "INITIAL_STATE",
            "MAX_DATES",
            "MAX_RANGES_PER_DAY",
            "Listing",
            "MarkRead",
            "MarkUnread",
            "ReceiveMessage",
            "Reopen",
            "SendReply",
            "Snooze",
            "Star",
            "StatusMachine",
            "TabChanges",
            "Transition",
            "Unassign",
            "Unsnooze",
            "Unstar",
            "add_business_time",
            "business_time_between",
            "decide",
            "evolve",
            "listing",
            "replay",
            "status_machine",
            "tab_changes",
            "tabs_of",
        }
    ),
    "convostate.rules": frozenset(
        {
            "Action",
            "ActionKind",
            "AfterTime",
            "AllOf",
            "AnyOf",
            "AssignNextInRotation",
            "Condition",
            "DEFAULT_RULES",
            "Handled",
            "InvalidRules",
            "LARGEST_NUMBER",
            "MAX_CONDITIONS",
            "MAX_CONDITION_DEPTH",
            "MAX_DOCUMENT_LENGTH",
            "MAX_ITEMS",
            "MAX_RULES",
            "MAX_TEXT_LENGTH",
            "Not",
            "OnEvent",
            "OpenLinkedConversation",
            "REOPEN_ON_INBOUND",
            "REOPEN_WINDOW",
            "RETURN_TO_AVAILABLE",
            "Rotation",
            "Rule",
            "RuleLoop",
            "RuleSet",
            "Timer",
            "UNASSIGN_AFTER_WINDOW",
            "Verdict",
            "WAKE_WHEN_CONTACT_WRITES",
            "WAKE_WHEN_SNOOZE_ENDS",
            "all_of",
            "any_of",
            "cascade",
            "explain",
            "fire_timer",
            "handle",
            "rules_from_data",
            "rules_from_json",
            "rules_from_toml",
            "rules_to_data",
            "rules_to_json",
            "timers",
            "vocabulary",
            "when",
        }
    ),
    "convostate.ports": frozenset(
        {
            "AccountStore",
            "Accounts",
            "Analytics",
            "ChangeSet",
            "Clock",
            "ContactTotal",
            "ConversationChange",
            "ConversationLog",
            "DailyBucket",
            "DailyTotal",
            "DeliveryFailed",
            "Directory",
            "DirectoryChange",
            "Erasure",
            "DueTimer",
            "DuplicateDelivery",
            "DurationSample",
            "EmailStatus",
            "ExternalDelivery",
            "IdGenerator",
            "Mailer",
            "Outbox",
            "OutgoingEmail",
            "Position",
            "RewrittenEvent",
            "RotationTurns",
            "RowKey",
            "RowPlace",
            "Store",
            "TabChanges",
            "TabCount",
            "TimerQueue",
            "Views",
        }
    ),
    "convostate.analytics": frozenset(
        {
            "ANSWER_WINDOW",
            "ContactConversation",
            "ContactInfo",
            "Count",
            "DurationStats",
            "Fact",
            "Figures",
            "Metric",
            "Reopens",
            "Report",
            "ReportRow",
            "Scope",
            "bucket_of",
            "local_day",
            "observe",
        }
    ),
    "convostate.privacy": frozenset(
        {
            "ERASED",
            "ERASED_BEFORE_SENDING",
            "ERASED_EMAIL",
            "ContactErasure",
            "RetentionPolicy",
            "RetentionSweep",
            "conversation_past_retention",
            "erased_contact",
            "erased_event",
            "past_retention",
        }
    ),
    "convostate.codec": frozenset(
        {
            "PROBLEM_MEDIA_TYPE",
            "SCHEMA",
            "TYPES",
            "from_data",
            "from_json",
            "problem",
            "to_data",
            "to_json",
        }
    ),
    "convostate.testing.strategies": frozenset(
        {
            "DST_EDGES",
            "TIMEZONES",
            "WINDOWS",
            "account_settings",
            "bodies",
            "clock_steps",
            "external_ids",
            "instants",
            "read_models",
            "timezones",
            "windows",
        }
    ),
    "convostate.testing": frozenset(
        {
            "CollectingMailer",
            "MailerUnavailable",
            "ManualClock",
            "SequentialIds",
            "Simulation",
        }
    ),
}

MODULES = sorted(EXPECTED)

DUNDERS_IN_ALL = frozenset({"__version__"})
"""The one name with underscores that is public on purpose."""


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then the rest."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def public_names_bound_in(module: types.ModuleType) -> set[str]:
    """Every name bound in ``module`` that does not start with ``_``, except convostate's own submodules and
    ``annotations`` (from ``from __future__ import annotations``)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name != "annotations"
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith("convostate."))
    }


@pytest.mark.parametrize("name", MODULES)
def test_all_is_exactly_the_expected_public_api(name: str) -> None:
    assert set(_module(name).__all__) == EXPECTED[name]


@pytest.mark.parametrize("name", MODULES)
def test_all_has_no_duplicates(name: str) -> None:
    names = _module(name).__all__
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted(name: str) -> None:
    names = _module(name).__all__
    assert list(names) == sorted(names, key=_isort_style)


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_every_public_name_bound_in_the_module_and_nothing_else(name: str) -> None:
    module = _module(name)
    assert set(module.__all__) - DUNDERS_IN_ALL == public_names_bound_in(module)


@pytest.mark.parametrize("name", MODULES)
def test_star_import_binds_exactly_all(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(_module(name).__all__)


def test_the_top_level_stays_small_and_free_of_generic_names() -> None:
    """The facade's world only: the core's and the engine's verbs (handle, cascade, timers, when,
    listing) read ambiguously next to Helpdesk, so they live in convostate.core and convostate.rules."""
    assert len(convostate.__all__) <= 85
    assert not {"handle", "cascade", "timers", "when", "listing", "decide", "evolve"} & set(
        convostate.__all__
    )


def test_a_name_public_in_two_modules_is_the_same_object() -> None:
    seen: dict[str, object] = {}
    for name in MODULES:
        module = _module(name)
        for public in module.__all__:
            value = getattr(module, public)
            assert seen.setdefault(public, value) is value, f"{name}.{public} differs from another module's"


def test_the_version_is_a_string() -> None:
    assert isinstance(convostate.__version__, str)
    assert convostate.__version__

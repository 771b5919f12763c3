"""Contact analytics and reports: what :meth:`Helpdesk.contact_info` and :meth:`Helpdesk.report` return,
and the facts a store adds up to keep them (docs/analytics.md defines every figure)."""

from __future__ import annotations

from convostate._core.analytics.durations import DurationStats as DurationStats
from convostate._core.analytics.durations import bucket_of as bucket_of
from convostate._core.analytics.facts import ANSWER_WINDOW as ANSWER_WINDOW
from convostate._core.analytics.facts import Count as Count
from convostate._core.analytics.facts import Fact as Fact
from convostate._core.analytics.facts import Metric as Metric
from convostate._core.analytics.facts import Scope as Scope
from convostate._core.analytics.facts import local_day as local_day
from convostate._core.analytics.facts import observe as observe
from convostate._service.analytics_results import ContactConversation as ContactConversation
from convostate._service.analytics_results import ContactInfo as ContactInfo
from convostate._service.analytics_results import Figures as Figures
from convostate._service.analytics_results import Reopens as Reopens
from convostate._service.analytics_results import Report as Report
from convostate._service.analytics_results import ReportRow as ReportRow

__all__ = [
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
]

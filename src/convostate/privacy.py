"""Privacy: erasing a contact's personal data, and how long an account keeps message text.

:meth:`Helpdesk.erase_contact` and :meth:`Helpdesk.apply_retention` return the results below; the
functions are the pure rules of what "erased" means, which both use (docs/privacy.md).
"""

from __future__ import annotations

from convostate._core.erasure import ERASED as ERASED
from convostate._core.erasure import ERASED_EMAIL as ERASED_EMAIL
from convostate._core.erasure import conversation_past_retention as conversation_past_retention
from convostate._core.erasure import erased_contact as erased_contact
from convostate._core.erasure import erased_event as erased_event
from convostate._core.erasure import past_retention as past_retention
from convostate._core.retention import RetentionPolicy as RetentionPolicy
from convostate._service.erasure import ERASED_BEFORE_SENDING as ERASED_BEFORE_SENDING
from convostate._service.erasure import ContactErasure as ContactErasure
from convostate._service.erasure import RetentionSweep as RetentionSweep

__all__ = [
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
]

"""When to try a failed email again: exponential backoff with a cap, spread by a jitter that needs no
random numbers, and a time after which convostate gives up.

Pure: the delay follows from the email's id, its attempt number and the instant it failed, so every worker
(and every replay of a test) computes the same ``retry_at``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Final

import attrs
import pendulum

from convostate._core.errors import InvalidInput
from convostate._core.validate import check_type
from convostate._ports.records import OutgoingEmail

_JITTER_SCALE = float(2**64)
_LONGEST = timedelta(days=365)


def _a_delay(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    checked = check_type(attribute.name, value, timedelta, "pendulum.duration(minutes=1)")
    if not timedelta(0) < checked <= _LONGEST:
        raise InvalidInput(f"{attribute.name} must be longer than zero and at most a year, got {checked}")


@attrs.frozen
class RetryPolicy:
    """How ``Helpdesk.deliver_pending`` spaces the attempts at an email that keeps failing temporarily.

    After the n-th failed attempt the email waits ``first_delay * 2 ** (n - 1)``, at most ``max_delay``,
    and then between three quarters and all of that (the jitter, so that emails that failed together in
    an outage are not all retried in the same second). Once the next attempt would fall more than
    ``give_up_after`` after the email was queued, it fails for good instead (as an MTA bounces a message
    it held for days): an export nobody received for that long is better asked for again.

    The defaults retry after about 1, 2, 4, ... minutes, then hourly, for three days.
    """

    first_delay: timedelta = attrs.field(default=pendulum.duration(minutes=1), validator=_a_delay)
    max_delay: timedelta = attrs.field(default=pendulum.duration(hours=1), validator=_a_delay)
    give_up_after: timedelta = attrs.field(default=pendulum.duration(days=3), validator=_a_delay)

    def __attrs_post_init__(self) -> None:
        if self.max_delay < self.first_delay:
            raise InvalidInput(
                f"max_delay ({self.max_delay}) must not be shorter than first_delay ({self.first_delay})"
            )

    def delay(self, email_id: str, attempt: int) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1 for the first) of ``email_id``."""
        doubled = self.first_delay.total_seconds() * 2.0 ** min(attempt - 1, 64)
        capped = min(doubled, self.max_delay.total_seconds())
        digest = hashlib.sha256(f"{email_id}\0{attempt}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / _JITTER_SCALE  # in [0, 1)
        return timedelta(seconds=capped * (0.75 + 0.25 * fraction))

    def retry_at(self, email: OutgoingEmail, failed_at: pendulum.DateTime) -> pendulum.DateTime | None:
        """When to try ``email`` again after the attempt that just failed at ``failed_at`` (its
        ``attempts`` do not count that one yet); None once that would be past ``give_up_after``."""
        retry_at = failed_at + self.delay(email.id, email.attempts + 1)
        return retry_at if retry_at - email.created_at <= self.give_up_after else None


DEFAULT_RETRIES: Final = RetryPolicy()

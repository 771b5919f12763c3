"""A mailer that keeps what it sends instead of sending it, for tests and notebooks; it can fail on demand."""

from __future__ import annotations

from email.message import EmailMessage


class MailerUnavailable(ConnectionError):
    """The collecting mailer was told to fail, as a real SMTP server might."""


class CollectingMailer:
    """Collects sent messages in ``sent``. ``fail_next(n)`` makes the next ``n`` sends raise."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self._failures_left = 0

    def fail_next(self, times: int = 1) -> None:
        self._failures_left = times

    def send(self, message: EmailMessage) -> None:
        if self._failures_left > 0:
            self._failures_left -= 1
            raise MailerUnavailable("the collecting mailer was told to fail this send")
        self.sent.append(message)

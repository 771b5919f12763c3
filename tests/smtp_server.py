"""A real SMTP server in this process (aiosmtpd, on 127.0.0.1 and a free port) that keeps what it accepts
and fails on purpose when a test tells it to: a 4xx or 5xx reply, or a connection dropped mid-conversation.

Only ever bound to the loopback address: nothing a test sends can leave the machine.
"""

from __future__ import annotations

import collections
import random
import socket
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.policy import default as default_policy
from typing import Any, Final

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from convostate import SmtpMailer

LOOPBACK: Final = "127.0.0.1"
HEADERS: Final = BytesHeaderParser(policy=compat32)  # the headers only, the fast way: for the Message-ID

DROP: Final = "drop"
"""An outcome that closes the connection instead of answering the message."""
ACCEPT: Final = "250 OK"

Outcome = str
"""What the server does with a message: ``ACCEPT``, ``DROP``, or an SMTP reply such as ``451 4.3.0 busy``."""


@attrs.define
class Received:
    """A message the server accepted: who the client asked to deliver it to, and the message as it came
    (parsed when a test reads it: parsing in the server's thread would slow every client down)."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message_id: str

    @property
    def message(self) -> EmailMessage:
        # On the wire lines end in CRLF; a mailbox keeps them as LF, as the email package writes them.
        parsed = message_from_bytes(self.content.replace(b"\r\n", b"\n"), policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class FlakyHandler:
    """aiosmtpd's handler: decides each message's outcome with ``outcome(message_id)`` (accept by default),
    refuses the recipients in ``refused`` at ``RCPT TO`` with 550, and keeps what it accepts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.attempts: collections.Counter[str] = collections.Counter()
        """How many times each Message-ID reached ``DATA`` (accepted or not)."""
        self.outcomes: collections.Counter[str] = collections.Counter()
        """How many messages got each outcome: ``250``, ``451``, ``421``, ``drop``, ``550``."""
        self.outcome: Callable[[str], Outcome] = lambda _: ACCEPT
        """What to do with the message of this Message-ID."""
        self.refused: set[str] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content if envelope.original_content is not None else envelope.content
        assert isinstance(content, bytes)
        message_id = str(HEADERS.parsebytes(content)["Message-ID"])
        outcome = self.outcome(message_id)
        with self._lock:
            self.attempts[message_id] += 1
            self.outcomes[outcome.split(" ")[0]] += 1
            if outcome == ACCEPT:
                assert isinstance(envelope.mail_from, str)
                self.received.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), content, message_id)
                )
        if outcome == DROP:
            assert server.transport is not None
            server.transport.close()
        return outcome

    def received_ids(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(received.message_id for received in self.received)


def temporary_failures(share: float, seed: int) -> Callable[[str], Outcome]:
    """An outcome that fails ``share`` of the messages it sees, at random but the same for a seed, each
    with one of the temporary failures a real server gives: 421 (closing), 451 (try later), or a
    connection dropped before the reply."""
    chances = random.Random(seed)
    failures = ("421 4.3.2 shutting down, try again later", "451 4.3.0 busy, try again later", DROP)
    lock = threading.Lock()

    def outcome(_: str) -> Outcome:
        with lock:
            return chances.choice(failures) if chances.random() < share else ACCEPT

    return outcome


def _free_port() -> int:
    """A port no one listens on now (the controller needs a number: it checks the server by connecting)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class _Passwords:
    def __init__(self, logins: dict[str, str]) -> None:
        self._logins = logins

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self._logins.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok)


@attrs.frozen
class SmtpServer:
    """A running server: where it listens, and its handler (what it received, how it fails)."""

    handler: FlakyHandler
    host: str
    port: int

    def mailer(self, **options: Any) -> SmtpMailer:
        """A plain-text SmtpMailer for this server (the loopback needs no TLS), with a fixed domain."""
        return SmtpMailer(self.host, self.port, **{"security": "none", "domain": "desk.test", **options})


def running_server(logins: dict[str, str] | None = None) -> Iterator[SmtpServer]:
    """Run an SMTP server until the generator is closed (a pytest fixture's body). With ``logins``,
    clients must log in (``AUTH PLAIN``/``LOGIN``, without TLS: it is the loopback)."""
    handler = FlakyHandler()
    auth: dict[str, Any] = {}
    if logins is not None:
        auth = {"authenticator": _Passwords(logins), "auth_required": True, "auth_require_tls": False}
    controller = Controller(handler, hostname=LOOPBACK, port=_free_port(), server_hostname="mx.test", **auth)
    controller.start()
    try:
        yield SmtpServer(handler, LOOPBACK, controller.port)
    finally:
        controller.stop()

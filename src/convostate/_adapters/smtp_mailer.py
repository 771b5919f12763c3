"""A mailer that hands emails to an SMTP server (a relay, a provider's submission port), on the standard
library's ``smtplib``, and says whether a failure is worth retrying.

One connection per email: ``deliver_pending`` runs from a scheduler every minute or so, not in a tight
loop, and a fresh connection cannot be half-broken by the previous send.
"""

from __future__ import annotations

import copy
import math
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Final, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from convostate._core.errors import (
    InvalidInput,
    PermanentDeliveryFailure,
    TemporaryDeliveryFailure,
)
from convostate._core.validate import check_type

Security = Literal["none", "starttls", "tls"]
"""How the connection is protected: not at all (a relay on localhost), upgraded with ``STARTTLS`` (the
submission port, 587), or TLS from the first byte (``smtps``, port 465)."""

MAX_TIMEOUT: Final = 60
"""The longest ``timeout``: a send is some eight network operations (connect, EHLO, STARTTLS, AUTH, MAIL,
RCPT, DATA, QUIT), each bounded by it, and all of them must end within the worker's claim on the email
(``SEND_CLAIM``, ten minutes), or another worker may send it again meanwhile."""

DEFAULT_PORTS: Final[Mapping[Security, int]] = {"none": 25, "starttls": 587, "tls": 465}
_SECURITIES: Final = tuple(DEFAULT_PORTS)
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})
_QUERY_KEYS: Final = frozenset({"starttls", "timeout", "domain"})


class SmtpMailer:
    """Sends each email through an SMTP server, raising :class:`TemporaryDeliveryFailure` or
    :class:`PermanentDeliveryFailure` so that ``Helpdesk.deliver_pending`` retries only what may pass.

    ``domain`` names this host in ``EHLO`` and in the ``Message-ID`` of an email that has none
    (convostate's exports carry their own): smtplib and ``make_msgid`` would otherwise ask
    ``socket.getfqdn()``, which can block for seconds on a bad resolver and tells the world the machine's
    name. ``timeout`` bounds each network operation, at most :data:`MAX_TIMEOUT` seconds so that a whole
    send ends within the worker's claim on the email.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        domain: str = "localhost",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = _non_empty("host", host)
        if security not in _SECURITIES:
            raise InvalidInput(f"security must be one of {', '.join(_SECURITIES)}, got {security!r}")
        self.security: Security = security
        self.port = DEFAULT_PORTS[security] if port is None else _a_port(port)
        if (username is None) != (password is None):
            raise InvalidInput("give both username and password to log in, or neither")
        self.username = None if username is None else _non_empty("username", username)
        self._password = None if password is None else check_type("password", password, str, "'secret'")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise InvalidInput(f"timeout must be a number of seconds (e.g. 30.0), got {timeout!r}")
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
            raise InvalidInput(f"timeout must be above 0 and at most {MAX_TIMEOUT} seconds, got {timeout}")
        self.timeout = float(timeout)
        self.domain = _non_empty("domain", domain)
        if ssl_context is not None:
            check_type("ssl_context", ssl_context, ssl.SSLContext, "ssl.create_default_context()")
        elif security != "none":
            # Made once: loading the system's certificate authorities takes milliseconds a send.
            ssl_context = ssl.create_default_context()
        self._ssl_context = ssl_context

    @classmethod
    def from_url(cls, url: str, *, ssl_context: ssl.SSLContext | None = None) -> SmtpMailer:
        """A mailer from one setting, as hosts keep it in an environment variable:
        ``smtp://user:pass@mail.example.com:587?starttls=true`` or ``smtps://user:pass@mail.example.com``
        (implicit TLS); ``smtp://localhost:25`` for a local relay. The query may also set ``timeout``
        (seconds) and ``domain``; the user name and password are percent-decoded."""
        text = _non_empty("url", url)
        parts = urlsplit(text)
        if parts.scheme not in ("smtp", "smtps"):
            raise InvalidInput(f"an SMTP URL starts with smtp:// or smtps://, got {_redacted(text)!r}")
        try:
            port = parts.port
        except ValueError as error:
            raise InvalidInput(f"the port of {_redacted(text)!r} is not a port number ({error})") from error
        if not parts.hostname or parts.path not in ("", "/") or parts.fragment:
            raise InvalidInput(f"{_redacted(text)!r} must be smtp[s]://[user:password@]host[:port][?options]")
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
        unknown = sorted(set(query) - _QUERY_KEYS)
        if unknown or any(len(values) > 1 for values in query.values()):
            raise InvalidInput(
                f"an SMTP URL's options are {', '.join(sorted(_QUERY_KEYS))}, each once; got {parts.query!r}"
            )
        options = {key: values[0] for key, values in query.items()}
        starttls = _a_flag("starttls", options.get("starttls", "false"))
        if parts.scheme == "smtps" and starttls:
            raise InvalidInput("smtps:// is TLS from the start already; starttls=true goes with smtp://")
        return cls(
            parts.hostname,
            port,
            security="tls" if parts.scheme == "smtps" else "starttls" if starttls else "none",
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            timeout=_a_number("timeout", options.get("timeout", "30")),
            domain=options.get("domain", "localhost"),
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        login = f", username={self.username!r}, password='***'" if self.username is not None else ""
        return (
            f"SmtpMailer({self.host!r}, {self.port}, security={self.security!r}{login}, "
            f"timeout={self.timeout}, domain={self.domain!r})"
        )

    def send(self, message: EmailMessage) -> None:
        if message["Message-ID"] is None:
            message = copy.deepcopy(message)  # the caller's message is left as it was
            message["Message-ID"] = make_msgid(domain=self.domain)
        try:
            connection = self._connect()
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        accepted = False
        try:
            if self.security == "starttls":
                connection.starttls(context=self._context())
            if self.username is not None and self._password is not None:
                connection.login(self.username, self._password)
            connection.send_message(message)  # some recipients refused: the rest have it, so no retry
            accepted = True
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        finally:
            if not accepted:  # whatever was raised, the socket is not left open
                connection.close()
        # Accepted: from here on nothing may raise, or the email would be sent again.
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.domain,
                timeout=self.timeout,
                context=self._context(),
            )
        return smtplib.SMTP(self.host, self.port, local_hostname=self.domain, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        assert self._ssl_context is not None  # made in __init__ for every security but "none"
        return self._ssl_context


def _classified(
    error: smtplib.SMTPException | OSError,
) -> TemporaryDeliveryFailure | PermanentDeliveryFailure:
    """Whether retrying ``error`` may help: a 5xx reply is the server's final word on this email, unless
    it refused the login (the host's settings, not the email, are wrong: fix them and the email goes); a
    4xx reply, a dropped or refused connection, a timeout or a TLS failure may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        answers = "; ".join(
            f"{recipient}: {code} {_text(reply)}" for recipient, (code, reply) in error.recipients.items()
        )
        if not codes:
            return PermanentDeliveryFailure("the email has no recipient (no To, Cc or Bcc address)")
        if all(500 <= code < 600 for code in codes):
            return PermanentDeliveryFailure(f"every recipient was refused: {answers}", smtp_code=codes[0])
        return TemporaryDeliveryFailure(f"recipients refused for now: {answers}", smtp_code=codes[0])
    if isinstance(error, smtplib.SMTPResponseException):
        answer = f"{error.smtp_code} {_text(error.smtp_error)}"
        if 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPAuthenticationError):
            return PermanentDeliveryFailure(
                f"the server refused the email: {answer}", smtp_code=error.smtp_code
            )
        return TemporaryDeliveryFailure(f"the server answered {answer}", smtp_code=error.smtp_code)
    return TemporaryDeliveryFailure(f"{type(error).__name__}: {error}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _non_empty(name: str, value: object) -> str:
    text = check_type(name, value, str, "'mail.example.com'")
    if not text.strip() or any(character in text for character in "\r\n\0"):
        raise InvalidInput(f"{name} must be non-empty text on one line, got {text!r}")
    return text


def _a_port(value: object) -> int:
    port = check_type("port", value, int, "587")
    if not 0 < port < 65536:
        raise InvalidInput(f"port must be from 1 to 65535, got {port}")
    return port


def _a_flag(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidInput(f"{name} must be true or false, got {value!r}")


def _a_number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number of seconds, got {value!r}") from None


def _redacted(url: str) -> str:
    """``url`` without its password, for an error message that may end up in a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)

"""SmtpMailer: configured from keywords or a URL, and each failure of a real SMTP conversation (aiosmtpd on
127.0.0.1) classified as temporary or permanent."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Any

import pytest

from convostate import InvalidInput, Mailer, PermanentDeliveryFailure, SmtpMailer, TemporaryDeliveryFailure
from convostate.ports import DeliveryFailed
from convostate.testing import CollectingMailer
from tests.smtp_server import ACCEPT, DROP, LOOPBACK, SmtpServer

pytestmark = [
    # aiosmtpd's own AUTH code (in the server's thread) reads a deprecated attribute of its own.
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
    # A login without TLS is what the test server on the loopback takes; aiosmtpd warns of it.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


def an_email(message_id: str | None = "<export-1.convostate@acme.example>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "support@acme.example"
    message["To"] = "ana@acme.example"
    message["Subject"] = "Export"
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content("Attached.")
    return message


# ---------------------------------------------------------------- configuration


def test_keywords_set_every_option_and_the_port_follows_the_security() -> None:
    assert SmtpMailer("mail.example.com").port == 587
    assert SmtpMailer("mail.example.com", security="tls").port == 465
    assert SmtpMailer("mail.example.com", security="none").port == 25
    mailer = SmtpMailer(
        "mail.example.com",
        2525,
        security="none",
        username="ana",
        password="pw",
        timeout=5,
        domain="acme.example",
    )
    assert (mailer.host, mailer.port, mailer.security, mailer.username) == (
        "mail.example.com",
        2525,
        "none",
        "ana",
    )
    assert (mailer.timeout, mailer.domain) == (5.0, "acme.example")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://localhost", ("localhost", 25, "none", None, None)),
        ("smtp://mail.example.com:587?starttls=true", ("mail.example.com", 587, "starttls", None, None)),
        ("smtp://mail.example.com?starttls=yes", ("mail.example.com", 587, "starttls", None, None)),
        ("smtps://ana:s3cret@mail.example.com", ("mail.example.com", 465, "tls", "ana", "s3cret")),
        (
            "smtp://ana%40acme.example:p%2Fw%3A@mail.example.com:2525",
            ("mail.example.com", 2525, "none", "ana@acme.example", "p/w:"),
        ),
    ],
)
def test_a_url_configures_the_mailer(url: str, expected: tuple[Any, ...]) -> None:
    mailer = SmtpMailer.from_url(url)
    assert (mailer.host, mailer.port, mailer.security, mailer.username, mailer._password) == expected


def test_a_url_may_set_the_timeout_and_domain() -> None:
    mailer = SmtpMailer.from_url("smtp://localhost:25?timeout=2.5&domain=acme.example")
    assert (mailer.timeout, mailer.domain) == (2.5, "acme.example")


def test_the_password_is_never_shown() -> None:
    mailer = SmtpMailer.from_url("smtps://ana:s3cret@mail.example.com")
    assert "s3cret" not in repr(mailer)
    assert "ana" in repr(mailer)
    with pytest.raises(InvalidInput) as refused:
        SmtpMailer.from_url("smtps://ana:s3cret@mail.example.com:99999")
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://mail.example.com",
        "mail.example.com:25",
        "smtp://",
        "smtp://mail.example.com:notaport",
        "smtp://mail.example.com:0",
        "smtp://mail.example.com/inbox",
        "smtp://mail.example.com?starttls=maybe",
        "smtp://mail.example.com?tls=true",
        "smtp://mail.example.com?timeout=1&timeout=2",
        "smtp://mail.example.com?timeout=soon",
        "smtp://mail.example.com?timeout=0",
        "smtps://mail.example.com?starttls=true",
        "smtp://ana@mail.example.com",
        "smtp://mail.example.com?domain=",
    ],
)
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        SmtpMailer.from_url(url)


@pytest.mark.parametrize(
    "arguments",
    [
        {"host": ""},
        {"host": "mail.example.com\r\nRCPT TO:<x@evil.example>"},
        {"host": None},
        {"host": "mail.example.com", "port": 70000},
        {"host": "mail.example.com", "port": "25"},
        {"host": "mail.example.com", "security": "ssl"},
        {"host": "mail.example.com", "username": "ana"},
        {"host": "mail.example.com", "password": "pw"},
        {"host": "mail.example.com", "timeout": 0},
        {"host": "mail.example.com", "timeout": float("nan")},
        {"host": "mail.example.com", "timeout": True},
        {"host": "mail.example.com", "timeout": 61},
        {"host": "mail.example.com", "domain": ""},
        {"host": "mail.example.com", "ssl_context": "default"},
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        SmtpMailer(**arguments)


# ---------------------------------------------------------------- a real SMTP conversation


def test_an_email_is_delivered_as_it_is(smtp_server: SmtpServer) -> None:
    smtp_server.mailer().send(an_email())

    [received] = smtp_server.handler.received
    assert received.message_id == "<export-1.convostate@acme.example>"
    assert received.mail_from == "support@acme.example"
    assert received.rcpt_tos == ["ana@acme.example"]
    assert received.message.get_content() == "Attached.\n"


def test_the_fixed_domain_names_the_client_and_a_missing_message_id(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lookups() -> str:
        raise AssertionError("socket.getfqdn() was called")

    monkeypatch.setattr(socket, "getfqdn", no_lookups)
    message = an_email(message_id=None)

    smtp_server.mailer(domain="desk.acme.example").send(message)

    [received] = smtp_server.handler.received
    assert received.message_id.endswith("@desk.acme.example>")
    assert message["Message-ID"] is None  # the caller's message is left as it was


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("451 4.3.0 busy, try again later", 451), ("421 4.3.2 shutting down", 421), (DROP, None)],
)
def test_a_4xx_reply_or_a_dropped_connection_is_temporary(
    smtp_server: SmtpServer, outcome: str, code: int | None
) -> None:
    smtp_server.handler.outcome = lambda _: outcome

    with pytest.raises(TemporaryDeliveryFailure) as failed:
        smtp_server.mailer().send(an_email())

    assert failed.value.smtp_code == code
    assert smtp_server.handler.received == []


def test_a_5xx_reply_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.handler.outcome = lambda _: "550 5.7.1 message refused"

    with pytest.raises(PermanentDeliveryFailure, match=r"550 5\.7\.1 message refused") as failed:
        smtp_server.mailer().send(an_email())

    assert failed.value.smtp_code == 550
    assert isinstance(failed.value, DeliveryFailed)


def test_every_recipient_refused_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.handler.refused = {"ana@acme.example"}

    with pytest.raises(PermanentDeliveryFailure, match=r"ana@acme\.example: 550 5\.1\.1 no such user"):
        smtp_server.mailer().send(an_email())


def test_some_recipients_refused_is_a_delivery_to_the_others(smtp_server: SmtpServer) -> None:
    """Retrying would send it to the others again; the refused ones are the server's to bounce."""
    smtp_server.handler.refused = {"ben@acme.example"}
    message = an_email()
    message["Cc"] = "ben@acme.example"

    smtp_server.mailer().send(message)

    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["ana@acme.example"]


def test_an_email_with_no_recipient_is_permanent(smtp_server: SmtpServer) -> None:
    message = an_email()
    del message["To"]

    with pytest.raises(PermanentDeliveryFailure, match="no recipient"):
        smtp_server.mailer().send(message)


def test_no_server_listening_is_temporary() -> None:
    with socket.socket() as unused:
        unused.bind((LOOPBACK, 0))
        port = unused.getsockname()[1]
    with pytest.raises(TemporaryDeliveryFailure, match="ConnectionRefusedError"):
        SmtpMailer(LOOPBACK, port, security="none", timeout=2).send(an_email())


def test_a_server_that_does_not_answer_in_time_is_temporary() -> None:
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        with pytest.raises(TemporaryDeliveryFailure, match=r"TimeoutError|timed out"):
            SmtpMailer(LOOPBACK, silent.getsockname()[1], security="none", timeout=0.2).send(an_email())


def test_starttls_that_the_server_does_not_offer_is_temporary(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporaryDeliveryFailure, match="STARTTLS"):
        smtp_server.mailer(security="starttls").send(an_email())
    assert smtp_server.handler.received == []


def test_implicit_tls_to_a_plain_server_is_temporary(smtp_server: SmtpServer) -> None:
    context = ssl.create_default_context()
    with pytest.raises(TemporaryDeliveryFailure, match="SSL"):
        smtp_server.mailer(security="tls", ssl_context=context, timeout=2).send(an_email())


def test_a_login_is_sent_when_configured(smtp_server_with_logins: SmtpServer) -> None:
    with pytest.raises(DeliveryFailed, match="530"):
        smtp_server_with_logins.mailer().send(an_email())
    smtp_server_with_logins.mailer(username="ana", password="s3cret").send(an_email())
    assert len(smtp_server_with_logins.handler.received) == 1


def test_a_refused_login_is_temporary_as_the_settings_not_the_email_are_wrong() -> None:
    """Fix the password and the emails still go; a 535 is not the server's word on the email."""

    class RefusingLogin(smtplib.SMTP):
        def login(self, user: str, password: str, *, initial_response_ok: bool = True) -> tuple[int, bytes]:
            raise smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials")

    mailer = SmtpMailer(LOOPBACK, 2525, security="none", username="ana", password="wrong")
    mailer._connect = RefusingLogin  # type: ignore[method-assign]

    with pytest.raises(TemporaryDeliveryFailure, match=r"535 5\.7\.8 bad credentials") as failed:
        mailer.send(an_email())
    assert failed.value.smtp_code == 535


def test_accepted_is_accepted_even_if_quit_then_fails(smtp_server: SmtpServer) -> None:
    """After the server took the email, nothing may raise: a raise would send it again."""

    def quit_fails(self: smtplib.SMTP) -> tuple[int, bytes]:
        raise smtplib.SMTPServerDisconnected("gone")

    mailer = smtp_server.mailer()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smtplib.SMTP, "quit", quit_fails)
        mailer.send(an_email())
    assert len(smtp_server.handler.received) == 1


def test_a_collecting_mailer_still_is_a_mailer() -> None:
    assert isinstance(SmtpMailer("mail.example.com"), Mailer)
    assert isinstance(CollectingMailer(), Mailer)
    assert ACCEPT.startswith("250")

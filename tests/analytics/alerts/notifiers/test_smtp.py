"""The e-mail channel against a real SMTP server (aiosmtpd on loopback): AUTH, TLS, failures."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice, NoticeKind
from analytics.alerts.notifiers.message import subject_line
from analytics.alerts.notifiers.smtp import SmtpConfig, SmtpNotifier
from core.clock import ManualClock
from tests.analytics.alerts.notifiers.conftest import CERT, NOW, URL, make_notice
from tests.services import LOOPBACK, free_port

NB = "\u00a0"
SENDER = "Vigie <alertes@agglo.example>"
USER, PASSWORD = "vigie", "s3cret-relais"


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool
    tls: bool


class Inbox:
    """An aiosmtpd handler that refuses some recipients and keeps every accepted message."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.deliveries: list[Delivery] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.deliveries.append(
            Delivery(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                bool(session.authenticated),
                server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


def server_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT)
    return context


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    """A real SMTP server on a free loopback port, for the duration of the block."""
    controller = Controller(inbox, hostname=LOOPBACK, port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def notifier(port: int, **options: Any) -> SmtpNotifier:
    config = SmtpConfig(
        host=LOOPBACK, port=port, sender=SENDER, starttls=False, timeout_s=5.0, **options
    )
    return SmtpNotifier(config, clock=ManualClock(NOW))


def plain_body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def test_sends_a_french_email_with_the_key_numbers(notice: Notice) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        notifier(port).send(notice, "Service des eaux <eau@agglo.example>")
    [delivery] = inbox.deliveries
    assert delivery.mail_from == "alertes@agglo.example"
    assert delivery.rcpt_tos == ["eau@agglo.example"]
    message = delivery.message
    assert message["Subject"] == subject_line(notice)
    assert message["Subject"].startswith("[Vigie · critique] Nouvelle alerte : Fuite probable")
    assert message["From"] == SENDER
    assert message["To"] == "Service des eaux <eau@agglo.example>"
    assert message["Date"] == "Tue, 24 Nov 2026 09:00:00 +0100"  # the clock's time, in Paris
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Vigie-Event-Id"] == "42:opened:2026-11-24T07:30:00Z"
    body = plain_body(message)
    for expected in (
        "Depuis le            : 22/11/2026 à 03:00 (heure locale)",
        f"Débit estimé         : 1,25{NB}m³/h",
        f"Volume perdu estimé  : 1{NB}234,5{NB}m³",
        f"Coût estimé          : 4{NB}938,00{NB}€",
        "Gravité              : critique",
        f"Voir l'alerte : {URL}",
    ):
        assert expected in body
    html = message.get_body(("html",))
    assert html is not None and f"4{NB}938,00{NB}€" in html.get_content()


def test_every_notice_of_an_alert_threads_under_one_root_and_keeps_its_own_id() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        sender = notifier(port)
        sender.send(make_notice(), "eau@agglo.example")
        sender.send(make_notice(), "eau@agglo.example")  # a retry of the same notice
        sender.send(make_notice(kind=NoticeKind.ESCALATED), "eau@agglo.example")
    ids = [d.message["Message-ID"] for d in inbox.deliveries]
    assert ids[0] == ids[1] == "<vigie.42.opened.1795505400@agglo.example>"
    assert ids[2] == "<vigie.42.escalated.1795505400@agglo.example>"
    assert {d.message["References"] for d in inbox.deliveries} == {"<vigie.42@agglo.example>"}


def test_several_recipients_in_one_destination(notice: Notice) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        notifier(port).send(notice, "eau@agglo.example, Astreinte <astreinte@agglo.example>")
    [delivery] = inbox.deliveries
    assert delivery.rcpt_tos == ["eau@agglo.example", "astreinte@agglo.example"]


def test_a_refused_recipient_is_an_error_with_the_servers_reason(notice: Notice) -> None:
    inbox = Inbox(refuse=frozenset({"parti@agglo.example"}))
    with smtp_server(inbox) as port, pytest.raises(NotifyError) as error:
        notifier(port).send(notice, "parti@agglo.example")
    assert "parti@agglo.example (550 5.1.1 Destinataire inconnu)" in str(error.value)
    assert inbox.deliveries == []


def test_a_partly_refused_destination_is_still_an_error(notice: Notice) -> None:
    inbox = Inbox(refuse=frozenset({"parti@agglo.example"}))
    with smtp_server(inbox) as port, pytest.raises(NotifyError) as error:
        notifier(port).send(notice, "eau@agglo.example, parti@agglo.example")
    assert "parti@agglo.example" in str(error.value)
    assert "the other recipients accepted it" in str(error.value)
    assert [d.rcpt_tos for d in inbox.deliveries] == [["eau@agglo.example"]]


def test_server_down_is_an_error(notice: Notice) -> None:
    with pytest.raises(NotifyError, match="connection refused"):
        notifier(free_port()).send(notice, "eau@agglo.example")


def test_a_server_that_never_greets_times_out(notice: Notice) -> None:
    # The kernel completes the TCP handshake on a listening socket nobody accepts from: the
    # client then waits for a 220 greeting that never comes.
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        config = SmtpConfig(host=LOOPBACK, port=port, sender=SENDER, starttls=False, timeout_s=0.3)
        with pytest.raises(NotifyError, match=r"no answer within 0\.3 s"):
            SmtpNotifier(config).send(notice, "eau@agglo.example")


def test_a_destination_without_an_address_is_an_error(notice: Notice) -> None:
    with pytest.raises(NotifyError, match="no e-mail address"):
        notifier(free_port()).send(notice, "service des eaux")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_on_a_relay_that_requires_it(notice: Notice) -> None:
    inbox = Inbox()
    options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    with smtp_server(inbox, **options) as port:
        notifier(port, username=USER, password=PASSWORD).send(notice, "eau@agglo.example")
        with pytest.raises(NotifyError, match=r"authentication refused \(535"):
            notifier(port, username=USER, password="faux").send(notice, "eau@agglo.example")
        with pytest.raises(NotifyError, match="530"):  # no login at all
            notifier(port).send(notice, "eau@agglo.example")
    [delivery] = inbox.deliveries
    assert delivery.authenticated


def test_starttls_then_login(notice: Notice) -> None:
    inbox = Inbox()
    options = {
        "authenticator": authenticator,
        "auth_required": True,
        "tls_context": server_tls(),
        "require_starttls": True,
    }
    with smtp_server(inbox, **options) as port:
        config = SmtpConfig(
            host=LOOPBACK,
            port=port,
            sender=SENDER,
            starttls=True,
            ca_file=str(CERT),
            username=USER,
            password=PASSWORD,
            timeout_s=5.0,
        )
        SmtpNotifier(config, clock=ManualClock(NOW)).send(notice, "eau@agglo.example")
    [delivery] = inbox.deliveries
    assert delivery.tls and delivery.authenticated


def test_starttls_with_an_untrusted_certificate_is_an_error(notice: Notice) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls(), require_starttls=True) as port:
        # No ca_file: the system's CAs do not know the test certificate.
        config = SmtpConfig(host=LOOPBACK, port=port, sender=SENDER, timeout_s=5.0)
        with pytest.raises(NotifyError, match="TLS failed"):
            SmtpNotifier(config).send(notice, "eau@agglo.example")
    assert inbox.deliveries == []


def test_starttls_required_but_not_offered_is_an_error(notice: Notice) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        config = SmtpConfig(host=LOOPBACK, port=port, sender=SENDER, timeout_s=5.0)
        with pytest.raises(NotifyError, match="not offered by the server: STARTTLS"):
            SmtpNotifier(config).send(notice, "eau@agglo.example")
    assert inbox.deliveries == []  # never falls back to plain text


def test_implicit_tls(notice: Notice) -> None:
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_tls()) as port:
        config = SmtpConfig(
            host=LOOPBACK,
            port=port,
            sender=SENDER,
            starttls=False,
            ssl=True,
            ca_file=str(CERT),
            timeout_s=5.0,
        )
        SmtpNotifier(config).send(notice, "eau@agglo.example")
    [delivery] = inbox.deliveries
    assert delivery.tls


def test_config_refuses_both_tls_modes_and_a_sender_without_address() -> None:
    with pytest.raises(ValueError, match="not both"):
        SmtpConfig(host=LOOPBACK, sender=SENDER, starttls=True, ssl=True)
    with pytest.raises(ValueError, match="no e-mail address"):
        SmtpConfig(host=LOOPBACK, sender="Vigie")


def test_the_password_stays_out_of_reprs() -> None:
    config = SmtpConfig(host=LOOPBACK, sender=SENDER, username=USER, password=PASSWORD)
    assert PASSWORD not in repr(config)


def test_naive_times_are_taken_as_utc() -> None:
    inbox = Inbox()
    naive = make_notice(start=datetime(2026, 11, 22, 2, 0), last_seen=datetime(2026, 11, 24, 7, 30))
    with smtp_server(inbox) as port:
        notifier(port).send(naive, "eau@agglo.example")
    [delivery] = inbox.deliveries
    assert "22/11/2026 à 03:00" in plain_body(delivery.message)
    expected = int(datetime(2026, 11, 24, 7, 30, tzinfo=UTC).timestamp())
    assert delivery.message["Message-ID"] == f"<vigie.42.opened.{expected}@agglo.example>"

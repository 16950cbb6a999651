"""E-mail channel: one French message per notice, sent through an SMTP relay with smtplib."""

from __future__ import annotations

import smtplib
import socket
import ssl
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from zoneinfo import ZoneInfo

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice
from analytics.alerts.notifiers.message import as_utc, render
from analytics.alerts.notifiers.payload import event_id
from core.clock import Clock, SystemClock


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    """How to reach the relay. ``starttls`` upgrades a plain connection (port 587); ``ssl`` is TLS
    from the first byte (port 465); ``ca_file`` trusts a private CA (an internal relay) instead of
    the system's. Login happens only when ``username`` is set. ``timeout_s`` bounds each network
    step (connect, every command), not the whole exchange."""

    host: str
    sender: str  # the From header and envelope sender, e.g. "Vigie <alertes@agglo.example>"
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    ssl: bool = False
    ca_file: str | None = None
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise ValueError("choose starttls (upgrade, port 587) or ssl (port 465), not both")
        if "@" not in parseaddr(self.sender)[1]:
            raise ValueError(f"sender {self.sender!r} has no e-mail address")


class SmtpNotifier:
    """Sends each notice as a multipart (plain text + HTML) e-mail to the destination address
    (or comma-separated addresses). A connection per notice: alerts are rare, and a fresh
    connection never fails on a relay that closed an idle one."""

    def __init__(self, config: SmtpConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._domain = parseaddr(config.sender)[1].rpartition("@")[2]
        # Built once: a missing or unreadable ca_file is a configuration error, seen at start-up.
        self._tls = (
            ssl.create_default_context(cafile=config.ca_file)
            if config.starttls or config.ssl
            else None
        )

    @property
    def channel(self) -> str:
        return "email"

    def message(self, notice: Notice, recipients: list[tuple[str, str]]) -> EmailMessage:
        """The e-mail of ``notice`` for ``recipients`` ((name, address) pairs), as it is sent."""
        rendered = render(notice)
        message = EmailMessage()
        message["Subject"] = rendered.subject
        message["From"] = self._config.sender
        message["To"] = ", ".join(formataddr(r) for r in recipients)
        message["Date"] = format_datetime(
            as_utc(self._clock.now()).astimezone(ZoneInfo(notice.zone))
        )
        # Same notice, same Message-ID: a retried delivery can be recognised as a duplicate.
        # All notices of one alert reference one root id, so mail clients thread them.
        stamp = int(as_utc(notice.last_seen).timestamp())
        message["Message-ID"] = (
            f"<vigie.{notice.alert_id}.{notice.kind.value}.{stamp}@{self._domain}>"
        )
        message["References"] = f"<vigie.{notice.alert_id}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        message["X-Vigie-Event-Id"] = event_id(notice)
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    def send(self, notice: Notice, destination: str) -> None:
        recipients = [(name, addr) for name, addr in getaddresses([destination]) if "@" in addr]
        if not recipients:
            raise NotifyError(f"no e-mail address in destination {destination!r}")
        try:
            message = self.message(notice, recipients)
        except ValueError as exc:  # a header the email package refuses
            raise NotifyError(f"cannot build the e-mail: {exc}") from exc
        config = self._config
        where = f"SMTP {config.host}:{config.port}"
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            if config.starttls:
                smtp.starttls(context=self._tls)
            if config.username:
                smtp.login(config.username, config.password or "")
            refused = smtp.send_message(
                message,
                from_addr=parseaddr(config.sender)[1],
                to_addrs=[addr for _, addr in recipients],
            )
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"{where}: {_reason(exc, config.timeout_s)}") from exc
        finally:
            if smtp is not None:
                _close(smtp)
        if refused:
            # Some recipients have it, others not: say so rather than report a success.
            raise NotifyError(f"{where}: {_refusals(refused)}; the other recipients accepted it")

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        if config.ssl:
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_s, context=self._tls
            )
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)


def _close(smtp: smtplib.SMTP) -> None:
    # The message is delivered (or not) before QUIT: a relay that drops the line on QUIT must not
    # turn a delivered notice into an error, and so into a duplicate on retry.
    with suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    with suppress(OSError):
        smtp.close()


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = [f"{addr} ({code} {_text(msg)})" for addr, (code, msg) in refused.items()]
    return "recipient refused: " + "; ".join(parts)


def _reason(exc: BaseException, timeout_s: float) -> str:
    """What went wrong, in words an operator can act on."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refusals(exc.recipients)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication refused ({exc.smtp_code} {_text(exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused ({exc.smtp_code} {_text(exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"not offered by the server: {exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into "Connection unexpectedly closed: timed out".
        if isinstance(exc.__context__, TimeoutError):
            return f"no answer within {timeout_s:g} s"
        return f"server closed the connection ({exc})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (server down?)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())

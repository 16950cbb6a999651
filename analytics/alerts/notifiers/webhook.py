"""Webhook channel: POST the notice as JSON, signed with HMAC-SHA256 over timestamp and body.

Headers sent with every request:

- ``X-Vigie-Timestamp``: unix seconds when the request was signed (from the injected clock);
- ``X-Vigie-Signature``: ``sha256=`` + hex HMAC-SHA256, key = the shared secret, message =
  ``<X-Vigie-Timestamp> + "." + <raw body bytes>``;
- ``X-Vigie-Event`` (``opened``, ``worsened``, ``escalated``, ``resolved``) and
  ``X-Vigie-Event-Id`` (``"<alert_id>:<event>:<last_seen>"``, the body's ``id``).

A receiver verifies before parsing (:func:`verify_signature` does all of it):

1. read the raw body bytes, before any JSON parsing or re-encoding;
2. recompute the HMAC over ``timestamp + "." + body`` and compare it in constant time with the
   header's hex digest;
3. reject a timestamp more than 5 minutes away from its own clock (a captured request replayed
   later fails, since changing the timestamp breaks the signature);
4. drop a request whose ``id`` it has already processed: Vigie retries until it gets a 2xx, so the
   same notice can arrive more than once.

The fields of the body and a recipe in shell are in ``docs/alerts-webhook.md``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice
from analytics.alerts.notifiers.payload import encode, event_id
from core.clock import Clock, SystemClock

SIGNATURE_HEADER = "X-Vigie-Signature"
TIMESTAMP_HEADER = "X-Vigie-Timestamp"
EVENT_HEADER = "X-Vigie-Event"
EVENT_ID_HEADER = "X-Vigie-Event-Id"
USER_AGENT = "Vigie-Alerts/1"


class WebhookStatusError(NotifyError):
    """The receiver answered, but not with a 2xx. ``status`` lets a caller tell a refusal (4xx)
    from a passing failure (429, 5xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Vigie-Signature`` value: ``sha256=<hex HMAC-SHA256(secret, timestamp "." body)>``."""
    digest = hmac.new(_key(secret), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes,
    header: str,
    now: datetime | float,
    tolerance_s: float = 300,
) -> bool:
    """Whether ``header`` is Vigie's signature of ``body`` at ``timestamp`` with ``secret``, and
    ``timestamp`` (unix seconds, as received) is within ``tolerance_s`` of ``now`` (a datetime or
    unix seconds) either way."""
    stamp = str(timestamp).strip()
    if not (stamp.isascii() and stamp.isdigit()):
        return False
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(now_s - int(stamp)) > tolerance_s:
        return False
    scheme, _, digest = header.strip().partition("=")
    if scheme != "sha256" or not digest:
        return False
    expected = sign(secret, stamp, body).partition("=")[2]
    return hmac.compare_digest(expected, digest.lower())


class WebhookNotifier:
    """POSTs each notice to the destination URL; anything but a 2xx is a :class:`NotifyError`.

    One secret for all destinations of this notifier. Redirects are not followed (a 3xx is an
    error): a moved receiver should be re-configured, not silently chased. ``timeout_s`` bounds
    each network step (connect, write, read), not the whole exchange.
    """

    def __init__(
        self,
        secret: str,
        *,
        clock: Clock | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required: an empty HMAC key signs nothing")
        self._secret = secret
        self._clock = clock or SystemClock()
        self._timeout_s = timeout_s
        self._client = httpx.Client(
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    @property
    def channel(self) -> str:
        return "webhook"

    def send(self, notice: Notice, destination: str) -> None:
        body = encode(notice)
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            EVENT_HEADER: notice.kind.value,
            EVENT_ID_HEADER: event_id(notice),
        }
        where = _origin(destination)
        try:
            response = self._client.post(destination, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise NotifyError(
                f"webhook {where} did not answer within {self._timeout_s:g} s"
                f" ({type(exc).__name__})"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            reason = str(exc) or type(exc).__name__
            raise NotifyError(f"webhook {where} unreachable: {reason}") from exc
        if not response.is_success:
            excerpt = " ".join(response.text[:200].split())
            raise WebhookStatusError(
                f"webhook {where} answered HTTP {response.status_code}"
                + (f": {excerpt}" if excerpt else ""),
                response.status_code,
            )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _origin(url: str) -> str:
    # Webhook URLs often carry a token in their path or query: errors (and so logs) show only
    # scheme, host and port.
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}" if parsed.host else "<invalid URL>"

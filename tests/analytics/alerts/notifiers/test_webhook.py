"""The webhook channel against a real HTTP server on loopback: signed JSON, replays, failures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice, NoticeKind
from analytics.alerts.notifiers.payload import encode, event_id
from analytics.alerts.notifiers.webhook import (
    WebhookNotifier,
    WebhookStatusError,
    sign,
    verify_signature,
)
from core.clock import ManualClock
from tests.analytics.alerts.conftest import PATH, Receiver
from tests.analytics.alerts.notifiers.conftest import NOW, URL, make_notice
from tests.services import LOOPBACK, free_port

SECRET = "partagé-entre-vigie-et-le-récepteur"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def webhook(clock: ManualClock) -> Iterator[WebhookNotifier]:
    with WebhookNotifier(SECRET, clock=clock, timeout_s=5.0) as notifier:
        yield notifier


def test_posts_the_notice_as_signed_json(
    receiver: Receiver, webhook: WebhookNotifier, clock: ManualClock, notice: Notice
) -> None:
    webhook.send(notice, receiver.url)
    [request] = receiver.requests
    assert request.path == PATH
    headers = request.headers
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Vigie-Timestamp"] == str(int(NOW.timestamp())) == "1795507200"
    assert headers["X-Vigie-Signature"].startswith("sha256=")
    assert headers["X-Vigie-Event"] == "opened"
    assert headers["X-Vigie-Event-Id"] == "42:opened:2026-11-24T07:30:00Z"
    assert verify_signature(
        SECRET,
        headers["X-Vigie-Timestamp"],
        request.body,
        headers["X-Vigie-Signature"],
        clock.now(),
    )
    assert request.body == encode(notice)


def test_body_fields(receiver: Receiver, webhook: WebhookNotifier, notice: Notice) -> None:
    webhook.send(notice, receiver.url)
    document = json.loads(receiver.requests[0].body)
    assert document == {
        "version": 1,
        "id": "42:opened:2026-11-24T07:30:00Z",
        "event": "opened",
        "alert_id": 42,
        "type": "sector_leak",
        "title": "Fuite probable sur le réseau du secteur",
        "severity": "critical",
        "status": "open",
        "tenant": "caudry",
        "subject_kind": "sector",
        "subject": "nord",
        "start": "2026-11-22T02:00:00Z",
        "last_seen": "2026-11-24T07:30:00Z",
        "estimates": {"flow_lph": 1250.0, "volume_m3": 1234.5, "cost_eur": 4938.0},
        "evidence": {"night_min_lph": [310.0, 1560.0, 1250.0], "baseline_lph": 310.0},
        "url": URL,
        "text": (
            "[Vigie · critique] Nouvelle alerte : Fuite probable sur le réseau du secteur"
            " — secteur nord (caudry)"
        ),
        "resolution": None,
        "suppressed_until": None,
    }


def test_evidence_near_misses_become_valid_json() -> None:
    notice = make_notice(evidence={"t": NOW, "gap": float("nan"), "pair": (1, 2), 3: "x"})
    assert json.loads(encode(notice))["evidence"] == {
        "t": "2026-11-24T08:00:00Z",
        "gap": None,
        "pair": [1, 2],
        "3": "x",
    }


def test_event_id_names_the_lifecycle_step_and_time() -> None:
    assert event_id(make_notice()) == event_id(make_notice())  # a retry is recognisable
    assert event_id(make_notice(kind=NoticeKind.RESOLVED)) == "42:resolved:2026-11-24T07:30:00Z"
    later = make_notice(last_seen=NOW)
    assert event_id(later) == "42:opened:2026-11-24T08:00:00Z"


def signed(receiver: Receiver) -> tuple[str, bytes, str]:
    request = receiver.requests[0]
    return request.headers["X-Vigie-Timestamp"], request.body, request.headers["X-Vigie-Signature"]


@pytest.mark.parametrize("delta_s", [0, 300, -300])
def test_signature_holds_within_five_minutes_either_way(
    receiver: Receiver, webhook: WebhookNotifier, notice: Notice, delta_s: int
) -> None:
    webhook.send(notice, receiver.url)
    timestamp, body, header = signed(receiver)
    assert verify_signature(SECRET, timestamp, body, header, NOW + timedelta(seconds=delta_s))


Signed = tuple[str, bytes, str, str]  # timestamp, body, signature header, secret


@pytest.mark.parametrize(
    ("change", "delta_s"),
    [
        pytest.param(lambda t, b, h, s: (t, b.replace(b"1234.5", b"12.5"), h, s), 0, id="body"),
        pytest.param(lambda t, b, h, s: (t, b, h, "un-autre-secret"), 0, id="secret"),
        pytest.param(lambda t, b, h, s: (t, b, h, s), 301, id="replayed-late"),
        pytest.param(lambda t, b, h, s: (t, b, h, s), -301, id="from-the-future"),
        pytest.param(lambda t, b, h, s: (str(int(t) + 60), b, h, s), 0, id="timestamp"),
        pytest.param(lambda t, b, h, s: ("17955e5", b, h, s), 0, id="timestamp-not-a-number"),
        pytest.param(lambda t, b, h, s: (t, b, h.replace("sha256=", "sha1="), s), 0, id="scheme"),
        pytest.param(lambda t, b, h, s: (t, b, "sha256=", s), 0, id="empty-digest"),
    ],
)
def test_signature_fails_when_anything_changes(
    receiver: Receiver,
    webhook: WebhookNotifier,
    notice: Notice,
    change: Callable[[str, bytes, str, str], Signed],
    delta_s: int,
) -> None:
    webhook.send(notice, receiver.url)
    timestamp, body, header = signed(receiver)
    assert verify_signature(SECRET, timestamp, body, header, NOW)  # the original holds
    timestamp, body, header, secret = change(timestamp, body, header, SECRET)
    assert not verify_signature(secret, timestamp, body, header, NOW + timedelta(seconds=delta_s))


def test_signature_recipe_is_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"{}") == f"sha256={expected}"
    assert verify_signature(b"k", 1700000000, b"{}", f"sha256={expected.upper()}", 1700000000.0)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_a_delivery(
    receiver: Receiver, webhook: WebhookNotifier, notice: Notice, status: int
) -> None:
    receiver.status = status
    webhook.send(notice, receiver.url)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 410, 429, 500, 503])
def test_a_non_2xx_answer_is_an_error_with_its_status(
    receiver: Receiver, webhook: WebhookNotifier, notice: Notice, status: int
) -> None:
    receiver.status = status
    with pytest.raises(WebhookStatusError) as error:
        webhook.send(notice, receiver.url)
    assert isinstance(error.value, NotifyError)
    assert error.value.status == status
    assert f"answered HTTP {status}" in str(error.value)
    assert '{"erreur": "indisponible"}' in str(error.value)


def test_errors_do_not_reveal_the_token_in_the_url(
    receiver: Receiver, webhook: WebhookNotifier, notice: Notice
) -> None:
    receiver.status = 500
    with pytest.raises(NotifyError) as error:
        webhook.send(notice, receiver.url)
    assert "T0KEN-SECRET" not in str(error.value) and "abc123" not in str(error.value)
    assert f"http://{LOOPBACK}:" in str(error.value)


def test_a_redirect_is_not_followed(
    receiver: Receiver, webhook: WebhookNotifier, notice: Notice
) -> None:
    receiver.status = 307
    receiver.headers = {"Location": receiver.url}
    with pytest.raises(WebhookStatusError, match="HTTP 307"):
        webhook.send(notice, receiver.url)
    assert len(receiver.requests) == 1


def test_connection_refused_is_an_error(webhook: WebhookNotifier, notice: Notice) -> None:
    with pytest.raises(NotifyError, match="unreachable"):
        webhook.send(notice, f"http://{LOOPBACK}:{free_port()}/hooks")


def test_a_slow_receiver_times_out(receiver: Receiver, clock: ManualClock, notice: Notice) -> None:
    receiver.hold = threading.Event()
    with (
        WebhookNotifier(SECRET, clock=clock, timeout_s=0.3) as slow,
        pytest.raises(NotifyError, match=r"did not answer within 0\.3 s"),
    ):
        slow.send(notice, receiver.url)
    receiver.hold.set()
    assert len(receiver.requests) == 1  # it did arrive: the answer was what never came


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/hooks", ""])
def test_a_bad_url_is_an_error(webhook: WebhookNotifier, notice: Notice, url: str) -> None:
    with pytest.raises(NotifyError):
        webhook.send(notice, url)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookNotifier("")

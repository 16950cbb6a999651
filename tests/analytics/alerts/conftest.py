"""Alert-engine fixtures (state stores come from tests/state_fixtures.py): a manual clock, a
recording notifier (a real implementation of the Notifier protocol that keeps what it sends),
and a real HTTP server on loopback that receives webhooks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice
from core.clock import ManualClock
from tests.services import LOOPBACK

PATH = "/hooks/vigie/T0KEN-SECRET?key=abc123"

# A Monday at 10:00 in Paris (winter time): outside the default quiet hours.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class RecordingNotifier:
    """Keeps every (notice, destination) it delivers; fails the next ``failures`` sends."""

    def __init__(self, channel: str, failures: int = 0) -> None:
        self._channel = channel
        self.failures = failures
        self.sent: list[tuple[Notice, str]] = []

    @property
    def channel(self) -> str:
        return self._channel

    def send(self, notice: Notice, destination: str) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise NotifyError(f"{destination}: 451 try again later")
        self.sent.append((notice, destination))

    def to(self, destination: str) -> list[Notice]:
        return [n for n, d in self.sent if d == destination]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the test server answers, and what it received."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None  # when set: answer only once the test releases it
    delay_s: float = 0.0  # answer this much later: a receiver as slow as a real one
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.requests.append(Request(self.path, dict(self.headers.items()), body))
            if state.delay_s:
                time.sleep(state.delay_s)  # the server's pace, not the test's clock
            if state.hold is not None:
                state.hold.wait(timeout=10)  # bounded: the test releases it right after
            reply = b'{"erreur": "indisponible"}' if state.status >= 300 else b""
            try:
                self.send_response(state.status)
                for name, value in state.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client that timed out has gone: expected in the slow-receiver test

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}{PATH}"
    # A short poll interval: shutdown() waits for the serving loop to notice it.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    if state.hold is not None:
        state.hold.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)

"""Alert-engine fixtures (state stores come from tests/state_fixtures.py): a manual clock, and a
recording notifier (a real implementation of the Notifier protocol that keeps what it sends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice
from core.clock import ManualClock

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

"""How a periodic runner is doing: when its last pass ran, whether it worked, whether it is late."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from core.health import PartState, PartStatus, age_s

# Late: no pass completed for this many periods (a pass over 35 days of water data takes a while).
LATE_PERIODS = 3
# Failing: this many passes in a row ended in an error.
FAILING_PASSES = 3


class PassHealth:
    """Thread-safe record of a runner's passes; ``status`` judges it."""

    def __init__(self, name: str, now: datetime, every_s: float) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._created = now
        self._late = timedelta(seconds=max(LATE_PERIODS * every_s, 600.0))
        self._running_since: datetime | None = None
        self._last_ok: datetime | None = None
        self._last_end: datetime | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._ended = False

    def started(self, now: datetime) -> None:
        with self._lock:
            self._running_since = now

    def finished(self, now: datetime, error: str | None) -> None:
        """A pass ended; ``error`` says what failed in it (None: it all worked)."""
        with self._lock:
            self._running_since, self._last_end = None, now
            if error is None:
                self._last_ok, self._last_error, self._failures = now, None, 0
            else:
                self._last_error, self._failures = error, self._failures + 1

    def ended(self) -> None:
        with self._lock:
            self._ended = True

    def status(self, now: datetime) -> PartStatus:
        with self._lock:
            facts = {
                "last_pass_age_s": age_s(now, self._last_end),
                "last_good_pass_age_s": age_s(now, self._last_ok),
                "pass_running_s": age_s(now, self._running_since),
                "failed_passes": self._failures,
            }
            state, detail = self._judge(now)
        ok = state in (PartState.RUNNING, PartState.RETRYING, PartState.STARTING)
        return PartStatus(self.name, state, ok, detail, facts)

    def _judge(self, now: datetime) -> tuple[PartState, str]:
        if self._ended:
            return PartState.STOPPED, "the runner has stopped"
        if self._failures >= FAILING_PASSES:
            return PartState.STUCK, f"{self._failures} passes failed in a row: {self._last_error}"
        since = self._last_ok or self._created
        if now - since > self._late:
            what = "no pass has completed" if self._last_ok is None else "no good pass"
            return PartState.STUCK, f"{what} for {age_s(now, since):.0f} s"
        if self._last_error is not None:
            return PartState.RETRYING, f"last pass failed: {self._last_error}"
        if self._last_end is None:
            return PartState.STARTING, "first pass running"
        return PartState.RUNNING, ""

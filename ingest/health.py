"""The ingest worker's vital signs: connected, making batches durable, retrying, stuck or failed.

The worker and the MQTT network thread record what happens; ``/health`` and ``/metrics`` read it.
Down: no broker connection for longer than ``down_after_s`` (from the start, or from the loss).
Stuck: a batch taken from the broker and not durable after ``stuck_after_s`` — whatever the cause
(a store, a state store or a disk that fails in a way the worker keeps retrying). Both are not ok:
a process whose ingest is down or stuck answers 503 so that a supervisor or an operator acts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from core.health import PartState, PartStatus, age_s


class IngestHealth:
    """Thread-safe record of one consumer's life; ``status`` turns it into a PartStatus."""

    name = "ingest"

    def __init__(
        self,
        now: datetime,
        *,
        down_after_s: float,
        stuck_after_s: float,
        spool_depth: Callable[[], int] = lambda: 0,
    ) -> None:
        self._lock = threading.Lock()
        self._down_after = timedelta(seconds=down_after_s)
        self._stuck_after = timedelta(seconds=stuck_after_s)
        self._spool_depth = spool_depth
        self._started = now
        self._connected = False
        self._ever_connected = False
        self._disconnected_at: datetime | None = now
        self._last_durable: datetime | None = None
        self._busy_since: datetime | None = None
        self._failure: str | None = None
        self._retries = 0
        self._final: tuple[PartState, str] | None = None

    # -- what happens -------------------------------------------------------------------------

    def connected(self, now: datetime) -> None:
        with self._lock:
            self._connected, self._disconnected_at = True, None
            self._ever_connected = True

    def disconnected(self, now: datetime) -> None:
        with self._lock:
            if self._connected:
                self._connected, self._disconnected_at = False, now

    def took(self, now: datetime) -> None:
        """A batch was taken from the broker: it is pending until durable."""
        with self._lock:
            if self._busy_since is None:
                self._busy_since = now

    def durable(self, now: datetime) -> None:
        with self._lock:
            self._last_durable, self._busy_since = now, None
            self._failure, self._retries = None, 0

    def retrying(self, why: str) -> None:
        with self._lock:
            self._failure = why
            self._retries += 1

    def recovered(self) -> None:
        with self._lock:
            self._failure, self._retries = None, 0

    def ended(self, state: PartState, why: str) -> None:
        """The worker stopped: on request (STOPPED) or for good (FAILED)."""
        with self._lock:
            self._final = (state, why)

    # -- what it comes to ---------------------------------------------------------------------

    def status(self, now: datetime) -> PartStatus:
        with self._lock:
            facts = {
                "connected": self._connected,
                "disconnected_s": age_s(now, self._disconnected_at),
                "last_durable_batch_age_s": age_s(now, self._last_durable),
                "pending_batch_age_s": age_s(now, self._busy_since),
                "spool_readings": self._spool_depth(),
                "retries": self._retries,
            }
            state, detail = self._judge(now)
        ok = state in (PartState.RUNNING, PartState.RETRYING, PartState.STARTING)
        return PartStatus(self.name, state, ok, detail, facts)

    def _judge(self, now: datetime) -> tuple[PartState, str]:
        if self._final is not None:
            return self._final
        if self._busy_since is not None and now - self._busy_since > self._stuck_after:
            why = f"; last error: {self._failure}" if self._failure else ""
            return PartState.STUCK, (
                f"a batch has waited {age_s(now, self._busy_since):.0f} s to be made durable{why}"
            )
        if not self._connected:
            assert self._disconnected_at is not None
            if now - self._disconnected_at > self._down_after:
                what = "disconnected from" if self._ever_connected else "never connected to"
                return PartState.DOWN, (
                    f"{what} the MQTT broker for {age_s(now, self._disconnected_at):.0f} s"
                )
            if not self._ever_connected:
                return PartState.STARTING, "connecting to the MQTT broker"
            return PartState.RETRYING, "reconnecting to the MQTT broker"
        if self._failure is not None:
            return PartState.RETRYING, f"retry {self._retries}: {self._failure}"
        return PartState.RUNNING, ""

"""Token buckets per client address, for the public routes (hub screens, open-data feeds)."""

from __future__ import annotations

import threading
from datetime import datetime

from core.clock import Clock


class TokenBuckets:
    """``rate`` requests a second per client, in bursts of up to ``burst``.

    In-process and in memory: each API process limits on its own, which is what a small
    deployment needs; behind a load balancer, limit there too. Buckets of clients quiet for
    long are dropped when there are too many (a flood of addresses cannot grow memory).
    """

    MAX_CLIENTS = 50_000

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, datetime]] = {}

    def take(self, client: str) -> float | None:
        """None when the request may go, else the seconds to wait before the next one."""
        now = self._clock.now()
        with self._lock:
            tokens, at = self._buckets.get(client, (self._burst, now))
            elapsed = max((now - at).total_seconds(), 0.0)
            tokens = min(self._burst, tokens + elapsed * self._rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self._rate
            if len(self._buckets) >= self.MAX_CLIENTS and client not in self._buckets:
                self._buckets.clear()
            self._buckets[client] = (tokens - 1.0, now)
            return None

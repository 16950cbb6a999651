"""The last stage: readings durable in the store, or in the outage spool behind it.

While the spool holds anything, new readings queue behind it (arrival order); an outage
(``StoreUnavailable``) spools the batch and sets when to try the store again; ``drain`` replays
the spool oldest first. What the store refuses comes back to the caller, to be dead-lettered.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.clock import Clock
from core.reading import Reading
from core.state.dead_letter_store import DeadLetterStore
from core.timeseries import Rejected, StoreUnavailable, TimeSeriesStore
from ingest.batch import Outcome
from ingest.letters import Letters
from ingest.metrics import IngestMetrics
from ingest.spool import Spool

log = logging.getLogger(__name__)


class Writer:
    """Writes to the store or the spool; owns the spool and the outage's retry time."""

    def __init__(
        self,
        store: TimeSeriesStore,
        spool: Spool,
        letters: DeadLetterStore,
        clock: Clock,
        metrics: IngestMetrics,
        retry_s: float,
    ) -> None:
        self._store = store
        self._spool = spool
        self._dead = letters
        self._letters = Letters(clock)
        self._clock = clock
        self._metrics = metrics
        self._retry_s = retry_s
        self._retry_at: datetime | None = None

    @property
    def depth(self) -> int:
        return self._spool.depth

    def close(self) -> None:
        self._spool.close()

    def write(
        self, readings: list[Reading], tags: dict[str, dict[str, str]], outcome: Outcome
    ) -> list[Rejected]:
        """Readings durable (stored or spooled); those the store refused."""
        if not readings:
            return []
        if self._spool.depth:  # keep arrival order: new readings queue behind the spooled ones
            return self._spooled(readings, tags, outcome)
        try:
            result = self._store.write(readings, tags)
        except StoreUnavailable as exc:
            log.warning("store unavailable, spooling %d readings: %s", len(readings), exc)
            self._retry_at = self._clock.now() + timedelta(seconds=self._retry_s)
            return self._spooled(readings, tags, outcome)
        outcome.stored += result.accepted
        self._metrics.readings.labels("store").inc(result.accepted)
        return result.rejected

    def _spooled(
        self, readings: list[Reading], tags: dict[str, dict[str, str]], outcome: Outcome
    ) -> list[Rejected]:
        self._spool.put(readings, tags)
        outcome.spooled += len(readings)
        self._metrics.readings.labels("spool").inc(len(readings))
        return []

    def drain(self, max_batches: int = 50) -> int:
        """Replay spooled batches, oldest first, while the store takes them; readings replayed."""
        now = self._clock.now()
        if not self._spool.depth or (self._retry_at is not None and now < self._retry_at):
            return 0
        replayed = 0
        for _ in range(max_batches):
            head = self._spool.head()
            if head is None:
                break
            try:
                result = self._store.write(head.readings, head.tags)
            except StoreUnavailable:
                self._retry_at = self._clock.now() + timedelta(seconds=self._retry_s)
                break
            if result.rejected:
                self._dead.add([self._letters.spooled_rejected(result.rejected, head.tags)])
            self._spool.pop(head)
            replayed += result.accepted
            self._metrics.readings.labels("store").inc(result.accepted)
        self._metrics.spool_depth.set(self._spool.depth)
        if not self._spool.depth:
            self._retry_at = None
            log.info("spool drained")
        return replayed

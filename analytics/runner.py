"""The analytics runner: every few minutes, each watch looks at what is new, then alerts go out."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from analytics.alerts.dispatcher import Dispatcher, DispatchReport
from analytics.alerts.engine import AlertEngine
from analytics.pass_health import PassHealth
from analytics.watch.base import Watch
from core.clock import Clock
from core.health import PartStatus
from core.state.checkpoints import Checkpoints
from core.timeseries import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one pass did: alert changes per history step, per-watch counts, failures."""

    changes: Counter[str] = field(default_factory=Counter)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    dispatch: DispatchReport | None = None


class AnalyticsRunner:
    """Runs the watches in turn, applies what they found, escalates, and dispatches notices.

    A watch's checkpoint (watermark and detector state) is saved only after the engine applied
    its findings: a crash in between means the next pass redoes the work, and the engine's
    one-open-alert-per-subject rule makes that harmless.
    """

    name = "analytics"

    def __init__(
        self,
        watches: Sequence[Watch],
        engine: AlertEngine,
        dispatcher: Dispatcher | None,
        checkpoints: Checkpoints,
        clock: Clock,
        *,
        every_s: float = 300.0,
        wall_clock: Clock | None = None,
    ) -> None:
        self._watches = list(watches)
        self._engine = engine
        self._dispatcher = dispatcher
        self._checkpoints = checkpoints
        self._clock = clock
        self._every_s = every_s
        # Liveness in wall time, which ``clock`` need not be (the demo's runs faster).
        self._wall = wall_clock or clock
        self.health = PassHealth(self.name, self._wall.now(), every_s)

    def status(self, now: datetime) -> PartStatus:
        return self.health.status(now)

    def tick(self) -> TickReport:
        report = TickReport()
        for watch in self._watches:
            now = self._clock.now()
            saved = self._checkpoints.load(watch.name)
            since = saved.watermark if saved else None
            try:
                result = watch.run(now, since, dict(saved.document) if saved else {})
            except StoreUnavailable as exc:
                # The store is down: nothing is lost, the next pass reads from the same point.
                report.failed[watch.name] = str(exc)
                log.warning("analytics: %s skipped, store unavailable: %s", watch.name, exc)
                continue
            for change in self._engine.apply(result.findings, result.clearances):
                report.changes[str(change.event)] += 1
            self._checkpoints.save(watch.name, now, result.document, now)
            report.counts[watch.name] = result.counts
            for part, why in result.failed.items():
                # Nothing is lost: the part's window and state stay where they were.
                report.failed[f"{watch.name}.{part}"] = why
                log.warning("analytics: %s.%s skipped: %s", watch.name, part, why)
        for change in self._engine.escalate_due():
            report.changes[str(change.event)] += 1
        if self._dispatcher is not None:
            report.dispatch = self._dispatcher.dispatch()
        return report

    def run(self, stop: threading.Event) -> None:
        """Tick every ``every_s`` until ``stop`` is set; a failing pass is logged, shown in
        ``status`` and retried next time (it reads what ingest stored: waiting loses nothing)."""
        try:
            while not stop.is_set():
                self.health.started(self._wall.now())
                try:
                    report = self.tick()
                except Exception as exc:  # the runner outlives one bad pass; the error is logged
                    log.exception("analytics pass failed")
                    self.health.finished(self._wall.now(), f"{type(exc).__name__}: {exc}")
                else:
                    failed = "; ".join(f"{w}: {why}" for w, why in report.failed.items())
                    self.health.finished(self._wall.now(), failed or None)
                    log.info(
                        "analytics: %s",
                        {"changes": dict(report.changes), "scanned": report.counts},
                    )
                stop.wait(self._every_s)
        finally:
            self.health.ended()

"""The analytics runner: every few minutes, each watch looks at what is new, then alerts go out.

Several runners can share one state store: with tenant leases (core/state/leases.py) each pass
first claims a fair share of the tenants, then runs every watch once per tenant held, each with
its own checkpoint, so that a tenant handed to another runner resumes where it was left.
"""

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
from core.state.checkpoints import Checkpoint, Checkpoints
from core.state.leases import TenantLeases
from core.timeseries import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one pass did: alert changes per history step, per-watch counts (per watch and
    tenant when the tenants are shared), failures, and the tenants this runner judged (None:
    all of them, unshared)."""

    changes: Counter[str] = field(default_factory=Counter)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    dispatch: DispatchReport | None = None
    tenants: tuple[str, ...] | None = None


class AnalyticsRunner:
    """Runs the watches in turn, applies what they found, escalates, and dispatches notices.

    A watch's checkpoint (watermark and detector state) is saved only after the engine applied
    its findings: a crash in between means the next pass redoes the work, and the engine's
    one-open-alert-per-subject rule makes that harmless.

    With ``leases`` the runner judges only the tenants it holds: checkpoint ``<watch>@<tenant>``
    per watch and tenant (a tenant without one yet starts from the watch's unshared checkpoint,
    so turning sharing on resumes where the single runner was). Leases are renewed each pass,
    before each tenant and again before its findings are applied (a pass that outlived its lease
    applies nothing), and given back when ``run`` ends. Escalation and dispatch stay global:
    both already claim their rows, so any runner may do them.
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
        leases: TenantLeases | None = None,
    ) -> None:
        self._watches = list(watches)
        self._engine = engine
        self._dispatcher = dispatcher
        self._checkpoints = checkpoints
        self._clock = clock
        self._every_s = every_s
        # Liveness in wall time, which ``clock`` need not be (the demo's runs faster).
        self._wall = wall_clock or clock
        # Leases are about liveness, so they run on wall time too.
        self._leases = leases
        self.health = PassHealth(self.name, self._wall.now(), every_s)

    def status(self, now: datetime) -> PartStatus:
        return self.health.status(now)

    def tick(self) -> TickReport:
        report = TickReport()
        if self._leases is None:
            for watch in self._watches:
                now = self._clock.now()
                self._run(watch, watch.name, now, None, self._checkpoints.load(watch.name), report)
        else:
            claim = self._leases.claim(self._wall.now())
            report.tenants = claim.tenants
            if claim.taken or claim.released:
                log.info(
                    "analytics: %s holds %d tenants (share %d, %d runners), took %s, gave back %s",
                    self._leases.name,
                    len(claim.tenants),
                    claim.share,
                    claim.runners,
                    list(claim.taken),
                    list(claim.released),
                )
            for watch in self._watches:
                now = self._clock.now()  # one ``now`` for every tenant of this watch's pass
                unshared = self._checkpoints.load(watch.name)
                for tenant in claim.tenants:
                    if not self._leases.hold(tenant, self._wall.now()):
                        report.failed[f"{watch.name}@{tenant}"] = "lease lost to another runner"
                        continue
                    name = f"{watch.name}@{tenant}"
                    saved = self._checkpoints.load(name) or unshared
                    self._run(watch, name, now, tenant, saved, report)
        for change in self._engine.escalate_due():
            report.changes[str(change.event)] += 1
        if self._dispatcher is not None:
            report.dispatch = self._dispatcher.dispatch()
        return report

    def _run(
        self,
        watch: Watch,
        name: str,
        now: datetime,
        tenant: str | None,
        saved: Checkpoint | None,
        report: TickReport,
    ) -> None:
        """One watch over one tenant (or all), its findings applied, then checkpoint ``name``."""
        since = saved.watermark if saved else None
        document = dict(saved.document) if saved else {}
        try:
            result = watch.run(now, since, document, tenant)
        except StoreUnavailable as exc:
            # The store is down: nothing is lost, the next pass reads from the same point.
            report.failed[name] = str(exc)
            log.warning("analytics: %s skipped, store unavailable: %s", name, exc)
            return
        if tenant is not None and self._leases and not self._leases.hold(tenant, self._wall.now()):
            # The pass outlived the lease and another runner took the tenant: it judges the same
            # window from the same checkpoint, so this pass's findings and checkpoint are dropped.
            # The renewal just made keeps anyone else from claiming it until the apply is done.
            report.failed[name] = "lease lost during the pass: its findings were dropped"
            log.warning("analytics: %s: lease lost during the pass, findings dropped", name)
            return
        for change in self._engine.apply(result.findings, result.clearances):
            report.changes[str(change.event)] += 1
        self._checkpoints.save(name, now, result.document, now)
        report.counts[name] = result.counts
        for part, why in result.failed.items():
            # Nothing is lost: the part's window and state stay where they were.
            report.failed[f"{name}.{part}"] = why
            log.warning("analytics: %s.%s skipped: %s", name, part, why)

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
            self.leave()

    def leave(self) -> None:
        """Give the tenant leases back, if any: the other runners take them at their next pass
        instead of once they expire."""
        if self._leases is None:
            return
        try:
            self._leases.release()
        except Exception:  # the leases then expire: a slower hand-over, nothing lost
            log.exception("analytics: could not release the tenant leases")

"""The one watch: every registered detector, on the data it declares, each pass.

For each detector: its subjects from the registry, its data over its window (the last
``lookback`` for rules that need baselines, what came since its last pass for incremental ones),
its parameters with the deployment's overrides, and the state its previous pass left. Subjects
and data that several detectors declare alike are loaded once a pass. Given a tenant, a pass
watches that tenant's subjects only. A subject the detector judged without a finding clears its
open alert; a detector whose store does not answer is skipped (its window and state stay where
they were) and the others run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.detectors.base import Detection, Detector, ParamValue, Pass, Subject, WindowKind
from analytics.detectors.registry import DETECTORS
from analytics.findings import Clearance
from analytics.watch.base import WatchResult
from core.config import DEFAULT_ZONE
from core.health import Fatal
from core.state.store import StateStore
from core.timeseries import StoreUnavailable, TimeSeriesStore


class DetectorWatch:
    """Runs ``detectors`` (default: every registered one) over the stores."""

    name = "detectors"

    def __init__(
        self,
        store: TimeSeriesStore,
        state: StateStore,
        *,
        detectors: Mapping[str, Detector] = DETECTORS,
        lookback: timedelta = timedelta(days=35),
        parameters: Mapping[str, Mapping[str, ParamValue]] | None = None,
        disabled: Collection[str] = (),
        zone: str = DEFAULT_ZONE,
    ) -> None:
        self._store = store
        self._zone = zone
        self._state = state
        self._lookback = lookback
        unknown = sorted((set(parameters or {}) | set(disabled)) - set(detectors))
        if unknown:
            raise Fatal(
                f"analytics: no detector named {', '.join(unknown)} "
                f"(detectors: {', '.join(sorted(detectors))})"
            )
        self._detectors = {n: d for n, d in detectors.items() if n not in disabled}
        try:
            self._params = {
                n: d.spec.resolve((parameters or {}).get(n, {})) for n, d in self._detectors.items()
            }
        except ValueError as exc:
            raise Fatal(f"analytics: {exc}") from None

    @property
    def detectors(self) -> Mapping[str, Detector]:
        return self._detectors

    def run(
        self,
        now: datetime,
        since: datetime | None,
        document: dict[str, Any],
        tenant: str | None = None,
    ) -> WatchResult:
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        subjects: dict[str, list[Subject]] = {}
        data: dict[tuple[str, str, datetime, datetime], Any] = {}
        findings, clearances = [], []
        out_document: dict[str, Any] = {}
        counts: dict[str, int] = {}
        failed: dict[str, str] = {}
        open_alerts = self._open_alerts(tenant)
        for name, detector in self._detectors.items():
            spec = detector.spec
            saved: dict[str, Any] = document.get(name) or {}
            last = datetime.fromisoformat(saved["watermark"]) if "watermark" in saved else None
            if spec.window.kind is WindowKind.LOOKBACK:
                start, end = hour - (spec.window.lookback or self._lookback), hour
            else:
                start = (last - spec.window.overlap) if last else now - spec.window.first
                end = now
            try:
                if spec.subjects.name not in subjects:
                    subjects[spec.subjects.name] = spec.subjects.load(self._state, tenant)
                watched = subjects[spec.subjects.name]
                if not watched:
                    out_document[name] = saved
                    counts[f"{name}.subjects"] = 0
                    continue
                key = (spec.reads.name, spec.subjects.name, start, end)
                if key not in data:
                    data[key] = spec.reads.load(self._store, watched, start, end, self._zone)
                run = Pass(
                    watched,
                    data[key],
                    self._params[name],
                    start,
                    end,
                    last,
                    saved.get("state", {}),
                    self._zone,
                )
                detection = detector.detect(run)
            except StoreUnavailable as exc:
                failed[name] = str(exc)
                out_document[name] = saved
                continue
            findings.extend(detection.findings)
            clearances.extend(detection.clearances)
            clearances.extend(_cleared(detection, open_alerts, end))
            out_document[name] = {"watermark": end.isoformat(), "state": detection.state}
            counts.update({f"{name}.{k}": v for k, v in detection.counts.items()})
        return WatchResult(findings, clearances, out_document, counts, failed)

    def _open_alerts(self, tenant: str | None) -> dict[tuple[str, str], tuple[str, Any]]:
        """(type, subject) → (tenant, subject kind) of every open or acknowledged alert (of
        ``tenant``'s subjects only, when given)."""
        types = tuple(t.code for d in self._detectors.values() for t in d.spec.alert_types)
        where = AlertFilter(
            tenants=None if tenant is None else (tenant,),
            types=types,
            statuses=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        )
        _, alerts = list_alerts(self._state, where, limit=100_000)
        return {(a.type, a.subject): (a.tenant, a.subject_kind) for a in alerts}


def _cleared(
    detection: Detection, open_alerts: Mapping[tuple[str, str], tuple[str, Any]], at: datetime
) -> list[Clearance]:
    """Open alerts of subjects judged on this pass that no finding holds any more."""
    holding = {(f.type, f.subject) for f in detection.findings}
    out = []
    for key in sorted(detection.judged - holding):
        if key in open_alerts:
            tenant, kind = open_alerts[key]
            out.append(Clearance(key[0], tenant, kind, key[1], at))
    return out

"""Water: household and building leaks, night flow, bursts and sector leaks over a recent window."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from analytics.alerts.model import AlertStatus, Clearance, Estimates, Finding, SubjectKind
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.watch.base import WatchResult
from analytics.water.building import building_continuous_flow, detect_night_flow
from analytics.water.burst import SECTOR_BURST_PARAMS, detect_bursts
from analytics.water.household import detect_continuous_flow
from analytics.water.loading import (
    BUILDING_HOURLY_RULES,
    SectorMeters,
    continuous_use,
    register_matrix,
    sector_inflow,
    sector_matrix,
)
from analytics.water.meter_hours import MeterHours
from analytics.water.sector import SectorLeak, detect_sector_leaks
from analytics.water.sector_days import sector_days
from core.series import NS
from core.state.models import Device
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore

TYPES = ("household_leak", "building_leak", "building_night_flow", "burst", "sector_leak")
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class _Meter:
    dev_eui: str
    tenant: str
    subject: str  # the DevEUI for a household, the building code, the sector code
    continuous_use: bool | None = None  # building meters: declared always on (or not)


class WaterWatch:
    """Each pass reads the last ``lookback`` of water data (whole hours up to now) and runs every
    water detector on it. Detectors need their baselines (recent nights, the hour-of-week
    envelope), so the window is bounded rather than the whole history: the cost of a pass does
    not grow with the years stored. An event still open at the end of the window is a finding;
    an open alert whose subject reports again without an open event is cleared. A silent meter
    clears nothing: silence is not evidence that a leak stopped."""

    name = "water"

    def __init__(
        self, store: TimeSeriesStore, state: StateStore, *, lookback: timedelta = timedelta(days=35)
    ) -> None:
        self._store = store
        self._state = state
        self._lookback = lookback

    def run(self, now: datetime, since: datetime | None, document: dict[str, Any]) -> WatchResult:
        end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - self._lookback
        households, buildings, sectors = self._meters()
        findings: list[Finding] = []
        fresh: set[tuple[str, str]] = set()  # (type, subject) with recent data

        def add(type_: str, kind: SubjectKind, m: _Meter, f: Finding | None) -> None:
            fresh.add((type_, m.subject))
            if f is not None:
                findings.append(f)

        if households:
            mh = register_matrix(self._store, [m.dev_eui for m in households], start, end)
            col = _ColumnTime(mh)
            events = detect_continuous_flow(mh.volume_l, mh.axis.local_hour, mh.axis.local_date)
            self._emit(
                "household_leak", SubjectKind.DEVICE, households, mh, events, col, add,
                flow=lambda e: e.flow_lph_estimate,
            )  # fmt: skip
        if buildings:
            mh = register_matrix(
                self._store,
                [m.dev_eui for m in buildings],
                start,
                end,
                rules=BUILDING_HOURLY_RULES,
            )
            col = _ColumnTime(mh)
            leaks = building_continuous_flow(
                mh.volume_l, mh.axis, [m.continuous_use for m in buildings]
            )
            # A run the rule cannot judge (it started with the window) is no evidence that the
            # leak of an open alert stopped: neither a finding nor a clearance, like silence.
            unjudged = {e.meter for e in leaks.unjudged if e.end is None}
            self._emit(
                "building_leak", SubjectKind.BUILDING, buildings, mh, leaks.alerts, col, add,
                flow=lambda e: e.flow_lph_estimate, skip=unjudged,
            )  # fmt: skip
            nights = detect_night_flow(mh.volume_l, mh.axis)
            self._emit(
                "building_night_flow", SubjectKind.BUILDING, buildings, mh, nights, col, add,
                flow=lambda e: e.excess_flow_lph,
            )  # fmt: skip
        if sectors:
            boundaries = [SectorMeters(inflow=[m.dev_eui]) for m in sectors]
            mh = sector_matrix(self._store, boundaries, start, end)
            col = _ColumnTime(mh)
            bursts = detect_bursts(mh.volume_l, mh.axis, SECTOR_BURST_PARAMS)
            self._emit(
                "burst", SubjectKind.SECTOR, sectors, mh, bursts, col, add,
                flow=lambda e: e.excess_flow_lph,
            )  # fmt: skip
            findings.extend(self._sector_leaks(sectors, start, end, fresh))
        return WatchResult(
            findings=findings,
            clearances=self._clearances(findings, fresh, end),
            document={},
            counts={
                "households": len(households),
                "buildings": len(buildings),
                "sectors": len(sectors),
                "findings": len(findings),
            },
        )

    # -- registry ---------------------------------------------------------------------------

    def _meters(self) -> tuple[list[_Meter], list[_Meter], list[_Meter]]:
        households: list[_Meter] = []
        buildings: list[_Meter] = []
        sectors: list[_Meter] = []
        with self._state.session() as s:
            devices = s.scalars(
                select(Device)
                .where(Device.role.in_(("water_meter", "sector_inflow")))
                .options(
                    joinedload(Device.tenant),
                    joinedload(Device.building),
                    joinedload(Device.sector),
                )
            ).all()
            for d in devices:
                tenant = d.tenant.code
                if d.role == "sector_inflow" and d.sector is not None:
                    sectors.append(_Meter(d.dev_eui, tenant, d.sector.code))
                elif d.building is not None:
                    buildings.append(
                        _Meter(d.dev_eui, tenant, d.building.code, continuous_use(d.parameters))
                    )
                elif d.sector is not None:
                    households.append(_Meter(d.dev_eui, tenant, d.dev_eui))
        return households, buildings, sectors

    # -- data -------------------------------------------------------------------------------

    def _emit(
        self,
        type_: str,
        kind: SubjectKind,
        meters: list[_Meter],
        mh: MeterHours,
        events: Iterable[Any],
        col: _ColumnTime,
        add: Callable[[str, SubjectKind, _Meter, Finding | None], None],
        *,
        flow: Callable[[Any], float],
        skip: set[int] | None = None,
    ) -> None:
        open_rows = {}
        for e in events:
            if e.end is None:
                open_rows[e.meter] = e
        recent = np.isfinite(mh.volume_l[:, -24:]).any(axis=1)
        for r, m in enumerate(meters):
            e = open_rows.get(r)
            if e is None and (not recent[r] or (skip is not None and r in skip)):
                continue  # silent meter, or not judged: neither a finding nor a clearance
            finding = None
            if e is not None:
                lph = float(flow(e))
                finding = Finding(
                    type=type_,
                    tenant=m.tenant,
                    subject_kind=kind,
                    subject=m.subject,
                    start=col.at(e.start),
                    observed_at=col.end,
                    evidence={
                        "detected_at": col.at(e.alert).isoformat(),
                        "flow_lph": round(lph, 1) if np.isfinite(lph) else None,
                        "series": {
                            "device": m.dev_eui,
                            "quantity": "volume_m3",
                            "start": col.at(max(0, e.start - 48)).isoformat(),
                            "end": col.end.isoformat(),
                        },
                    },
                    estimates=Estimates(
                        flow_lph=lph if np.isfinite(lph) else None,
                        volume_m3=float(e.volume_l) / 1000 if np.isfinite(e.volume_l) else None,
                    ),
                )
            add(type_, kind, m, finding)

    def _sector_leaks(
        self, sectors: list[_Meter], start: datetime, end: datetime, fresh: set[tuple[str, str]]
    ) -> list[Finding]:
        out: list[Finding] = []
        for m in sectors:
            times, flow = sector_inflow(self._store, SectorMeters(inflow=[m.dev_eui]), start, end)
            if len(times) < 2:
                continue
            if times[-1] >= int((end - timedelta(days=1)).timestamp()) * NS:
                fresh.add(("sector_leak", m.subject))
            running = [
                leak for leak in detect_sector_leaks(sector_days(times, flow)) if leak.end is None
            ]
            if running:
                out.append(self._sector_finding(m, running, start, end))
        return out

    @staticmethod
    def _sector_finding(
        m: _Meter, running: list[SectorLeak], start: datetime, end: datetime
    ) -> Finding:
        """One alert per sector: its running leaks (each a step of the day's and the night's
        flow, a growing leak several) add up to the flow lost since the first one's onset."""
        return Finding(
            type="sector_leak",
            tenant=m.tenant,
            subject_kind=SubjectKind.SECTOR,
            subject=m.subject,
            start=running[0].start,
            observed_at=end,
            evidence={
                "detected_at": running[0].detected_at.isoformat(),
                "baseline_m3h": round(running[0].baseline_m3h, 3),
                "added_flow_m3h": round(sum(leak.flow_m3h_estimate for leak in running), 3),
                "steps": [
                    {
                        "start": leak.start.isoformat(),
                        "detected_at": leak.detected_at.isoformat(),
                        "flow_m3h": round(leak.flow_m3h_estimate, 3),
                        "baseline_m3h": round(leak.baseline_m3h, 3),
                        "days": [d.isoformat() for d in leak.day_dates],
                        "day_mean_m3h": [round(x, 3) for x in leak.day_mean_m3h],
                        "night_m3h": [round(x, 3) for x in leak.night_m3h],
                    }
                    for leak in running
                ],
                "series": {
                    "device": m.dev_eui,
                    "quantity": "volume_m3",
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                },
            },
            estimates=Estimates(
                flow_lph=sum(leak.flow_m3h_estimate for leak in running) * 1000,
                volume_m3=sum(leak.volume_m3 for leak in running),
            ),
        )

    def _clearances(
        self, findings: list[Finding], fresh: set[tuple[str, str]], end: datetime
    ) -> list[Clearance]:
        holding = {(f.type, f.subject) for f in findings}
        _, alerts = list_alerts(
            self._state,
            AlertFilter(types=TYPES, statuses=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)),
            limit=100_000,
        )
        return [
            Clearance(a.type, a.tenant, a.subject_kind, a.subject, end)
            for a in alerts
            if (a.type, a.subject) in fresh and (a.type, a.subject) not in holding
        ]


class _ColumnTime:
    """UTC datetimes of a matrix's columns."""

    def __init__(self, mh: MeterHours) -> None:
        self._first = _utc(mh.axis.utc[0])
        self._step = (
            timedelta(seconds=int((mh.axis.utc[1] - mh.axis.utc[0]) / np.timedelta64(1, "s")))
            if len(mh.axis.utc) > 1
            else HOUR
        )
        self.end = self._first + self._step * len(mh.axis.utc)

    def at(self, column: int) -> datetime:
        return self._first + self._step * column


def _utc(t: np.datetime64) -> datetime:
    seconds = int(t.astype("datetime64[s]").astype(np.int64))
    return datetime.fromtimestamp(seconds, UTC)

"""River and groundwater stations: vigilance, rate of rise and sensor faults, read incrementally."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from analytics.alerts.model import Clearance, Finding
from analytics.levels.findings import (
    LevelsState,
    StationConfig,
    evaluate_levels,
    station_series,
)
from analytics.watch.base import WatchResult
from core.state.models import Device
from core.state.store import StateStore
from core.timeseries import Selection, TimeSeriesStore

LEVEL_ROLE = "level"


class LevelWatch:
    """Reads each station's ``water_level_m`` since the last run. The detectors keep their own
    state (held readings, current colour), so each run only reads the new readings; a small
    overlap re-reads late frames, which the guard recognises as already seen."""

    name = "levels"

    def __init__(
        self,
        store: TimeSeriesStore,
        state: StateStore,
        *,
        first_lookback: timedelta = timedelta(days=2),
        overlap: timedelta = timedelta(hours=1),
    ) -> None:
        self._store = store
        self._state = state
        self._first_lookback = first_lookback
        self._overlap = overlap

    def stations(self) -> dict[str, tuple[str, StationConfig]]:
        """DevEUI → (station code, config) for every level sensor with vigilance thresholds."""
        out: dict[str, tuple[str, StationConfig]] = {}
        with self._state.session() as s:
            devices = s.scalars(
                select(Device)
                .where(Device.role == LEVEL_ROLE)
                .options(joinedload(Device.tenant), joinedload(Device.site))
            ).all()
            for d in devices:
                params = d.parameters or {}
                if "vigilance_m" not in params:
                    continue  # a level sensor without thresholds is stored, not watched
                code = str(params.get("station") or (d.site.code if d.site else d.dev_eui))
                out[d.dev_eui] = (
                    code,
                    StationConfig.from_registry(code, d.tenant.code, params, device=d.dev_eui),
                )
        return out

    def run(self, now: datetime, since: datetime | None, document: dict[str, Any]) -> WatchResult:
        stations = self.stations()
        if not stations:
            return WatchResult(document=document, counts={"stations": 0})
        start = (since - self._overlap) if since else now - self._first_lookback
        readings = self._store.read(Selection.of("water_level_m", stations), start, now)
        series = station_series(readings, {eui: code for eui, (code, _) in stations.items()})
        configs = {code: config for code, config in stations.values()}
        previous = LevelsState.from_dict(document) if document else None
        events, state = evaluate_levels(configs, series, previous)
        return WatchResult(
            findings=[e for e in events if isinstance(e, Finding)],
            clearances=[e for e in events if isinstance(e, Clearance)],
            document=state.to_dict(),
            counts={"stations": len(configs), "readings": len(readings.times)},
        )

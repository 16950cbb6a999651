"""Water data from the stores, shaped for the detectors: which meters, and their readings as arrays.

- :func:`water_meters` sorts the registry's water devices by what they meter: household meters
  (role ``water_meter``, a sector, no building), building meters (``water_meter`` with a
  building) and each sector's boundary meters (``water_sector_meter`` links, inflow and outflow);
  :func:`continuous_use` reads a building meter's declared always-on parameter.
- :func:`register_matrix` reads the ``volume_m3`` register (m³, the channel-less series) of many
  meters and turns it into litres per step of a regular axis with
  :func:`analytics.water.meter_hours.meter_hours`: rows follow the given devices, ``NaN`` where
  the consumption is unknown. Readings are fetched ``max_interval_h`` either side of the period
  so its first and last steps can be covered; ``READ_BLOCK`` meters at a time, which bounds memory.
- :func:`sector_matrix` is the net volume into sectors per 15-minute step (inflow meters minus
  outflow meters) for the burst detector; :func:`sector_inflow` the net flow of one sector as
  measured, for the leak detector's night minimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from analytics.water.meter_hours import (
    HOUSEHOLD_HOURLY_RULES,
    MeterHours,
    RegisterQuality,
    RegisterRules,
    meter_hours,
    step_axis,
)
from analytics.water.night_flow import flow_from_index
from core.config import DEFAULT_ZONE
from core.series import NS, FloatArray, Int64Array, to_ns
from core.state.models import Device, WaterSector
from core.state.store import StateStore
from core.state.vocabulary import DeviceRole, MeterDirection
from core.timeseries import Selection, TimeSeriesStore

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
VOLUME = "volume_m3"
READ_BLOCK = 250  # meters read and converted at a time: a year of hourly readings is ~2 M points

# Building meters (DN40-DN50) pass up to 50 m³/h (Q4), a pool's morning fill included.
BUILDING_HOURLY_RULES = replace(HOUSEHOLD_HOURLY_RULES, max_flow_lph=50_000.0)
# Sector boundary meters: pulse counters of 10 L a pulse every 15 min, DN100-DN150 (up to
# 500 m³/h); a lost frame leaves a 30-minute interval, shared out evenly.
SECTOR_RULES = RegisterRules(max_interval_h=1.0, max_flow_lph=500_000.0, resolution_l=10.0)


@dataclass(frozen=True)
class SectorMeters:
    """The DevEUIs on a sector's boundary."""

    inflow: list[str] = field(default_factory=list)
    outflow: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WaterMeters:
    """The registry's water meters by what they meter, DevEUIs sorted."""

    households: list[str]
    buildings: dict[str, str]  # DevEUI → building code
    sectors: dict[str, SectorMeters]  # sector code → boundary meters
    # Building meters declaring ``continuous_use`` (DevEUI → value); others are learned.
    continuous_use: dict[str, bool] = field(default_factory=dict)


def continuous_use(parameters: Mapping[str, Any]) -> bool | None:
    """A building meter's ``continuous_use`` parameter: True when its building's normal use
    never stops (a pool), False when it does, None when undeclared (the rule learns it)."""
    value = parameters.get("continuous_use")
    return value if isinstance(value, bool) else None


def water_meters(state: StateStore) -> WaterMeters:
    """Household, building and sector boundary meters of the registry."""
    households: list[str] = []
    buildings: dict[str, str] = {}
    declared: dict[str, bool] = {}
    with state.session() as s:
        meters = s.scalars(
            select(Device)
            .where(Device.role == DeviceRole.WATER_METER)
            .options(joinedload(Device.building))
        ).all()
        for d in meters:
            if d.building is not None:
                buildings[d.dev_eui] = d.building.code
                said = continuous_use(d.parameters)
                if said is not None:
                    declared[d.dev_eui] = said
            elif d.sector_id is not None:
                households.append(d.dev_eui)
        sectors = {
            w.code: SectorMeters(
                inflow=sorted(d.dev_eui for d in w.meters(MeterDirection.INFLOW)),
                outflow=sorted(d.dev_eui for d in w.meters(MeterDirection.OUTFLOW)),
            )
            for w in s.scalars(select(WaterSector)).unique().all()
        }
    return WaterMeters(
        households=sorted(households),
        buildings=dict(sorted(buildings.items())),
        sectors=dict(sorted(sectors.items())),
        continuous_use=dict(sorted(declared.items())),
    )


def register_matrix(
    store: TimeSeriesStore,
    devices: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    step: timedelta = HOUR,
    rules: RegisterRules = HOUSEHOLD_HOURLY_RULES,
    tz: str = DEFAULT_ZONE,
) -> MeterHours:
    """Litres used by each device (row, in the order given) in each step of ``[start, end)``."""
    if end <= start:
        raise ValueError("the period is empty")
    if len(set(devices)) != len(devices):
        raise ValueError("a device is listed twice")
    n_steps = -(-(end - start) // step)
    axis = step_axis(start.astimezone(UTC), n_steps, step, tz)
    margin = timedelta(hours=rules.max_interval_h)
    parts: list[MeterHours] = []
    for lo in range(0, len(devices), READ_BLOCK):
        block = devices[lo : lo + READ_BLOCK]
        data = store.read(Selection.of(VOLUME, block, channel=None), start - margin, end + margin)
        row = {d: i for i, d in enumerate(block)}
        keys = np.asarray([row[k.device] for k in data.keys], dtype=np.int64)
        parts.append(
            meter_hours(
                np.repeat(keys, np.diff(data.offsets)),
                data.times // NS,
                data.values * 1000.0,
                axis,
                n_meters=len(block),
                rules=rules,
            )
        )
    if not parts:
        return meter_hours([], [], [], axis, n_meters=0, rules=rules)
    quality = {
        f.name: np.concatenate([getattr(p.quality, f.name) for p in parts])
        for f in fields(RegisterQuality)
    }
    return MeterHours(np.concatenate([p.volume_l for p in parts]), axis, RegisterQuality(**quality))


def sector_matrix(
    store: TimeSeriesStore,
    sectors: Sequence[SectorMeters],
    start: datetime,
    end: datetime,
    *,
    step: timedelta = QUARTER,
    tz: str = DEFAULT_ZONE,
) -> MeterHours:
    """Net litres into each sector (row) in each step: inflow meters minus outflow meters,
    ``NaN`` where any of them is unknown (the input of the burst detector)."""
    # A transfer meter may be one sector's outflow and the next one's inflow: read it once.
    devices = sorted({d for s in sectors for d in (*s.inflow, *s.outflow)})
    row = {d: i for i, d in enumerate(devices)}
    mh = register_matrix(store, devices, start, end, step=step, rules=SECTOR_RULES, tz=tz)
    rows: list[FloatArray] = []
    for s in sectors:
        into = mh.volume_l[[row[d] for d in s.inflow]].sum(axis=0)
        out = mh.volume_l[[row[d] for d in s.outflow]].sum(axis=0)
        rows.append(into - out if s.inflow else np.full(len(mh.axis.utc), np.nan))
    volume = np.stack(rows) if rows else np.empty((0, len(mh.axis.utc)))
    return replace(mh, volume_l=volume)


def sector_inflow(
    store: TimeSeriesStore,
    meters: SectorMeters,
    start: datetime,
    end: datetime,
    *,
    tz: str = DEFAULT_ZONE,
) -> tuple[Int64Array, FloatArray]:
    """Sample times (ns UTC) and the sector's net inflow (m³/h): the input of the leak detector.

    A sector metered by one inflow meter gets that meter's own interval flows (the register's
    rise between two readings at most ``SECTOR_RULES.max_interval_h`` apart, stamped at the
    interval's midpoint): re-gridding them would mix neighbouring intervals and raise the night
    minimum. Several boundary meters have no common instants: their net flow is taken on the
    15-minute grid of :func:`sector_matrix`, stamped at each step's start.
    """
    if not meters.inflow:
        raise ValueError("a sector needs at least one inflow meter")
    if len(meters.inflow) > 1 or meters.outflow:
        mh = sector_matrix(store, [meters], start, end, tz=tz)
        times = mh.axis.utc.astype("datetime64[ns]").astype(np.int64)
        flow = mh.volume_l[0] / 1000.0 / (QUARTER / HOUR)
        known = np.isfinite(flow)
        return times[known], np.asarray(flow[known], dtype=np.float64)
    margin = timedelta(hours=SECTOR_RULES.max_interval_h)
    data = store.read(
        Selection.of(VOLUME, meters.inflow, channel=None), start - margin, end + margin
    )
    if not len(data):
        return np.empty(0, dtype=np.int64), np.empty(0)
    t, v = data.series(0)
    cut = np.flatnonzero(np.diff(t) > int(margin / timedelta(seconds=1)) * NS) + 1
    parts = [flow_from_index(a, b) for a, b in zip(np.split(t, cut), np.split(v, cut), strict=True)]
    times = np.concatenate([p[0] for p in parts])
    flow = np.concatenate([p[1] for p in parts])
    inside = (times >= to_ns(start)) & (times < to_ns(end))
    return times[inside], flow[inside]

"""Water balance of a sector over a period: metered inflow against the sum of consumer meters.

Rule
----
- A meter's volume over ``[start, end)`` comes from its readings as a piecewise-linear curve:
  a cumulative index (``volume_m3``) between two readings grows linearly, so a meter that
  reports once a day is interpolated at the period's edges from the readings either side of
  them (readings are looked up ``margin`` beyond the period; two days by default).  Only
  increases count: a register that wraps or is reset, or reverse flow, adds nothing.
- A boundary meter without an index is integrated from its ``flow_m3h`` samples (trapezoids);
  a gap between samples longer than ``max_flow_gap`` is not covered.
- Coverage of each meter: *complete* when its curve covers the whole period, *partial* when it
  covers only part of it (its volume is then extrapolated at its mean rate over the covered
  part), *missing* when it covers none (it adds nothing, and the figures say how many).
- Input = inflow meters − outflow meters; non-revenue water = input − consumption, and its
  share of the input.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.series import NS, FloatArray, Int64Array, SeriesSet, to_ns
from core.timeseries import Selection, TimeSeriesStore

COMPLETE, PARTIAL, MISSING = "complete", "partial", "missing"


@dataclass(frozen=True)
class MeterVolume:
    """One meter's volume over the period (None when it has no data) and its coverage."""

    device: str
    volume_m3: float | None
    coverage: str
    covered_share: float


@dataclass(frozen=True)
class Coverage:
    """How many meters of a group had data over the whole period, part of it, or none."""

    meters: int
    complete: int
    partial: int
    missing: int

    @classmethod
    def of(cls, volumes: Collection[MeterVolume]) -> Coverage:
        kinds = [v.coverage for v in volumes]
        return cls(len(kinds), kinds.count(COMPLETE), kinds.count(PARTIAL), kinds.count(MISSING))


@dataclass(frozen=True)
class SectorBalance:
    """Volumes of a sector over ``[start, end)``, in m³."""

    start: datetime
    end: datetime
    inflow_m3: float
    outflow_m3: float
    input_m3: float
    consumption_m3: float
    non_revenue_m3: float
    non_revenue_share: float | None
    inflow_coverage: Coverage
    outflow_coverage: Coverage
    consumer_coverage: Coverage
    meters: tuple[MeterVolume, ...]


def curve_volume(
    times_ns: Int64Array,
    values: FloatArray,
    start_ns: int,
    end_ns: int,
    cumulative: bool = True,
    max_gap_ns: int | None = None,
) -> tuple[float, float]:
    """Volume over ``[start_ns, end_ns)`` of one meter's readings, and the share covered.

    ``cumulative``: values are an index (m³); else a flow (m³/h) integrated by trapezoids.
    Each segment between two readings contributes in proportion to its overlap with the period.
    """
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size < 2 or end_ns <= start_ns:
        return 0.0, 0.0
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    lo, hi = t[:-1], t[1:]
    dt = hi - lo
    seg = dt > 0
    if max_gap_ns is not None:
        seg &= dt <= max_gap_ns
    if cumulative:
        amount = np.maximum(v[1:] - v[:-1], 0.0)
    else:
        amount = np.maximum((v[1:] + v[:-1]) / 2, 0.0) * dt / (3600 * NS)
    overlap = np.clip(np.minimum(hi, end_ns) - np.maximum(lo, start_ns), 0, None)
    frac = np.where(seg, overlap / np.where(dt > 0, dt, 1), 0.0)
    covered = float(np.where(seg, overlap, 0).sum()) / (end_ns - start_ns)
    return float((amount * frac).sum()), min(covered, 1.0)


def meter_volumes(
    series: SeriesSet,
    devices: Collection[str],
    start: datetime,
    end: datetime,
    cumulative: bool = True,
    max_gap: timedelta | None = None,
) -> list[MeterVolume]:
    """Volume and coverage of each device over the period (its channels summed)."""
    lo, hi = to_ns(start), to_ns(end)
    gap = None if max_gap is None else int(max_gap / timedelta(microseconds=1)) * 1000
    found: dict[str, tuple[float, float]] = {}
    for i, key in enumerate(series.keys):
        times, values = series.series(i)
        vol, share = curve_volume(times, values, lo, hi, cumulative, gap)
        prev = found.get(key.device)
        found[key.device] = (vol, share) if prev is None else (prev[0] + vol, min(prev[1], share))
    out: list[MeterVolume] = []
    for d in sorted(devices):
        vol, share = found.get(d, (0.0, 0.0))
        if share <= 0.0:
            out.append(MeterVolume(d, None, MISSING, 0.0))
        elif share >= 1.0 - 1e-9:
            out.append(MeterVolume(d, vol, COMPLETE, 1.0))
        else:
            out.append(MeterVolume(d, vol / share, PARTIAL, share))
    return out


def boundary_volumes(
    store: TimeSeriesStore,
    devices: Collection[str],
    start: datetime,
    end: datetime,
    margin: timedelta,
    max_flow_gap: timedelta,
) -> list[MeterVolume]:
    """Boundary meters: index differences where there is an index, else integrated flow."""
    if not devices:
        return []
    window = (start - margin, end + margin)
    by_index = meter_volumes(
        store.read(Selection.of("volume_m3", devices=devices), *window), devices, start, end
    )
    without = [m.device for m in by_index if m.coverage == MISSING]
    if not without:
        return by_index
    flows = store.read(Selection.of("flow_m3h", devices=without), *window)
    by_flow = {
        m.device: m
        for m in meter_volumes(flows, without, start, end, cumulative=False, max_gap=max_flow_gap)
    }
    return [by_flow.get(m.device, m) for m in by_index]


def sector_balance(
    store: TimeSeriesStore,
    start: datetime,
    end: datetime,
    inflow: Collection[str],
    outflow: Collection[str] = (),
    consumers: Collection[str] = (),
    margin: timedelta = timedelta(days=2),
    max_flow_gap: timedelta = timedelta(hours=6),
) -> SectorBalance:
    """The balance of a sector whose boundary and consumer meters are the given DevEUIs."""
    if end <= start:
        raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    ins = boundary_volumes(store, inflow, start, end, margin, max_flow_gap)
    outs = boundary_volumes(store, outflow, start, end, margin, max_flow_gap)
    used = (
        meter_volumes(
            store.read(Selection.of("volume_m3", devices=consumers), start - margin, end + margin),
            consumers,
            start,
            end,
        )
        if consumers
        else []
    )
    inflow_m3 = sum(m.volume_m3 or 0.0 for m in ins)
    outflow_m3 = sum(m.volume_m3 or 0.0 for m in outs)
    consumption_m3 = sum(m.volume_m3 or 0.0 for m in used)
    input_m3 = inflow_m3 - outflow_m3
    non_revenue = input_m3 - consumption_m3
    return SectorBalance(
        start=start,
        end=end,
        inflow_m3=inflow_m3,
        outflow_m3=outflow_m3,
        input_m3=input_m3,
        consumption_m3=consumption_m3,
        non_revenue_m3=non_revenue,
        non_revenue_share=non_revenue / input_m3 if input_m3 > 0 else None,
        inflow_coverage=Coverage.of(ins),
        outflow_coverage=Coverage.of(outs),
        consumer_coverage=Coverage.of(used),
        meters=tuple(ins + outs + used),
    )

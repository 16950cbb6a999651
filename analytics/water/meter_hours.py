"""Register readings (cumulative index, litres) to litres per step, each data fault by a rule.

Input is every reading of many meters as flat arrays (meter row, UTC time, index in litres), in
any order and at any spacing; output is a ``[meters, steps]`` matrix on a given axis (hourly, or
any regular step such as 15 min), ``NaN`` where the consumption is not known, plus per-meter
data-quality counts. Rules, applied in this order:

1. **Order and duplicates.** Readings are sorted by time per meter (``out_of_order`` counts the
   places where a meter's readings arrived out of time order). Of several readings at one time
   the last one received is kept (the store's own rule: same time overwrites); ``duplicates``
   counts the others.
2. **Plausible step.** Between two readings ``dt`` apart the index may rise by
   ``max_flow_lph * dt + resolution_l`` at most, or fall by ``reverse_tolerance_l`` at most.
3. **Spikes.** A reading that is implausible against the last kept reading while the next one is
   plausible against it is a foreign reading and is dropped (``spikes``). The DAIAD ±248,5xx L
   "resets" are such readings: a second register about 248.5 m³ higher, interleaved with the
   meter's own (the gap between them drifts, so it is not a register capacity).
4. **Rollover.** A drop that becomes a plausible rise once one of ``capacities_l`` is added (a
   100,000 m³ register wrapping after 99,999.999 m³) is consumption (``rollovers``).
5. **Reset / meter swap.** Any other drop beyond the reverse tolerance (``resets``) or rise beyond
   the plausible flow (``jumps``): the interval's consumption is unknown and the new index is the
   new base.
6. **Reverse flow.** A drop within ``reverse_tolerance_l`` counts as zero consumption and its size
   is added to ``reverse_flow_l`` (evidence of backflow). The register must climb back to its
   previous high before consumption counts again, so the water that flowed back is not counted
   twice: the steps of a meter sum to its index rise.
7. **Allocation.** An interval's consumption is spread over the steps it overlaps in proportion
   to time (``uniform``: the index is interpolated linearly between readings), but only when its
   readings are at most ``max_interval_h`` apart (``gaps`` counts longer ones); a step is known
   only when valid intervals cover all of it. ``midpoint`` instead gives each interval's volume to
   the step holding its midpoint and keeps a step covered for ``min_coverage`` of its length: with
   hourly readings at an odd minute it keeps a zero interval a zero hour, where uniform spreading
   would smear a neighbouring draw-off over it.

A meter that reports once a day thus has unknown hours but correct daily totals
(:func:`daily_volumes`, same rules on local days with a longer ``max_interval_h``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytics.water.allocation import FloatArray, IntArray, allocate_midpoint, allocate_uniform
from analytics.water.axis import HourlyAxis
from core.config import DEFAULT_ZONE

Allocation = Literal["uniform", "midpoint"]


@dataclass(frozen=True)
class RegisterRules:
    """How register readings become consumption (see the module docstring)."""

    max_interval_h: float = 2.0
    allocation: Allocation = "uniform"
    min_coverage: float = 0.75  # midpoint allocation only: share of a step its intervals cover
    max_flow_lph: float = 100_000.0  # any meter up to DN80; use the meter's own Q4 where known
    resolution_l: float = 1.0  # one digit of the register is always a plausible rise
    reverse_tolerance_l: float = 20.0
    capacities_l: tuple[float, ...] = (1e8,)  # 99,999.999 m³ then 0
    drop_spikes: bool = True
    chunk_meters: int = 8192


# Daily totals accept a missed daily reading (48 h) plus some jitter.
DAILY_RULES = RegisterRules(max_interval_h=50.0)
# Hourly household readings for the continuous-flow detector. Midpoint allocation keeps a zero
# interval a zero hour when homes are read at odd minutes: on the DAIAD homes, uniform spreading
# gives 9 false alerts instead of 6 and finds 95.5 % of 10 L/h leaks instead of 98 %.
# A household meter (DN15) passes at most Q4 = 3.125 m³/h.
HOUSEHOLD_HOURLY_RULES = RegisterRules(
    allocation="midpoint", max_interval_h=1.5, min_coverage=0.75, max_flow_lph=3125.0
)


@dataclass(frozen=True)
class RegisterQuality:
    """Per-meter data-quality counts (one entry per meter row)."""

    readings: IntArray  # readings kept
    duplicates: IntArray
    out_of_order: IntArray
    spikes: IntArray
    rollovers: IntArray
    resets: IntArray
    jumps: IntArray
    gaps: IntArray  # intervals longer than max_interval_h
    reverse_flow_l: FloatArray
    missing_steps: IntArray  # unknown steps of the output matrix


@dataclass(frozen=True)
class MeterHours:
    """Litres used in each step (``NaN`` = unknown) and the data quality behind them."""

    volume_l: NDArray[np.floating]
    axis: HourlyAxis
    quality: RegisterQuality


@dataclass(frozen=True)
class DailyVolumes:
    """Litres used on each local day (``NaN`` = unknown) and the data quality behind them."""

    volume_l: NDArray[np.floating]
    dates: list[date]
    quality: RegisterQuality


@dataclass(frozen=True)
class _Intervals:
    meter: IntArray
    t0: IntArray
    t1: IntArray
    volume_l: FloatArray  # NaN: consumption unknown (reset, jump)
    counts: dict[str, IntArray]
    reverse_flow_l: FloatArray


def step_axis(
    start_utc: datetime, n_steps: int, step: timedelta, tz: str = DEFAULT_ZONE
) -> HourlyAxis:
    """An axis of ``n_steps`` regular UTC steps (e.g. 15 min) with their local hour and date."""
    if start_utc.tzinfo is None:
        raise ValueError("start_utc must be timezone-aware")
    zone = ZoneInfo(tz)
    t0 = start_utc.astimezone(UTC)
    hours: list[int] = []
    dates: list[str] = []
    for i in range(n_steps):
        local = (t0 + i * step).astimezone(zone)
        hours.append(local.hour)
        dates.append(local.date().isoformat())
    base = np.datetime64(t0.replace(tzinfo=None), "s")
    step_s = int(step.total_seconds())
    return HourlyAxis(
        utc=base + (np.arange(n_steps, dtype=np.int64) * step_s).astype("timedelta64[s]"),
        local_hour=np.asarray(hours, dtype=np.int64),
        local_date=np.asarray(dates, dtype="datetime64[D]"),
    )


def _seconds(time_utc: ArrayLike) -> IntArray:
    t = np.asarray(time_utc)
    if np.issubdtype(t.dtype, np.datetime64):
        return t.astype("datetime64[s]").astype(np.int64)
    return np.asarray(t, dtype=np.int64)


def _plausible(
    d: FloatArray, dt_s: IntArray, r: RegisterRules
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Consumption of each step (rollover undone) and whether the step is plausible."""
    lim = r.max_flow_lph * dt_s / 3600.0 + r.resolution_l
    delta = d.copy()
    ok = (d >= -r.reverse_tolerance_l) & (d <= lim)
    for cap in sorted(r.capacities_l):
        roll = ~ok & (d + cap >= 0) & (d + cap <= lim)
        delta[roll] = d[roll] + cap
        ok |= roll
    return delta, ok


def _spikes(
    meter: IntArray, t: IntArray, v: FloatArray, suspects: IntArray, r: RegisterRules
) -> NDArray[np.bool_]:
    """Readings to keep once foreign single readings are dropped (rule 3).

    ``suspects``: readings implausible against the one before. They are rare; walking them in
    order is what lets R, X, R, X, R (X foreign) keep every R.
    """
    keep = np.ones(t.size, dtype=bool)
    anchor = -1  # the last kept reading before the latest dropped one
    for i in suspects.tolist():
        prev = i - 1 if keep[i - 1] else anchor
        if _ok_between(prev, i, t, v, r):
            continue
        nxt = i + 1
        if nxt < t.size and meter[nxt] == meter[i] and _ok_between(prev, nxt, t, v, r):
            keep[i] = False
            anchor = prev
    return keep


def _ok_between(a: int, b: int, t: IntArray, v: FloatArray, r: RegisterRules) -> bool:
    """Rule 2 for one pair of readings, in plain Python (called once per suspect)."""
    d = float(v[b] - v[a])
    lim = r.max_flow_lph * float(t[b] - t[a]) / 3600.0 + r.resolution_l
    if -r.reverse_tolerance_l <= d <= lim:
        return True
    return any(0.0 <= d + cap <= lim for cap in r.capacities_l)


def _intervals(
    meter: ArrayLike, time_utc: ArrayLike, index_l: ArrayLike, n_meters: int, r: RegisterRules
) -> _Intervals:
    """Rules 1-6: clean consumption of every interval between two kept readings."""
    m = np.asarray(meter, dtype=np.int64)
    t = _seconds(time_utc)
    v = np.asarray(index_l, dtype=np.float64)
    if not (m.shape == t.shape == v.shape) or m.ndim != 1:
        raise ValueError("meter, time_utc and index_l must be 1-D arrays of one length")
    if m.size and (m.min() < 0 or m.max() >= n_meters):
        raise ValueError(f"meter rows must lie in [0, {n_meters})")
    good = np.isfinite(v)
    if not good.all():
        m, t, v = m[good], t[good], v[good]
    counts: dict[str, IntArray] = {}
    # Rule 1: per-meter time order; the last received of equal times wins.
    arrival = np.arange(m.size, dtype=np.int64)
    key = m
    if m.size:
        t_min = int(t.min())
        key = m * (int(t.max()) - t_min + 1) + (t - t_min)
        if np.any(key[1:] < key[:-1]):
            order = np.argsort(key, kind="stable")
            m, t, v, key, arrival = m[order], t[order], v[order], key[order], arrival[order]
    none = np.zeros(min(1, m.size), dtype=bool)
    same = m[1:] == m[:-1]
    late = np.concatenate([none, same & (arrival[1:] < arrival[:-1])])
    counts["out_of_order"] = np.bincount(m[late], minlength=n_meters)
    dup_next = np.concatenate([key[1:] == key[:-1], none])  # a later reading has the same time
    counts["duplicates"] = np.bincount(m[dup_next], minlength=n_meters)
    if dup_next.any():
        m, t, v = m[~dup_next], t[~dup_next], v[~dup_next]
        same = m[1:] == m[:-1]
    # Rules 2-5 on each interval between consecutive readings of one meter.
    d = v[1:] - v[:-1]
    delta, ok = _plausible(d, t[1:] - t[:-1], r)
    suspects = np.flatnonzero(same & ~ok) + 1
    counts["spikes"] = np.zeros(n_meters, dtype=np.int64)
    if r.drop_spikes and suspects.size:
        keep = _spikes(m, t, v, suspects, r)
        if not keep.all():
            counts["spikes"] = np.bincount(m[~keep], minlength=n_meters)
            m, t, v = m[keep], t[keep], v[keep]
            same = m[1:] == m[:-1]
            d = v[1:] - v[:-1]
            delta, ok = _plausible(d, t[1:] - t[:-1], r)
    counts["readings"] = np.bincount(m, minlength=n_meters)
    rev = ok & (delta < 0)
    roll = ok & (d < -r.reverse_tolerance_l)
    jump = same & ~ok & (d > 0)
    reset = same & ~ok & (d <= 0)
    mi = m[1:]
    counts["rollovers"] = np.bincount(mi[same & roll], minlength=n_meters)
    counts["resets"] = np.bincount(mi[reset], minlength=n_meters)
    counts["jumps"] = np.bincount(mi[jump], minlength=n_meters)
    reverse_flow_l = np.bincount(mi[same & rev], weights=-delta[same & rev], minlength=n_meters)
    vol = np.where(ok, np.maximum(delta, 0.0), np.nan)
    if np.any(same & rev):
        _repay_reverse(vol, delta, same & ok)
    return _Intervals(
        meter=mi[same],
        t0=t[:-1][same],
        t1=t[1:][same],
        volume_l=vol[same],
        counts=counts,
        reverse_flow_l=reverse_flow_l.astype(np.float64),
    )


def _repay_reverse(vol: FloatArray, delta: FloatArray, linked: NDArray[np.bool_]) -> None:
    """Rule 6: after reverse flow, consumption counts only above the register's previous high.

    ``linked[i]``: interval ``i`` is a known step of one meter; a run of linked intervals shares
    one register base. Only runs holding a reverse step are recomputed (they are rare), in place.
    """
    edge = np.diff(np.concatenate([[0], linked.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        seg = delta[s:e]
        if not np.any(seg < 0):
            continue
        high = np.maximum.accumulate(np.concatenate([[0.0], np.cumsum(seg)]))
        vol[s:e] = np.diff(high)


def _spread(
    iv: _Intervals,
    edges_s: IntArray,
    n_meters: int,
    r: RegisterRules,
    dtype: type[np.floating] = np.float64,
) -> tuple[NDArray[np.floating], IntArray]:
    """Rule 7: litres per step ``[edges[j], edges[j + 1])`` and the count of long intervals."""
    n_steps = edges_s.size - 1
    out = np.full((n_meters, n_steps), np.nan, dtype=dtype)
    long_ = iv.t1 - iv.t0 > r.max_interval_h * 3600.0
    gaps = np.bincount(iv.meter[long_], minlength=n_meters)
    near = (iv.t1 > edges_s[0]) & (iv.t0 < edges_s[-1])
    m, t0, t1 = iv.meter[near], iv.t0[near], iv.t1[near]
    vol, good = iv.volume_l[near], ~long_[near] & np.isfinite(iv.volume_l[near])
    if m.size == 0 or n_steps == 0:
        return out, gaps
    bounds = np.searchsorted(m, np.arange(0, n_meters + r.chunk_meters, r.chunk_meters))
    for lo, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        if a == b:
            continue
        row0 = lo * r.chunk_meters
        rows = min(r.chunk_meters, n_meters - row0)
        chunk = (m[a:b] - row0, t0[a:b], t1[a:b], vol[a:b], good[a:b])
        if r.allocation == "midpoint":
            block = allocate_midpoint(*chunk, edges_s, rows, r.min_coverage)
        else:
            block = allocate_uniform(*chunk, edges_s, rows)
        out[row0 : row0 + rows] = block
    return out, gaps


def _quality(iv: _Intervals, gaps: IntArray, missing: IntArray) -> RegisterQuality:
    c = iv.counts
    return RegisterQuality(
        readings=c["readings"],
        duplicates=c["duplicates"],
        out_of_order=c["out_of_order"],
        spikes=c["spikes"],
        rollovers=c["rollovers"],
        resets=c["resets"],
        jumps=c["jumps"],
        gaps=gaps,
        reverse_flow_l=iv.reverse_flow_l,
        missing_steps=missing,
    )


def meter_hours(
    meter: ArrayLike,
    time_utc: ArrayLike,
    index_l: ArrayLike,
    axis: HourlyAxis,
    n_meters: int | None = None,
    rules: RegisterRules | None = None,
    dtype: type[np.floating] = np.float64,
) -> MeterHours:
    """Litres used by each meter in each step of ``axis`` from its register readings.

    ``meter`` holds the row (0..n_meters-1) of each reading, ``time_utc`` its time
    (``datetime64`` or integer seconds since the epoch, UTC) and ``index_l`` the register in
    litres. ``axis.utc`` must be regular (hourly from ``hourly_axis``, or any step from
    :func:`step_axis`).
    """
    r = rules or RegisterRules()
    rows = np.asarray(meter, dtype=np.int64)
    n = int(rows.max()) + 1 if n_meters is None and rows.size else (n_meters or 0)
    starts = _seconds(axis.utc)
    if starts.size == 0:
        raise ValueError("the axis has no step")
    step = np.diff(starts)
    width = int(step[0]) if step.size else 3600
    if step.size and np.any(step != width):
        raise ValueError("the axis must be regular")
    edges = np.concatenate([starts, [starts[-1] + width]])
    iv = _intervals(rows, time_utc, index_l, n, r)
    out, gaps = _spread(iv, edges, n, r, dtype)
    missing = np.isnan(out).sum(axis=1).astype(np.int64)
    return MeterHours(volume_l=out, axis=axis, quality=_quality(iv, gaps, missing))


def local_midnights(first: date, n_days: int, tz: str = DEFAULT_ZONE) -> IntArray:
    """UTC seconds of the ``n_days + 1`` local midnights from ``first`` (23 h and 25 h days)."""
    zone = ZoneInfo(tz)
    out = [
        int(datetime.combine(first + timedelta(days=k), datetime.min.time(), zone).timestamp())
        for k in range(n_days + 1)
    ]
    return np.asarray(out, dtype=np.int64)


def daily_volumes(
    meter: ArrayLike,
    time_utc: ArrayLike,
    index_l: ArrayLike,
    first: date,
    n_days: int,
    tz: str = DEFAULT_ZONE,
    n_meters: int | None = None,
    rules: RegisterRules | None = None,
) -> DailyVolumes:
    """Litres used by each meter on each local day (for balances), from its register readings.

    Same rules as :func:`meter_hours` on local-day steps, with ``DAILY_RULES`` by default: a
    meter read once a day gets each day's share of the two readings around it (linear index
    interpolation at local midnight).
    """
    r = rules or DAILY_RULES
    rows = np.asarray(meter, dtype=np.int64)
    n = int(rows.max()) + 1 if n_meters is None and rows.size else (n_meters or 0)
    iv = _intervals(rows, time_utc, index_l, n, r)
    out, gaps = _spread(iv, local_midnights(first, n_days, tz), n, r)
    missing = np.isnan(out).sum(axis=1).astype(np.int64)
    dates = [first + timedelta(days=k) for k in range(n_days)]
    return DailyVolumes(volume_l=out, dates=dates, quality=_quality(iv, gaps, missing))

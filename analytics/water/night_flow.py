"""Minimum night flow (MNF) of each local night, from a flow series at any sampling interval.

Rule (design brief §5 Water)
----------------------------
1. Grid: samples are averaged into fixed cells aligned on the Unix epoch.  The cell length is
   the shortest of 15, 20, 30 and 60 minutes that is at least the series' median sampling
   interval (1-minute data gives 15-minute means, hourly data hourly cells).  A sample counts in
   the cell holding its timestamp.  Series sampled more coarsely than hourly have no night
   minimum and are refused.
2. Night: local hours ``[02:00, 04:00)`` of each local date in the zone (Europe/Paris by
   default).  The window is taken on the wall clock, so the night of the spring change lasts one
   real hour (02:00 does not exist) and the night of the autumn change three (02:00-03:00 happens
   twice).
3. MNF: the lowest cell mean in the window, in m³/h.  A night is *missing* (NaN) when fewer than
   ``min_coverage`` (half, by default) of its window's cells hold a sample: the count is made on
   the window's real length, so a short DST night needs fewer cells.
4. Day mean: the mean of the cell means of the whole local day, with the same coverage rule; the
   sector detector uses it to scale its smallest reported step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from analytics.water.flow_grid import flow_grid
from core.config import DEFAULT_ZONE
from core.series import NS, FloatArray, Int64Array, to_ns


@dataclass(frozen=True)
class NightFlowParams:
    """Night window (local wall-clock hours) and the share of a window that must hold data."""

    start_hour: int = 2
    end_hour: int = 4
    min_coverage: float = 0.5


@dataclass(frozen=True)
class NightFlows:
    """Minimum night flow per local night; arrays share one index (one entry per local date)."""

    dates: NDArray[np.datetime64]  # local date of the night, datetime64[D]
    start_ns: Int64Array  # window start (02:00 local), ns UTC
    end_ns: Int64Array  # window end (04:00 local), ns UTC
    mnf_m3h: FloatArray  # NaN: too little data that night
    coverage: FloatArray  # share of the window's cells holding a sample
    day_mean_m3h: FloatArray  # mean flow of the local day, NaN below coverage
    cell_s: int  # grid cell length
    last_ns: int  # time of the series' last sample

    def __len__(self) -> int:
        return len(self.dates)


def local_windows(
    first: date, last: date, start: time, end: time, tz: str = DEFAULT_ZONE
) -> tuple[NDArray[np.datetime64], Int64Array, Int64Array]:
    """UTC edges of the wall-clock window ``[start, end)`` of every local date first..last.

    ``end`` at midnight means the next day's midnight.  Non-existent wall times (spring change)
    resolve with the offset before the change, ambiguous ones (autumn) with the first occurrence
    (``fold=0``): both are what ``datetime.combine`` with a ``ZoneInfo`` gives.
    """
    zone = ZoneInfo(tz)
    n = (last - first).days + 1
    days = [first + timedelta(days=k) for k in range(max(n, 0))]
    starts = [to_ns(datetime.combine(d, start, zone)) for d in days]
    ends = [
        to_ns(datetime.combine(d + timedelta(days=1) if end <= start else d, end, zone))
        for d in days
    ]
    return (
        np.asarray([d.isoformat() for d in days], dtype="datetime64[D]"),
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
    )


def night_flows(
    times_ns: Int64Array,
    flow_m3h: FloatArray,
    tz: str = DEFAULT_ZONE,
    params: NightFlowParams | None = None,
) -> NightFlows:
    """MNF of every local night from the first to the last sample's local date."""
    p = params or NightFlowParams()
    g = flow_grid(times_ns, flow_m3h)
    t, t0, step, means, has = g.times_ns, g.t0_ns, g.step_ns, g.means, g.has
    cell = g.cell_s

    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(int(t[0]) / NS, zone).date()
    last = datetime.fromtimestamp(int(t[-1]) / NS, zone).date()
    dates, ns, ne = local_windows(first, last, time(p.start_hour), time(p.end_hour), tz)
    _, ds, de = local_windows(first, last, time(0), time(0), tz)
    mnf, coverage = window_stats(means, has, t0, step, ns, ne, np.fmin, p.min_coverage)
    day_mean, _ = window_stats(means, has, t0, step, ds, de, np.add, p.min_coverage, mean=True)
    return NightFlows(
        dates=dates,
        start_ns=ns,
        end_ns=ne,
        mnf_m3h=mnf,
        coverage=coverage,
        day_mean_m3h=day_mean,
        cell_s=cell,
        last_ns=int(t[-1]),
    )


def _cell_range(
    n_cells: int, t0: int, step: int, lo: Int64Array, hi: Int64Array
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """First and past-the-last cell of each window (clipped to the grid), and its nominal size."""
    a = -(-(lo - t0) // step)
    b = -(-(hi - t0) // step)
    size = b - a
    return np.clip(a, 0, n_cells), np.clip(b, 0, n_cells), size


def _window_count(
    has: NDArray[np.bool_], t0: int, step: int, lo: Int64Array, hi: Int64Array
) -> Int64Array:
    a, b, _ = _cell_range(has.size, t0, step, lo, hi)
    c = np.concatenate([[0], np.cumsum(has, dtype=np.int64)])
    out: Int64Array = c[b] - c[a]
    return out


def window_stats(
    values: FloatArray,
    has: NDArray[np.bool_],
    t0: int,
    step: int,
    lo: Int64Array,
    hi: Int64Array,
    op: np.ufunc,
    min_coverage: float,
    *,
    mean: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Reduce the cell values ``values`` (NaN where ``has`` is False) over each window
    ``[lo, hi)`` with ``op``; with ``mean`` the sum of the present cells over their number.
    NaN where the window's coverage is below ``min_coverage``; also returns the coverage."""
    if mean:
        total, coverage = window_stats(
            np.where(has, values, 0.0), has, t0, step, lo, hi, np.add, min_coverage
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / _window_count(has, t0, step, lo, hi), coverage
    a, b, size = _cell_range(values.size, t0, step, lo, hi)
    n_have = _window_count(has, t0, step, lo, hi)
    coverage = np.where(size > 0, n_have / np.maximum(size, 1), 0.0)
    # reduceat over interleaved [a, b) pairs; a sentinel makes every b a valid index.
    padded = np.concatenate([values, [np.nan]])
    pairs = np.empty(2 * a.size, dtype=np.int64)
    pairs[0::2], pairs[1::2] = a, b
    reduced = op.reduceat(padded, pairs)[0::2] if a.size else np.empty(0)
    ok = (n_have > 0) & (coverage >= min_coverage)
    return np.where(ok, reduced, np.nan), coverage.astype(np.float64)


def flow_from_index(times_ns: Int64Array, volume_m3: FloatArray) -> tuple[Int64Array, FloatArray]:
    """Flow (m³/h) between consecutive index readings, stamped at each interval's midpoint.

    Decreasing indexes (register reset or wrap, reverse flow) give no flow sample.
    """
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(volume_m3, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    dt_h = np.diff(t) / (3600 * NS)
    dv = np.diff(v)
    ok = (dt_h > 0) & (dv >= 0) & np.isfinite(dv)
    mid = t[:-1] + np.diff(t) // 2
    return mid[ok], dv[ok] / dt_h[ok]

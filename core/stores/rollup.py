"""Rollups: hourly and local-day partial aggregates per series, and when a query may read them.

A rollup bucket holds the partials ``windows.reduce`` finishes (count, sum, min, max, first,
last), so any window made of whole buckets gets the same answer from rollups as from raw points.
Hourly buckets are epoch-aligned like ``GROUP BY time(1h)``; daily buckets are local days of the
rollup zone (23 h and 25 h on DST days), as decision 002 defines ``1d`` windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from core.quantities import QUANTITIES, Kind
from core.retention import Granularity, KeepFor
from core.series import NS, FloatArray, Int64Array, SeriesGrid, SeriesKey, from_ns, to_ns
from core.timeseries import Agg
from core.windows import Every, reduce, window_edges

HOUR_NS = 3600 * NS
FIELDS: tuple[str, ...] = ("n", "sum", "min", "max", "first", "last")

# The sum of a cumulative register's samples means nothing (consumption is a difference of
# registers): its rollups keep no sum, and a MEAN or SUM of one reads raw points.
_NO_SUM = frozenset({Kind.CUMULATIVE})
_NEEDS: dict[Agg, str] = {
    Agg.MEAN: "sum",
    Agg.SUM: "sum",
    Agg.COUNT: "n",
    Agg.MIN: "min",
    Agg.MAX: "max",
    Agg.FIRST: "first",
    Agg.LAST: "last",
}


def fields_of(quantity: str) -> tuple[str, ...]:
    """The partials kept for a quantity, by its kind."""
    if QUANTITIES[quantity].kind in _NO_SUM:
        return tuple(f for f in FIELDS if f != "sum")
    return FIELDS


def needs(agg: Agg) -> str:
    """The partial that ``agg`` is finished from (MEAN also uses the counts)."""
    return _NEEDS[agg]


def serves(quantity: str, agg: Agg) -> bool:
    """Whether the rollups of ``quantity`` can answer ``agg``."""
    return _NEEDS[agg] in fields_of(quantity)


@dataclass(frozen=True, slots=True)
class RollupConfig:
    """Where daily buckets start (the territory's zone), which spans are long enough to read
    rollups rather than raw points, and whether writes roll up finished days themselves."""

    zone: str = "Europe/Paris"
    min_span: timedelta = timedelta(days=2)
    # Roll up the days a write stream leaves behind inside write(): off by default, since it
    # cut ingest's points/s several-fold (decision 019); reads and `vigie store rollup` catch up.
    refresh_in_writes: bool = False


DEFAULT = RollupConfig()


@dataclass(slots=True)
class Partials:
    """Partials of many buckets: ``rows`` the series index, ``t`` the bucket start (ns UTC),
    sorted by (row, t); ``sum`` is NaN where the quantity keeps none."""

    rows: Int64Array
    t: Int64Array
    n: FloatArray
    sum: FloatArray
    min: FloatArray
    max: FloatArray
    first: FloatArray
    last: FloatArray

    @classmethod
    def of_points(cls, rows: Int64Array, times: Int64Array, values: FloatArray) -> Partials:
        """Each raw point as a bucket of one."""
        v = values.astype(np.float64)
        return cls(rows, times, np.ones(len(v)), v, v, v, v, v)

    @classmethod
    def concat(cls, parts: list[Partials]) -> Partials:
        """Join partials and sort them by (row, t); a stable sort keeps equal buckets in order."""
        if not parts:
            return cls.of_points(*(np.empty(0, dtype=np.int64),) * 2, np.empty(0))
        joined = cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in SLOTS))
        order = np.lexsort((joined.t, joined.rows))
        return cls(*(getattr(joined, f)[order] for f in SLOTS))

    def __len__(self) -> int:
        return len(self.t)


SLOTS = ("rows", "t", "n", "sum", "min", "max", "first", "last")


def regroup(p: Partials, edges: Int64Array | None = None, width: int = HOUR_NS) -> Partials:
    """Combine partials sorted by (row, t) into coarser buckets: the windows delimited by
    ``edges`` (bucket time = window start), or fixed epoch-aligned buckets of ``width`` ns."""
    if len(p) == 0:
        return p
    if edges is None:
        bucket = p.t - p.t % width
    else:
        bucket = edges[np.searchsorted(edges, p.t, side="right") - 1]
    change = np.flatnonzero((np.diff(p.rows) != 0) | (np.diff(bucket) != 0)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(p)])) - 1
    return Partials(
        rows=p.rows[starts],
        t=bucket[starts],
        n=np.add.reduceat(p.n, starts),
        sum=np.add.reduceat(p.sum, starts),
        min=np.minimum.reduceat(p.min, starts),
        max=np.maximum.reduceat(p.max, starts),
        first=p.first[starts],
        last=p.last[ends],
    )


def day_edges(lo: int, hi: int, zone: str) -> Int64Array:
    """Local midnights of ``zone`` covering [lo, hi) ns UTC."""
    return window_edges(from_ns(lo), from_ns(hi), Every(1, "d"), zone)


def day_start(ns: int, zone: str) -> int:
    """The local midnight of ``zone`` that starts the day holding ``ns``."""
    return int(day_edges(ns, ns + HOUR_NS, zone)[0])


def finish(p: Partials, edges: Int64Array, agg: Agg, n_rows: int) -> FloatArray:
    """The (n_rows, windows) grid of ``agg`` from partials, through ``windows.reduce``."""
    values = {
        Agg.MEAN: p.sum,
        Agg.SUM: p.sum,
        Agg.COUNT: p.n,
        Agg.MIN: p.min,
        Agg.MAX: p.max,
        Agg.FIRST: p.first,
        Agg.LAST: p.last,
    }[agg]
    counts = p.n if agg in (Agg.MEAN, Agg.COUNT) else None
    return reduce(p.t, values, edges, agg, counts=counts, rows=p.rows, n_rows=n_rows)


@dataclass(frozen=True, slots=True)
class Plan:
    """How to read a long aggregate: consecutive [lo, hi) segments, each read from ``"raw"``
    points, ``"1h"`` or ``"1d"`` rollups — raw only where a span does not start or end on the
    hour, hourly rollups between the hour and the first or last local midnight."""

    segments: tuple[tuple[str, int, int], ...]


def plan(
    quantity: str,
    agg: Agg,
    step: Every,
    edges: Int64Array,
    start: datetime,
    end: datetime,
    config: RollupConfig,
) -> Plan | None:
    """A rollup plan when the windows are made of whole hours, the span is long and the
    quantity's rollups serve ``agg``; None means: read raw points."""
    lo, hi = to_ns(start), to_ns(end)
    fixed = step.fixed_ns
    if end - start < config.min_span or not serves(quantity, agg):
        return None
    if (fixed is not None and fixed % HOUR_NS) or np.any(edges % HOUR_NS):
        return None  # sub-hour windows, or a zone whose midnights are not on the hour grid
    h_lo, h_hi = -(-lo // HOUR_NS) * HOUR_NS, hi // HOUR_NS * HOUR_NS
    if h_lo >= h_hi:
        return None
    d_lo = d_hi = h_hi
    if fixed is None:
        days = day_edges(h_lo, h_hi, config.zone)
        # Local days of the rollup zone are whole windows when every window edge is one of them.
        if np.isin(edges[(edges >= days[0]) & (edges <= days[-1])], days).all():
            d_lo = int(days[np.searchsorted(days, h_lo)])
            d_hi = int(days[np.searchsorted(days, h_hi, side="right") - 1])
            if d_lo >= d_hi:
                d_lo = d_hi = h_hi
    segments = (
        ("raw", lo, h_lo),
        ("1h", h_lo, d_lo),
        ("1d", d_lo, d_hi),
        ("1h", d_hi, h_hi),
        ("raw", h_hi, hi),
    )
    return Plan(tuple((kind, a, b) for kind, a, b in segments if a < b))


def grid(
    keys: list[SeriesKey],
    tags: list[dict[str, str]],
    partials: Partials,
    edges: Int64Array,
    agg: Agg,
) -> SeriesGrid:
    """A SeriesGrid from partials of ``keys`` (rows index them); series without data dropped."""
    values = finish(partials, edges, agg, len(keys))
    present = np.unique(partials.rows).tolist()
    return SeriesGrid(
        keys=[keys[i] for i in present],
        tags=[tags[i] for i in present],
        starts=edges[:-1].copy(),
        ends=edges[1:].copy(),
        values=values[present] if present else np.empty((0, len(edges) - 1)),
    )


def hours_of(times: list[int]) -> set[int]:
    """The epoch-aligned hour starts of ``times`` (ns)."""
    return {t - t % HOUR_NS for t in times}


def zone_ok(zone: str) -> str:
    ZoneInfo(zone)  # raises on an unknown zone
    return zone


def cutoffs(
    keep: KeepFor, now: datetime, zone: str, oldest_mark: int | None
) -> dict[Granularity, int]:
    """Per granularity kept for less than forever, the time (ns) before which it is deleted.

    Raw readings go by whole hours, rollups by whole local days: a daily row is recomputed from
    the hourly rows of its day, which must then all be there. No cutoff passes the oldest hour
    still marked (``oldest_mark``): what its rollups do not cover yet is kept.
    """
    out = {}
    for g in Granularity:
        span = keep.of(g)
        if span is None:
            continue
        t = to_ns(now - span)
        cut = t - t % HOUR_NS if g is Granularity.RAW else day_start(t, zone)
        if oldest_mark is not None:
            cut = min(cut, oldest_mark if g is Granularity.RAW else day_start(oldest_mark, zone))
        out[g] = cut
    return out

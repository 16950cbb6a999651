"""Aggregation windows: their edges (UTC, or the local calendar of a time zone) and reductions.

Sub-day windows (``15m``, ``1h``, ``6h``) are fixed durations aligned on the Unix epoch, as
InfluxDB's ``GROUP BY time()`` aligns them. Day, week (Monday), month and year windows follow the
calendar of the requested zone: in Europe/Paris the last Sunday of March lasts 23 hours and the
last Sunday of October 25. Reductions take points or per-bucket partial aggregates, so a store may
pre-aggregate on the server at a finer, zone-compatible granularity and still be exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from core.series import NS, FloatArray, Int64Array, to_ns
from core.timeseries import Agg

_EVERY = re.compile(r"(\d+)(s|m|h|d|w|mo|y)")
_FIXED_NS = {"s": NS, "m": 60 * NS, "h": 3600 * NS}
_MAX_WINDOWS = 1_000_000


@dataclass(frozen=True, slots=True)
class Every:
    """A parsed window length: a count of seconds, minutes, hours, days, weeks, months or years."""

    count: int
    unit: str

    @property
    def fixed_ns(self) -> int | None:
        """Length in ns for sub-day windows; None for calendar windows."""
        unit_ns = _FIXED_NS.get(self.unit)
        return None if unit_ns is None else self.count * unit_ns

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def parse_every(text: str) -> Every:
    """Parse ``15m``, ``1h``, ``1d``, ``1w``, ``1mo``, ``1y``; sub-day lengths must divide a day."""
    m = _EVERY.fullmatch(text.strip())
    if not m or int(m.group(1)) <= 0:
        raise ValueError(
            f"every={text!r}: expected a positive count and a unit s, m, h, d, w, mo, y"
        )
    every = Every(int(m.group(1)), m.group(2))
    fixed = every.fixed_ns
    if fixed is not None and (86_400 * NS) % fixed:
        raise ValueError(f"every={text!r}: sub-day windows must divide 24 hours")
    return every


def _calendar_start(day: date, every: Every) -> date:
    if every.unit == "w":
        return day - timedelta(days=day.weekday())
    if every.unit == "mo":
        return day.replace(day=1)
    if every.unit == "y":
        return day.replace(month=1, day=1)
    return day


def _calendar_next(day: date, every: Every) -> date:
    if every.unit == "d":
        return day + timedelta(days=every.count)
    if every.unit == "w":
        return day + timedelta(weeks=every.count)
    months = every.count * (12 if every.unit == "y" else 1)
    m = day.month - 1 + months
    return day.replace(year=day.year + m // 12, month=m % 12 + 1)


def window_edges(start: datetime, end: datetime, every: Every, tz: str = "UTC") -> Int64Array:
    """Edges e[0] ≤ start < … < e[-1] ≥ end in ns UTC: window j is [e[j], e[j+1])."""
    if end <= start:
        raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    lo, hi = to_ns(start), to_ns(end)
    fixed = every.fixed_ns
    if fixed is not None:
        first = lo - lo % fixed
        n = -(-(hi - first) // fixed)
        if n > _MAX_WINDOWS:
            raise ValueError(f"{n} windows of {every} is too many; use a longer window")
        return first + fixed * np.arange(n + 1, dtype=np.int64)
    zone = ZoneInfo(tz)
    day = _calendar_start(start.astimezone(zone).date(), every)
    edges = [to_ns(datetime.combine(day, time(), zone))]
    while edges[-1] < hi:
        day = _calendar_next(day, every)
        edges.append(to_ns(datetime.combine(day, time(), zone)))
        if len(edges) > _MAX_WINDOWS:
            raise ValueError(f"too many windows of {every}; use a longer window")
    return np.asarray(edges, dtype=np.int64)


def partial_granularity_ns(edges: Int64Array, every: Every) -> int:
    """The coarsest fixed bucket whose epoch-aligned grid contains every window edge.

    A store can aggregate on the server at this granularity and let ``reduce`` finish the job:
    1 hour for Europe/Paris calendars, 15 minutes for zones with such offsets.
    """
    fixed = every.fixed_ns
    if fixed is not None:
        return fixed
    for g in (3600 * NS, 900 * NS, 60 * NS):
        if not np.any(edges % g):
            return g
    return NS


def reduce(
    times: Int64Array,
    values: FloatArray,
    edges: Int64Array,
    agg: Agg,
    counts: FloatArray | None = None,
    rows: Int64Array | None = None,
    n_rows: int = 1,
) -> FloatArray:
    """Reduce time-ordered points (or partials) into the windows delimited by ``edges``.

    Points may belong to several series: ``rows`` gives each point's series index (non-decreasing,
    times ascending within a series) and the result is an ``(n_rows, windows)`` grid; without
    ``rows`` the result is one row. With partials from a store, ``values`` holds the partial of the
    same kind (sums for SUM, minima for MIN, …) and ``counts`` the partial counts, which MEAN and
    COUNT use in place of counting points. Empty windows give NaN, except COUNT which gives 0.
    """
    n = len(edges) - 1
    idx = np.searchsorted(edges, times, side="right") - 1
    keep = (idx >= 0) & (idx < n)
    if rows is None:
        rows = np.zeros(len(times), dtype=np.int64)
    if not keep.all():
        idx, values, rows = idx[keep], values[keep], rows[keep]
        counts = None if counts is None else counts[keep]
    size = n_rows * n
    flat = rows * n + idx
    weights = np.ones(len(flat)) if counts is None else counts
    number = np.bincount(flat, weights=weights, minlength=size)
    if agg is Agg.COUNT:
        return number.astype(np.float64).reshape(n_rows, n)
    filled = np.bincount(flat, minlength=size) > 0
    out = np.full(size, np.nan)
    if agg is Agg.SUM:
        out[filled] = np.bincount(flat, weights=values, minlength=size)[filled]
    elif agg is Agg.MEAN:
        total = np.bincount(flat, weights=values, minlength=size)
        out[filled] = total[filled] / number[filled]
    elif agg is Agg.MIN:
        acc = np.full(size, np.inf)
        np.minimum.at(acc, flat, values)
        out[filled] = acc[filled]
    elif agg is Agg.MAX:
        acc = np.full(size, -np.inf)
        np.maximum.at(acc, flat, values)
        out[filled] = acc[filled]
    elif agg is Agg.FIRST:
        uniq, first = np.unique(flat, return_index=True)
        out[uniq] = values[first]
    elif agg is Agg.LAST:
        uniq, last_rev = np.unique(flat[::-1], return_index=True)
        out[uniq] = values[::-1][last_rev]
    return out.reshape(n_rows, n)

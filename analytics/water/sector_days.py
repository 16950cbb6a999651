"""A sector's inflow as *water days*: the day's mean flow and the minimum night flow that ends it.

Rule (issue 11, design brief §5 Water)
--------------------------------------
1. Grid: samples are averaged into fixed cells (15 to 60 minutes, see
   :func:`analytics.water.flow_grid.cell_seconds`).
2. A water day runs from ``day_start_hour`` (04:00) local on its date to the same wall-clock
   hour the next date, so the night window ``[02:00, 04:00)`` that closes it is read at the same
   time as its mean: both are known at 04:00, when the day is scored.  DST days last 23 or 25
   hours; the mean is over the day's real length.
3. ``mean_m3h``: the mean of the day's cell means.  ``night_m3h``: the lowest cell mean in the
   night window.  Either is NaN when fewer than ``min_coverage`` of its cells hold a sample, or
   when the series' last sample is before the window's last cell (a day still running is not
   scored: what the detector decides never depends on a day it has only partly seen).
   ``last_ns_of_day``: the time of the day's last sample, what a decision on the day knew.
   ``hourly_m3h``: the mean of each of the day's 24 hours from its start (same coverage rule,
   NaN until the hour is over), with ``hour_last_ns`` the time of its last sample, for the
   detector's fast test within the day.
4. ``kind``: 0 workday, 1 Saturday, 2 Sunday, by the local date the day starts on; ``SKIP``
   (-1) for a public holiday of ``holidays_country`` (use on such days is unlike any other
   day's and too rare in a few weeks to learn) and for the days the clocks change (23 or 25
   hours: their mean misses or repeats a night hour): such days are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from numpy.typing import NDArray

from analytics.water.flow_grid import flow_grid
from analytics.water.night_flow import local_windows, window_stats
from core.config import DEFAULT_ZONE
from core.series import NS, FloatArray, Int64Array

SKIP = -1  # a day the detector does not score


@dataclass(frozen=True)
class SectorDayParams:
    """Day and night windows (local wall-clock hours) and the share of cells a window needs."""

    day_start_hour: int = 4
    night_start_hour: int = 2
    min_coverage: float = 0.75
    holidays_country: str | None = "FR"


@dataclass(frozen=True)
class SectorDays:
    """One entry per water day; arrays share one index."""

    dates: NDArray[np.datetime64]  # local date the day starts on, datetime64[D]
    start_ns: Int64Array  # day start (04:00 local), ns UTC
    end_ns: Int64Array  # day end = night end (04:00 local the next date), ns UTC
    night_start_ns: Int64Array  # 02:00 local the next date, ns UTC
    mean_m3h: FloatArray
    night_m3h: FloatArray
    kind: NDArray[np.int64]
    last_ns_of_day: Int64Array  # time of the day's last sample (what a decision on it knew)
    hourly_m3h: FloatArray  # (days, 24): mean of each hour from the day's start, NaN if unseen
    hour_last_ns: Int64Array  # (days, 24): time of each hour's last sample (-1: none)
    cell_s: int
    last_ns: int  # time of the series' last sample

    def __len__(self) -> int:
        return len(self.dates)


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


def day_kinds(dates: NDArray[np.datetime64], country: str | None) -> NDArray[np.int64]:
    """0 workday, 1 Saturday, 2 Sunday, ``SKIP`` for a public holiday of ``country``."""
    weekday = (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01: Thursday
    kind = np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0)).astype(np.int64)
    if country:
        table = _holidays(country)
        off = [date.fromisoformat(str(d)) in table for d in dates]
        kind[np.asarray(off, dtype=bool)] = SKIP
    return kind


def sector_days(
    times_ns: Int64Array,
    flow_m3h: FloatArray,
    tz: str = DEFAULT_ZONE,
    params: SectorDayParams | None = None,
) -> SectorDays:
    """Water days from the first sample's to the last sample's (incomplete days are NaN)."""
    p = params or SectorDayParams()
    g = flow_grid(times_ns, flow_m3h)
    t, t0, step, means, has = g.times_ns, g.t0_ns, g.step_ns, g.means, g.has
    cell = g.cell_s

    zone = ZoneInfo(tz)
    shift = np.timedelta64(p.day_start_hour, "h").astype("timedelta64[ns]")
    first = datetime.fromtimestamp(int(t[0]) / NS, zone)
    last = datetime.fromtimestamp(int(t[-1]) / NS, zone)
    d0 = (np.datetime64(first.replace(tzinfo=None), "ns") - shift).astype("datetime64[D]")
    d1 = (np.datetime64(last.replace(tzinfo=None), "ns") - shift).astype("datetime64[D]")
    start_time = time(p.day_start_hour)
    dates, ds, de = local_windows(
        date.fromisoformat(str(d0)), date.fromisoformat(str(d1)), start_time, start_time, tz
    )
    night_start = time(p.night_start_hour)
    _, ns, ne = local_windows(
        date.fromisoformat(str(d0 + 1)), date.fromisoformat(str(d1 + 1)), night_start,
        start_time, tz,
    )  # fmt: skip
    day_mean, _ = window_stats(means, has, t0, step, ds, de, np.add, p.min_coverage, mean=True)
    night, _ = window_stats(means, has, t0, step, ns, ne, np.fmin, p.min_coverage)
    seen = de <= int(t[-1]) + step  # the window's last cell holds the last sample or before
    last_of_day = _last_sample(t, de)
    # Each day's 24 hours from its start (real hours: a DST day's are not scored anyway).
    lo = (ds[:, None] + np.arange(24, dtype=np.int64) * 3600 * NS).ravel()
    hi = lo + 3600 * NS
    hour_mean, _ = window_stats(means, has, t0, step, lo, hi, np.add, p.min_coverage, mean=True)
    hour_seen = hi <= int(t[-1]) + step
    return SectorDays(
        dates=dates,
        start_ns=ds,
        end_ns=de,
        night_start_ns=ns,
        mean_m3h=np.where(seen, day_mean, np.nan),
        night_m3h=np.where(seen, night, np.nan),
        kind=np.where(de - ds == 24 * 3600 * NS, day_kinds(dates, p.holidays_country), SKIP),
        last_ns_of_day=last_of_day,
        hourly_m3h=np.where(hour_seen, hour_mean, np.nan).reshape(-1, 24),
        hour_last_ns=_last_sample(t, hi).reshape(-1, 24),
        cell_s=cell,
        last_ns=int(t[-1]),
    )


def _last_sample(t: Int64Array, ends: Int64Array) -> Int64Array:
    """Time of the last sample before each of ``ends`` (-1: none)."""
    k = np.searchsorted(t, ends, side="left") - 1
    return np.where(k >= 0, t[np.clip(k, 0, None)], -1).astype(np.int64)

"""Where UTC hours fall in a zone's week: local hour of week, local month, and holidays.

The hour of week is 0 for Monday 00:00-01:00 local time and 167 for Sunday 23:00-24:00; it
follows the zone's clock through DST changes (the spring Sunday has no 02:00 hour in Paris, the
autumn one has two). A holiday is given the hours of a Sunday: a closed building on a public
holiday looks like a closed building on a Sunday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

HOURS_PER_WEEK = 168
SUNDAY = 6
# Days either side of the hours asked about that are looked at to place a day in its run of
# holidays: a run's length, position and the run before a day are exact up to this many days
# (three weeks: a series that starts in a fortnight's closure knows how long it has been cold).
RUN_LOOKAROUND = 21
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class WeekHours:
    """Local calendar of each UTC hour (one entry per hour)."""

    hour_of_week: IntArray  # 0..167, holidays as Sunday
    month: IntArray  # local month, 1..12
    holiday: BoolArray
    # Where the hour's day lies in its run of consecutive holidays (up to ``RUN_LOOKAROUND``
    # days away is looked at): days since the run began (0 on its first day) and until it ends
    # (0 on its last), -1 on other days; and on the day after a run, that run's length.
    run_day: IntArray
    run_left: IntArray
    after_run: IntArray


def utc_offsets_s(utc_s: IntArray, zone: ZoneInfo) -> IntArray:
    """UTC offset (seconds) of ``zone`` at each UTC time, exact across DST changes.

    Asks the zone twice per UTC day and hour by hour only on the days whose offset changes,
    so a year costs ~730 look-ups instead of 8,760."""
    days = utc_s // 86_400
    uniq, inv = np.unique(days, return_inverse=True)

    def off(s: int) -> int:
        o = datetime.fromtimestamp(s, UTC).astimezone(zone).utcoffset()
        return int(o.total_seconds()) if o is not None else 0

    first = np.array([off(int(d) * 86_400) for d in uniq], dtype=np.int64)
    last = np.array([off(int(d) * 86_400 + 86_399) for d in uniq], dtype=np.int64)
    out = first[inv]
    for k in np.flatnonzero(first != last).tolist():
        rows = np.flatnonzero(inv == k)
        out[rows] = [off(int(s)) for s in utc_s[rows]]
    return out


_CACHE: dict[tuple[object, ...], WeekHours] = {}
_CACHE_SIZE = 8


def week_hours(
    hours: NDArray[np.datetime64], zone: ZoneInfo, holidays: Callable[[date], bool] | None = None
) -> WeekHours:
    """The local hour of week, month and holiday flag of UTC hour starts ``hours``.

    Consecutive hours are cached by (first hour, count, zone, calendar): a fleet of meters on
    one axis asks for the same calendar once."""
    utc_s = np.asarray(hours, dtype="datetime64[s]").astype(np.int64)
    key: tuple[object, ...] | None = None
    if utc_s.size and bool(np.all(np.diff(utc_s) == 3600)):
        key = (int(utc_s[0]), utc_s.size, zone.key, holidays)
    if key is not None and key in _CACHE:
        return _CACHE[key]
    out = _week_hours(utc_s, zone, holidays)
    if key is not None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out
    return out


def _week_hours(
    utc_s: IntArray, zone: ZoneInfo, holidays: Callable[[date], bool] | None
) -> WeekHours:
    local_s = utc_s + utc_offsets_s(utc_s, zone)
    day = local_s // 86_400
    hour = (local_s % 86_400) // 3600
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    month = (day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) + 1
    holiday = np.zeros(day.size, dtype=bool)
    none = np.full(day.size, -1, dtype=np.int64)
    run_day, run_left, after_run = none, none.copy(), np.zeros(day.size, dtype=np.int64)
    if holidays is not None and day.size:
        uniq, inv = np.unique(day, return_inverse=True)
        first, last = int(uniq[0]) - RUN_LOOKAROUND, int(uniq[-1]) + RUN_LOOKAROUND
        every = np.arange(first, last + 1)
        flags = np.array([holidays(date.fromordinal(_EPOCH_ORDINAL + int(d))) for d in every])
        flags = flags.astype(bool)
        since, left = _run_positions(flags)
        at = uniq - first
        holiday = flags[at][inv]
        run_day = np.where(flags, since, -1)[at][inv]
        run_left = np.where(flags, left, -1)[at][inv]
        # the day after a run: that run's length (capped by the look-around)
        prev = np.concatenate([[False], flags[:-1]])
        ended = (~flags) & prev
        length = np.concatenate([[0], since[:-1] + 1])
        after_run = np.where(ended, length, 0)[at][inv]
    how = np.where(holiday, SUNDAY, weekday) * 24 + hour
    return WeekHours(
        how.astype(np.int64),
        month.astype(np.int64),
        holiday,
        run_day.astype(np.int64),
        run_left.astype(np.int64),
        after_run.astype(np.int64),
    )


def _run_positions(flags: BoolArray) -> tuple[IntArray, IntArray]:
    """For each day: days since its run of True began and until it ends (0 on False days)."""
    n = flags.size
    idx = np.arange(n)
    start = np.maximum.accumulate(np.where(~flags, idx, -1)) + 1
    end = np.minimum.accumulate(np.where(~flags, idx, n)[::-1])[::-1] - 1
    return np.where(flags, idx - start, 0), np.where(flags, end - idx, 0)

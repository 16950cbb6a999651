"""The column axis of hourly (or finer) matrices: UTC steps with their local hour and date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from core.config import DEFAULT_ZONE


@dataclass(frozen=True)
class HourlyAxis:
    """UTC hour of each column and its local hour of day and local date."""

    utc: NDArray[np.datetime64]
    local_hour: NDArray[np.int64]
    local_date: NDArray[np.datetime64]


def hourly_axis(start_utc: datetime, n_hours: int, tz: str = DEFAULT_ZONE) -> HourlyAxis:
    """Build the column axis of ``n_hours`` UTC hours starting at ``start_utc`` (aware)."""
    if start_utc.tzinfo is None:
        raise ValueError("start_utc must be timezone-aware")
    zone = ZoneInfo(tz)
    hours: list[int] = []
    dates: list[str] = []
    for i in range(n_hours):
        local = (start_utc + timedelta(hours=i)).astimezone(zone)
        hours.append(local.hour)
        dates.append(local.date().isoformat())
    base = np.datetime64(start_utc.replace(tzinfo=None) - start_utc.utcoffset(), "h")  # type: ignore[operator]
    return HourlyAxis(
        utc=base + np.arange(n_hours).astype("timedelta64[h]"),
        local_hour=np.asarray(hours, dtype=np.int64),
        local_date=np.asarray(dates, dtype="datetime64[D]"),
    )


def night_windows(
    local_hour: NDArray[np.integer], local_date: NDArray[np.datetime64], start: int, end: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Column ranges ``[s, e)`` of each local night (hours ``[start, end)`` of one local date)."""
    lh = np.asarray(local_hour)
    ld = np.asarray(local_date)
    mask = (lh >= start) & (lh < end)
    prev_mask = np.concatenate([[False], mask[:-1]])
    new_date = np.concatenate([[True], ld[1:] != ld[:-1]])
    starts = np.flatnonzero(mask & (~prev_mask | new_date))
    nxt_mask = np.concatenate([mask[1:], [False]])
    date_ends = np.concatenate([ld[1:] != ld[:-1], [True]])
    ends = np.flatnonzero(mask & (~nxt_mask | date_ends)) + 1
    return starts.astype(np.int64), ends.astype(np.int64)

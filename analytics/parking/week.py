"""Where instants fall in the local week: the common clock of profiles and duration limits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from core.series import FloatArray

PARIS = "Europe/Paris"
WEEK_MIN = 7 * 24 * 60


def epoch_s(times: Iterable[datetime]) -> FloatArray:
    """Aware datetimes as Unix seconds."""
    return np.asarray([t.timestamp() for t in times], dtype=np.float64)


def week_minutes(epoch: FloatArray, zone: str = PARIS) -> FloatArray:
    """Minutes since local Monday 00:00 of each instant (DST-aware, via the zone's offset)."""
    tz = ZoneInfo(zone)
    out = np.empty(len(epoch), dtype=np.float64)
    cache: dict[int, float] = {}  # offsets change twice a year: look each hour up once
    for i, s in enumerate(epoch.tolist()):
        hour = int(s // 3600)
        offset = cache.get(hour)
        if offset is None:
            delta = datetime.fromtimestamp(hour * 3600, UTC).astimezone(tz).utcoffset()
            offset = cache[hour] = delta.total_seconds() if delta is not None else 0.0
        local = s + offset
        # 1970-01-01 was a Thursday: shift so that Monday is minute 0.
        out[i] = ((local / 60.0) + 3 * 24 * 60) % WEEK_MIN
    return out

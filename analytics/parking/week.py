"""Where instants fall in the local week: the common clock of profiles and duration limits.

Public holidays behave like Sundays at carpool areas and car parks (no commuters): a day the
``holidays`` predicate names is placed on Sunday, in learning and in use alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from core.config import DEFAULT_ZONE
from core.series import FloatArray

WEEK_MIN = 7 * 24 * 60
DAY_MIN = 24 * 60
SUNDAY = 6

Holidays = Callable[[date], bool]


def week_minutes(
    epoch: FloatArray, zone: str = DEFAULT_ZONE, holidays: Holidays | None = None
) -> FloatArray:
    """Minutes since local Monday 00:00 of each instant (DST-aware; holidays on Sunday)."""
    tz = ZoneInfo(zone)
    out = np.empty(len(epoch), dtype=np.float64)
    cache: dict[int, tuple[float, bool]] = {}  # per UTC hour: offset, and whether a holiday
    for i, s in enumerate(epoch.tolist()):
        hour = int(s // 3600)
        known = cache.get(hour)
        if known is None:
            local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(tz)
            delta = local.utcoffset()
            holiday = holidays is not None and holidays(local.date())
            known = cache[hour] = (delta.total_seconds() if delta is not None else 0.0, holiday)
        offset, holiday = known
        # 1970-01-01 was a Thursday: shift so that Monday is minute 0.
        minutes = ((s + offset) / 60.0 + 3 * DAY_MIN) % WEEK_MIN
        out[i] = SUNDAY * DAY_MIN + minutes % DAY_MIN if holiday else minutes
    return out


def country_holidays(code: str | None) -> Holidays | None:
    """The public holidays of a country (ISO code, e.g. ``FR``, ``GB``); None or "" for none."""
    if not code:
        return None
    import holidays

    days = holidays.country_holidays(code.upper())
    return lambda d: d in days

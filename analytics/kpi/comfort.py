"""Heating setpoint compliance: the share of occupied heating hours warmer than 19 °C on average.

The Code de l'énergie (R241-26) caps the average heating temperature of occupied premises at
19 °C. This is the simple check the sobriety report needs, not the comfort detectors:

- an hour is occupied when its middle (hh:30 local time, Europe/Paris) falls in the building's
  weekly opening hours (registry ``schedule``), except on public holidays and, for school
  buildings (``activity_category`` ``enseignement``), during the school holidays of its zone;
- it is a heating hour when its day lies in the heating season (settings ``kpi.heating_season``,
  by default 1 October to 20 May);
- its temperature is the mean of the hour's readings of each indoor sensor of the building
  (climate devices, readings without a channel: an external probe's channel is left out), then
  the mean over the sensors;
- counted: occupied heating hours that have a temperature; above: those warmer than
  ``kpi.comfort_max_c``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analytics.kpi.inventory import BuildingInfo
from core.calendar import CalendarUnknown, DayKind, FrenchCalendar
from core.config import KpiSettings
from core.series import Int64Array, to_ns
from core.state.vocabulary import WEEKDAYS
from core.timeseries import Agg, Selection, TimeSeriesStore

SCHOOL = "enseignement"


@dataclass(frozen=True, slots=True)
class Comfort:
    """Compliance of one building's occupied heating hours over a period."""

    occupied_heating_hours: int
    measured_hours: int
    hours_above: int
    mean_c: float | None  # mean temperature of the measured hours

    @property
    def share_above(self) -> float | None:
        return self.hours_above / self.measured_hours if self.measured_hours else None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _in_season(day: date, season: list[str]) -> bool:
    first = date.fromisoformat(f"{day.year}-{season[0]}")
    last = date.fromisoformat(f"{day.year}-{season[1]}")
    if first <= last:
        return first <= day <= last
    return day >= first or day <= last  # a season across the new year


def occupied_heating_hours(
    building: BuildingInfo,
    start: datetime,
    end: datetime,
    settings: KpiSettings,
    calendar: FrenchCalendar,
) -> Int64Array:
    """Start (ns UTC) of every occupied heating hour in ``[start, end)``, ascending."""
    schedule = building.schedule or {}
    zone = ZoneInfo(settings.zone)
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    lo, hi = to_ns(start), to_ns(end)
    hours: set[int] = set()
    day = first
    while day <= last:
        ranges = schedule.get(WEEKDAYS[day.weekday()], [])
        if (
            ranges
            and _in_season(day, settings.heating_season)
            and not _closed(building, day, calendar)
        ):
            for a, b in ranges:
                # Hours whose middle (hh:30) lies in [a, b).
                for h in range(-(-(_minutes(a) - 30) // 60), -(-(_minutes(b) - 30) // 60)):
                    t = to_ns(datetime.combine(day, time(h), zone))
                    if lo <= t < hi:
                        hours.add(t)
        day += timedelta(days=1)
    return np.asarray(sorted(hours), dtype=np.int64)


def _closed(building: BuildingInfo, day: date, calendar: FrenchCalendar) -> bool:
    if calendar.day_kind(day) is DayKind.PUBLIC_HOLIDAY:
        return True
    if building.activity_category == SCHOOL and building.holiday_zone:
        try:
            return calendar.school_holiday(day, building.holiday_zone)
        except CalendarUnknown:
            return False
    return False


def comfort(
    store: TimeSeriesStore,
    building: BuildingInfo,
    start: datetime,
    end: datetime,
    settings: KpiSettings,
    calendar: FrenchCalendar,
) -> Comfort | None:
    """Compliance over ``[start, end)``; None when the building has no schedule or sensor."""
    if not building.schedule or not building.climate:
        return None
    wanted = occupied_heating_hours(building, start.astimezone(UTC), end, settings, calendar)
    if len(wanted) == 0:
        return Comfort(0, 0, 0, None)
    grid = store.aggregate(
        Selection.of("temperature_c", devices=building.climate, channel=None),
        start,
        end,
        "1h",
        Agg.MEAN,
    )
    if len(grid) == 0:
        return Comfort(len(wanted), 0, 0, None)
    with np.errstate(all="ignore"):
        counts = np.isfinite(grid.values).sum(axis=0)
        sums = np.nansum(grid.values, axis=0)
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    index = np.searchsorted(grid.starts, wanted)
    ok = (index < len(grid.starts)) & (
        grid.starts[np.minimum(index, len(grid.starts) - 1)] == wanted
    )
    values = mean[index[ok]]
    values = values[np.isfinite(values)]
    above = int((values > settings.comfort_max_c).sum())
    return Comfort(
        occupied_heating_hours=len(wanted),
        measured_hours=len(values),
        hours_above=above,
        mean_c=float(values.mean()) if len(values) else None,
    )

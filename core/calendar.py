"""Occupancy calendars: French public holidays and school holidays by zone (A, B, C).

Public holidays come from ``holidays`` (metropolitan France); school holidays from
``vacances-scolaires-france``, which ships the Ministry's published calendar. Years beyond the
published calendar raise ``CalendarUnknown`` rather than pretending term time.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache

import holidays
from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"


class CalendarUnknown(LookupError):
    """The school-holiday calendar of that year is not published (yet)."""


class FrenchCalendar:
    """Which days are public holidays, weekends and school holidays of a zone."""

    def __init__(self) -> None:
        self._school = SchoolHolidayDates()
        self._public: holidays.HolidayBase = holidays.country_holidays("FR")

    def day_kind(self, day: date) -> DayKind:
        if day in self._public:
            return DayKind.PUBLIC_HOLIDAY
        return DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY

    def public_holiday(self, day: date) -> str | None:
        """The holiday's name, or None."""
        name = self._public.get(day)
        return None if name is None else str(name)

    def school_holiday(self, day: date, zone: str) -> bool:
        return _school_holiday(self._school, day, zone.upper())


@lru_cache(maxsize=4096)
def _school_holiday(source: SchoolHolidayDates, day: date, zone: str) -> bool:
    if zone not in ("A", "B", "C"):
        raise ValueError(f"school-holiday zone must be A, B or C, not {zone!r}")
    try:
        return bool(source.is_holiday_for_zone(day, zone))
    except UnsupportedYearException:
        raise CalendarUnknown(f"no published school-holiday calendar for {day.year}") from None

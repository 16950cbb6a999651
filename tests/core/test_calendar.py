"""French public and school holidays, from the published calendars."""

from __future__ import annotations

from datetime import date

import pytest

from core.calendar import CalendarUnknown, DayKind, FrenchCalendar

CAL = FrenchCalendar()


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 7, 14), DayKind.PUBLIC_HOLIDAY),  # fête nationale, a Tuesday
        (date(2026, 5, 14), DayKind.PUBLIC_HOLIDAY),  # Ascension
        (date(2026, 5, 25), DayKind.PUBLIC_HOLIDAY),  # lundi de Pentecôte
        (date(2026, 11, 21), DayKind.WEEKEND),
        (date(2026, 11, 23), DayKind.WORKDAY),
    ],
)
def test_day_kinds(day: date, kind: DayKind) -> None:
    assert CAL.day_kind(day) is kind


def test_christmas_holidays_are_everywhere_and_winter_holidays_follow_the_zones() -> None:
    assert all(CAL.school_holiday(date(2026, 12, 28), z) for z in "ABC")
    # February 2027: zones A and C on holiday the week of 15 February, zone B not.
    assert [CAL.school_holiday(date(2027, 2, 15), z) for z in "ABC"] == [True, False, True]
    assert not CAL.school_holiday(date(2026, 11, 23), "B")


def test_unknown_zone_and_unpublished_years_are_errors() -> None:
    with pytest.raises(ValueError, match="zone"):
        CAL.school_holiday(date(2026, 12, 28), "D")
    with pytest.raises(CalendarUnknown):
        CAL.school_holiday(date(2035, 3, 1), "B")

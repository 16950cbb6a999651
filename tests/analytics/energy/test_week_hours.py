"""Local hour of week through DST changes, and holidays as Sundays."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analytics.energy.week_hours import utc_offsets_s, week_hours

PARIS = ZoneInfo("Europe/Paris")


def _hours(first: str, n: int) -> np.ndarray:
    return (np.datetime64(first, "h") + np.arange(n)).astype("datetime64[s]")


def test_the_spring_sunday_skips_two_oclock() -> None:
    h = _hours("2026-03-28T22:00", 6)  # Sat 23:00 .. Sun 04:00 local (CEST from 01:00 UTC)
    w = week_hours(h, PARIS)
    assert (w.hour_of_week // 24).tolist() == [5, 6, 6, 6, 6, 6]
    assert (w.hour_of_week % 24).tolist() == [23, 0, 1, 3, 4, 5]


def test_the_autumn_sunday_has_two_oclock_twice() -> None:
    h = _hours("2026-10-24T23:00", 4)  # Sun 01:00 CEST .. 03:00 CET
    w = week_hours(h, PARIS)
    assert (w.hour_of_week % 24).tolist() == [1, 2, 2, 3]


def test_offsets_match_the_zone_hour_by_hour_for_a_year() -> None:
    h = _hours("2025-12-31T00:00", 24 * 367)
    got = utc_offsets_s(h.astype(np.int64), PARIS)
    from datetime import UTC, datetime

    want = [
        datetime.fromtimestamp(int(s), UTC).astimezone(PARIS).utcoffset().total_seconds()  # type: ignore[union-attr]
        for s in h.astype(np.int64)
    ]
    np.testing.assert_array_equal(got, want)


def test_holidays_take_the_hours_of_a_sunday_and_months_are_local() -> None:
    h = _hours("2026-04-30T21:00", 4)  # Thu 23:00 local .. Fri 1 May 02:00
    w = week_hours(h, PARIS, lambda d: d == date(2026, 5, 1))
    assert w.holiday.tolist() == [False, True, True, True]
    assert (w.hour_of_week // 24).tolist() == [3, 6, 6, 6]
    assert w.month.tolist() == [4, 5, 5, 5]


def test_a_fleet_on_one_axis_shares_one_calendar() -> None:
    h = _hours("2026-01-01T00:00", 24 * 10)

    def holidays(d: date) -> bool:
        return d == date(2026, 1, 1)

    first = week_hours(h, PARIS, holidays)
    assert week_hours(h.copy(), PARIS, holidays) is first
    assert week_hours(h, PARIS, None) is not first
    assert week_hours(h, PARIS, None).holiday.sum() == 0
    gappy = np.delete(h, 5)
    assert week_hours(gappy, PARIS, holidays).hour_of_week.size == gappy.size


def test_each_day_knows_its_place_in_its_run_of_holidays() -> None:
    # A school's fortnight off, Saturday 18 to Sunday 2, and Tuesday 11 alone.
    off = {date(2025, 10, 18) + timedelta(days=k) for k in range(16)} | {date(2025, 11, 11)}
    w = week_hours(_hours("2025-10-16T22:00", 24 * 27), PARIS, lambda d: d in off)
    noon = w.hour_of_week % 24 == 12  # one hour a local day: the 17th .. the 12th
    day, left, after = (a[noon].tolist() for a in (w.run_day, w.run_left, w.after_run))
    assert day[:3] == [-1, 0, 1] and left[:3] == [-1, 15, 14]  # Friday 17, Saturday, Sunday
    assert day[16] == 15 and left[16] == 0 and after[17] == 16  # Sunday 2; Monday 3 reopens
    assert (day[25], left[25], after[26]) == (0, 0, 1)  # Tuesday 11 alone; Wednesday after it

"""Water days: the day's mean and the night minimum that closes it, complete days only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.sector_days import SKIP, SectorDayParams, sector_days
from core.series import NS, to_ns

PARIS = ZoneInfo("Europe/Paris")


def _grid(start: datetime, days: int, step_s: int = 900) -> np.ndarray:
    return to_ns(start) + np.arange(days * 86400 // step_s, dtype=np.int64) * step_s * NS


def _local_hour(t: np.ndarray) -> np.ndarray:
    return np.array([datetime.fromtimestamp(int(x) / NS, PARIS).hour for x in t])


def test_a_day_runs_from_four_to_four_with_its_night_at_the_end() -> None:
    t = _grid(datetime(2025, 1, 5, 23, tzinfo=UTC), 10)  # 00:00 local on the 6th
    hour = _local_hour(t)
    flow = np.where((hour >= 2) & (hour < 4), 1.0, 3.0)
    days = sector_days(t, flow)
    assert str(days.dates[0]) == "2025-01-05"  # 00:00-04:00 on the 6th closes the 5th's day
    assert np.isnan(days.mean_m3h[0])  # it began before the data
    full = np.isfinite(days.mean_m3h)
    assert days.mean_m3h[full] == pytest.approx(3.0 - 2 * 2.0 / 24)
    assert days.night_m3h[full] == pytest.approx(1.0)
    k = int(np.flatnonzero(full)[0])
    assert days.start_ns[k] == to_ns(datetime(2025, 1, 6, 3, tzinfo=UTC))  # 04:00 CET
    assert days.end_ns[k] - days.start_ns[k] == 24 * 3600 * NS
    assert days.night_start_ns[k] == days.end_ns[k] - 2 * 3600 * NS
    # What a decision on the day knew: its last sample, the quarter before 04:00.
    assert days.last_ns_of_day[k] == days.end_ns[k] - 900 * NS


def test_a_day_still_running_is_not_read() -> None:
    t = _grid(datetime(2025, 1, 6, 3, tzinfo=UTC), 5)
    cut = t[t < to_ns(datetime(2025, 1, 10, 1, tzinfo=UTC))]  # stops at 02:00 local
    days = sector_days(cut, np.ones(cut.size))
    assert np.isnan(days.mean_m3h[-1]) and np.isnan(days.night_m3h[-1])
    assert np.isfinite(days.mean_m3h[:-1]).all()
    # Up to the day's last quarter, and it is read.
    upto = t[t <= to_ns(datetime(2025, 1, 10, 2, 45, tzinfo=UTC))]
    assert np.isfinite(sector_days(upto, np.ones(upto.size)).mean_m3h[-1])


def test_holidays_and_clock_changes_are_not_scored() -> None:
    t = _grid(datetime(2025, 3, 24, tzinfo=UTC), 40, 3600)
    days = sector_days(t, np.ones(t.size))
    skipped = {str(d) for d, k in zip(days.dates, days.kind, strict=True) if k == SKIP}
    # The 29th's day ends at 04:00 CEST on the 30th: 23 hours long.
    assert skipped == {"2025-03-29", "2025-04-21", "2025-05-01"}
    kinds = {str(d): int(k) for d, k in zip(days.dates, days.kind, strict=True)}
    assert (kinds["2025-04-04"], kinds["2025-04-05"], kinds["2025-04-06"]) == (0, 1, 2)
    abroad = sector_days(t, np.ones(t.size), params=SectorDayParams(holidays_country=None))
    assert {str(d) for d, k in zip(abroad.dates, abroad.kind, strict=True) if k == SKIP} == {
        "2025-03-29"
    }


def test_too_little_data_in_a_window_leaves_it_unknown() -> None:
    t = _grid(datetime(2025, 1, 6, 3, tzinfo=UTC), 6)
    hour = _local_hour(t)
    day3 = (t >= t[0] + 2 * 86400 * NS) & (t < t[0] + 3 * 86400 * NS)
    keep = ~(day3 & (hour >= 1) & (hour < 4))  # the third night is lost
    days = sector_days(t[keep], np.ones(int(keep.sum())))
    assert np.isnan(days.night_m3h[2]) and np.isfinite(days.mean_m3h[2])
    assert np.isfinite(days.night_m3h[[0, 1, 3, 4]]).all()


def test_samples_are_taken_in_time_order_whatever_the_file_order() -> None:
    t = _grid(datetime(2025, 1, 6, 3, tzinfo=UTC), 8)
    flow = 2.0 + np.sin(np.arange(t.size) / 7)
    rng = np.random.default_rng(1)
    order = rng.permutation(t.size)
    a, b = sector_days(t, flow), sector_days(t[order], flow[order])
    np.testing.assert_array_equal(a.mean_m3h, b.mean_m3h)
    np.testing.assert_array_equal(a.last_ns_of_day, b.last_ns_of_day)
    assert timedelta(seconds=a.cell_s) == timedelta(minutes=15)

"""Carpool spaces: weekday commuter mornings, quiet weekends, one car per space."""

from __future__ import annotations

import numpy as np

from core.calendar import FrenchCalendar
from simulator.parking import PER_HOUR, simulate_area
from tests.simulator.conftest import START, territory

AREA = territory(households=1, spaces=40).areas[0]


def test_deterministic_for_a_seed(calendar: FrenchCalendar) -> None:
    a, b = simulate_area(AREA, START, 7, 5, calendar), simulate_area(AREA, START, 7, 5, calendar)
    c = simulate_area(AREA, START, 7, 6, calendar)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_weekday_mornings_peak_and_weekends_stay_low(calendar: FrenchCalendar) -> None:
    # 2024-01-08 (Monday) is UTC+1: local 10:00 is step 9 h × 12 after local midnight.
    occ = np.stack(list(simulate_area(AREA, START, 28, 1, calendar).values())).mean(axis=0)
    days = occ.reshape(28, 24 * PER_HOUR)
    local = np.roll(days, -PER_HOUR, axis=1)  # UTC → local winter time (UTC+1) ~ shift an hour
    weekdays = [d for d in range(7, 28) if d % 7 < 5]
    weekends = [d for d in range(7, 28) if d % 7 >= 5]
    ten_am = slice(10 * PER_HOUR, 11 * PER_HOUR)
    three_am = slice(3 * PER_HOUR, 4 * PER_HOUR)
    peak = local[weekdays][:, ten_am].mean()
    assert 0.45 < peak < 0.85  # commuter_share 0.6
    assert local[weekdays][:, three_am].mean() < 0.1
    assert local[weekends][:, ten_am].mean() < peak / 3
    hourly = local[weekdays].mean(axis=0).reshape(24, PER_HOUR).mean(axis=1)
    assert 8 <= int(hourly.argmax()) <= 16


def test_occupancy_is_zero_or_one() -> None:
    occ = simulate_area(AREA, START, 3, 1, FrenchCalendar())
    assert all(set(np.unique(v)) <= {0.0, 1.0} for v in occ.values())

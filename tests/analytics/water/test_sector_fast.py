"""The sector detector's fast test on hand-made hourly tables."""

from __future__ import annotations

import numpy as np

from analytics.water.sector_fast import fast_rise

USUAL = np.concatenate([np.full(6, 1.0), np.full(14, 4.0), np.full(4, 2.0)])  # from 04:00


def _days(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    swing = 1 + rng.normal(0, 0.03, (n, 1))  # a day's use, up or down
    return USUAL * swing + rng.normal(0, 0.05, (n, 24))


def test_a_flow_added_to_every_hour_is_found_and_dated_to_the_hour() -> None:
    ref = _days(21, seed=1)
    prev, today = _days(2, seed=2)
    prev[9:] += 1.0  # from 13:00
    # That day the quiet hours (its first six) were before it: not yet.
    assert fast_rise(ref[0], prev, ref, 12, 6.0, 0.2, 0.7) is None
    today += 1.0
    rise = fast_rise(prev, today, ref, hours=12, sigmas=6.0, floor_m3h=0.2, low_ratio=0.7)
    assert rise is not None
    assert rise.onset == 9  # hours from the previous day's start
    assert rise.hour < 6  # once the first quiet hours have risen too
    assert abs(rise.size_m3h - 1.0) < 0.15


def test_more_use_in_the_busy_hours_only_is_not_a_leak() -> None:
    ref = _days(21, seed=3)
    prev, today = _days(2, seed=4)
    today += np.where(USUAL > 3, 1.5, 0.0)  # busy hours only: the quiet ones did not move
    without = fast_rise(prev, today, ref, hours=12, sigmas=6.0, floor_m3h=0.2)
    assert without is not None  # the median of the hours alone would take it
    assert fast_rise(prev, today, ref, hours=12, sigmas=6.0, floor_m3h=0.2, low_ratio=0.7) is None


def test_hours_not_seen_yet_decide_nothing_and_a_small_rise_stays_below_the_floor() -> None:
    ref = _days(21, seed=5)
    prev, today = _days(2, seed=6)
    prev[9:] += 1.0
    today += 1.0
    early = today.copy()
    early[1:] = np.nan  # the series ends at 05:00: one quiet hour seen
    assert fast_rise(prev, early, ref, hours=12, sigmas=6.0, floor_m3h=0.2, low_ratio=0.7) is None
    assert fast_rise(prev, today, ref, hours=12, sigmas=6.0, floor_m3h=1.5) is None


def test_a_rise_above_the_ceiling_is_a_burst_not_a_leak() -> None:
    ref = _days(21, seed=7)
    prev, today = _days(2, seed=8)
    prev[9:] += 10.0  # a main bursting: several times the inflow
    today += 10.0
    burst = fast_rise(prev, today, ref, 12, 6.0, 0.2, 0.7, ceiling_m3h=1.5)
    assert burst is None
    assert fast_rise(prev, today, ref, 12, 6.0, 0.2, 0.7) is not None

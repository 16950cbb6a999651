"""Consumption from a cumulative register: exact splits, resets, gaps, uncovered edges."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.kpi.register import clean_index, hourly_use, register_use
from core.series import NS

H = 3600 * NS


def _hours(*hours: float) -> np.ndarray:
    return (np.asarray(hours) * H).astype(np.int64)


def test_readings_on_the_edges_split_the_consumption_exactly() -> None:
    times = _hours(0, 1, 2, 3, 4)
    values = np.array([1000.125, 1001.25, 1003.0, 1003.0, 1010.5])
    r = register_use(times, values, _hours(0, 2, 4))
    assert r.use.tolist() == [2.875, 7.5]
    assert r.covered_share.tolist() == [1.0, 1.0] and r.resets == 0


def test_an_interval_across_an_edge_is_shared_in_proportion_to_time() -> None:
    r = register_use(_hours(0, 10), np.array([0.0, 10.0]), _hours(0, 4, 10))
    assert r.use == pytest.approx([4.0, 6.0])


def test_a_drop_is_a_reset_whose_interval_adds_nothing() -> None:
    # Meter replaced between hours 2 and 3: the new one starts at 5.
    values = np.array([100.0, 104.0, 110.0, 5.0, 15.0])
    r = register_use(_hours(0, 1, 2, 3, 4), values, _hours(0, 4))
    assert r.use.tolist() == [20.0]
    assert r.resets == 1
    curve, drops = clean_index(values)
    assert curve.tolist() == [0.0, 4.0, 10.0, 10.0, 20.0] and drops.tolist() == [3]


def test_a_reset_outside_the_windows_is_not_counted() -> None:
    r = register_use(_hours(0, 1, 2, 3), np.array([10.0, 0.0, 2.0, 4.0]), _hours(2, 3))
    assert r.resets == 0 and r.use.tolist() == [2.0]


def test_a_gap_keeps_its_whole_rise_and_says_where_it_was_spread() -> None:
    # Silent from hour 2 to hour 12 (10 h): the index still rose by 30.
    times = _hours(0, 1, 2, 12, 13)
    values = np.array([0.0, 1.0, 2.0, 32.0, 33.0])
    r = register_use(times, values, _hours(0, 6, 13), max_gap_ns=3 * H)
    assert r.use.sum() == 33.0
    assert r.use == pytest.approx([2.0 + 12.0, 18.0 + 1.0])
    assert r.gap_share == pytest.approx([4 / 6, 6 / 7])


def test_nothing_is_extrapolated_before_the_first_or_after_the_last_reading() -> None:
    r = register_use(_hours(5, 6, 7), np.array([1.0, 2.0, 3.0]), _hours(0, 4, 8, 12))
    assert r.use.tolist() == [0.0, 2.0, 0.0]
    assert r.covered_share.tolist() == [0.0, 0.5, 0.0]


def test_a_single_reading_says_nothing() -> None:
    r = register_use(_hours(1), np.array([5.0]), _hours(0, 2))
    assert r.use.tolist() == [0.0] and r.covered_share.tolist() == [0.0]


def test_hours_in_a_gap_or_outside_the_readings_are_not_measured() -> None:
    times = _hours(0, 1, 2, 6, 7)
    values = np.array([0.0, 1.0, 2.0, 6.0, 7.0])
    use, measured = hourly_use(times, values, _hours(0, 1, 2, 3, 4, 5, 6, 7, 8), 2 * H)
    assert use.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert measured.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]

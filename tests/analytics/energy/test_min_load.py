"""The minimum-load watch: a raised daily minimum, day after day, against the days before."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.energy.min_load import MinLoad, MinLoadParams, excess_over_line


def meter(days: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Hourly kWh of a building (hour 0 = local midnight): 10 kWh at night, 30 by day, a
    minimum that follows the cold (heating below 14 °C) through the seasons and from day to
    day."""
    rng = np.random.default_rng(seed)
    n = days * 24
    hod = np.arange(n) % 24
    season = 10.0 + 8.0 * np.sin(2 * np.pi * (np.arange(days) - 110) / 365)
    daily = np.repeat(season + rng.normal(0.0, 2.0, days), 24)
    temp = daily + 3.0 * np.sin(2 * np.pi * (hod - 9) / 24)
    kwh = (
        10.0
        + 20.0 * ((hod >= 8) & (hod < 18))
        + 0.8 * np.maximum(0.0, 14.0 - temp)
        + rng.normal(0.0, 0.4, n)
    )
    return kwh, temp


def feed(watch: MinLoad, kwh: np.ndarray, temp: np.ndarray) -> np.ndarray:
    """Feed every hour; whether an alarm is in force at each."""
    out = np.zeros(len(kwh), dtype=bool)
    for i, (k, t) in enumerate(zip(kwh, temp, strict=True)):
        watch.step(i, i % 24, float(k), float(t))
        out[i] = watch.level(i) >= 1.0
    return out


def test_clean_days_raise_nothing() -> None:
    for seed in range(5):
        kwh, temp = meter(200, seed)
        assert not feed(MinLoad(), kwh, temp).any(), seed


def test_thirty_percent_more_minimum_for_a_week_alarms_within_it() -> None:
    for seed in range(5):
        kwh, temp = meter(120, seed)
        kwh[100 * 24 : 107 * 24] += 3.0  # +30 % of the 10 kWh nights, every hour of a week
        alarms = feed(MinLoad(), kwh, temp)
        hits = np.flatnonzero(alarms)
        assert len(hits), seed
        assert 100 * 24 < hits[0] <= 108 * 24  # known at the end of a raised day, in the week
        assert not alarms[: 100 * 24].any()


def test_a_single_odd_day_is_not_an_alarm() -> None:
    kwh, temp = meter(120)
    kwh[100 * 24 : 101 * 24] += 20.0  # one day's minimum far off, then back
    assert not feed(MinLoad(), kwh, temp).any()


def test_a_day_is_known_once_over_and_cutting_the_series_changes_nothing_before() -> None:
    kwh, temp = meter(120)
    kwh[100 * 24 : 107 * 24] += 3.0
    whole = feed(MinLoad(), kwh, temp)
    for cut in (100 * 24 + 5, 104 * 24 + 13, 106 * 24):
        np.testing.assert_array_equal(feed(MinLoad(), kwh[:cut], temp[:cut]), whole[:cut])


def test_a_colder_week_is_read_on_the_temperature_line_not_as_an_excess() -> None:
    kwh, temp = meter(120)
    cold = slice(100 * 24, 107 * 24)
    temp[cold] -= 3.0  # three degrees colder: the heating adds 2.4 kWh to every hour
    kwh[cold] += 0.8 * 3.0
    assert not feed(MinLoad(), kwh, temp).any()


def test_nothing_is_said_before_enough_history_and_the_alarm_holds_a_day() -> None:
    p = MinLoadParams(min_history=20, hold_h=24)
    kwh, temp = meter(60)
    kwh[: 24 * 18] += 30.0  # raised from the start: no history says it is not normal
    assert not feed(MinLoad(p), kwh, temp)[: 24 * 18].any()
    kwh, temp = meter(60)
    kwh[40 * 24 :] += 5.0
    alarms = feed(MinLoad(p), kwh, temp)
    first = int(np.flatnonzero(alarms)[0])
    assert first % 24 == 0  # at the first hour of a day: the day before was over
    assert alarms[first : first + 24].all() and not alarms[first + 24]


def test_forgetting_drops_the_history() -> None:
    watch = MinLoad()
    kwh, temp = meter(60)
    feed(watch, kwh, temp)
    watch.forget()
    assert watch.cusum == 0.0 and watch.level(60 * 24) == 0.0
    watch.step(60 * 24, 0, 40.0, 10.0)  # a day far above the old ones: no history to judge it
    for h in range(1, 25):
        watch.step(60 * 24 + h, h % 24, 40.0, 10.0)
    assert watch.cusum == 0.0


def test_excess_over_line_uses_the_temperature_and_a_floor() -> None:
    t = np.linspace(0.0, 10.0, 28)
    minima = 20.0 - t  # one kWh less per degree
    assert abs(excess_over_line(minima, t, 15.0, 5.0, 0.03)) < 1e-6
    # a flat register: the floor (3 % of 10 kWh) is the scale
    assert excess_over_line(np.full(28, 10.0), t, 10.6, 5.0, 0.03) == pytest.approx(2.0)
    assert not math.isnan(excess_over_line(minima, np.full(28, np.nan), 15.0, math.nan, 0.03))


@pytest.mark.parametrize(
    "bad",
    [{"alarm": 0.0}, {"cap": 1.0, "drift": 1.0}, {"min_history": 2}, {"min_hours": 0}],
)
def test_parameters_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        MinLoadParams(**bad)  # type: ignore[arg-type]

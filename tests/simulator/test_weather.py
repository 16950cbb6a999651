"""Weather: seasons, fronts and rain, deterministic for a seed, calibrated on the Caudrésis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from simulator.weather import LocalClock, simulate_weather
from tests.simulator.conftest import CLIMATE, START


def test_same_seed_same_weather_other_seed_differs() -> None:
    a, b = simulate_weather(CLIMATE, START, 20, 7), simulate_weather(CLIMATE, START, 20, 7)
    c = simulate_weather(CLIMATE, START, 20, 8)
    np.testing.assert_array_equal(a.temperature_c, b.temperature_c)
    np.testing.assert_array_equal(a.rain_mm, b.rain_mm)
    assert not np.array_equal(a.temperature_c, c.temperature_c)


def test_a_year_has_the_degree_days_seasons_and_rain_of_northern_france() -> None:
    w = simulate_weather(CLIMATE, START, 365, 1)
    tn, tx, dd = w.daily()
    assert 2500 <= dd.sum() <= 2900
    january, july = w.temperature_c[: 31 * 24].mean(), w.temperature_c[182 * 24 : 213 * 24].mean()
    assert 0 < january < 6 and 15 < july < 22
    assert (tx - tn).mean() > 4
    assert 550 < w.rain_mm.sum() < 950
    assert 100 < (w.rain_mm.reshape(-1, 24).sum(axis=1) > 0.2).sum() < 220


def test_nights_are_colder_than_afternoons_in_local_time() -> None:
    w = simulate_weather(CLIMATE, START, 60, 3)
    hours = LocalClock.build(START, w.hours, timedelta(hours=1)).hour.astype(int)
    assert w.temperature_c[hours == 5].mean() + 4 < w.temperature_c[hours == 15].mean()


def test_local_clock_follows_daylight_saving_time() -> None:
    start = datetime(2024, 3, 30, 12, tzinfo=UTC)  # DST starts 31 March at 01:00 UTC
    clock = LocalClock.build(start, 48, timedelta(hours=1))
    assert clock.hour[0] == 13.0 and clock.hour[24] == 14.0
    assert len(clock.dates) == 3

"""Rivers: a linear reservoir over a base level; heavy rain crosses the vigilance thresholds."""

from __future__ import annotations

import numpy as np

from simulator.rivers import station_distance_mm, station_level
from simulator.weather import Weather
from tests.simulator.conftest import START, territory

STATION = territory(households=1, spaces=1).stations[0]


def _weather(rain: np.ndarray) -> Weather:
    n = len(rain)
    return Weather(START, np.full(n, 8.0), rain, np.full(n, 1013.0), np.zeros(n))


def test_dry_weather_stays_near_the_base_level_below_vigilance() -> None:
    level = station_level(STATION, _weather(np.zeros(24 * 20)), 1)
    assert np.all(np.abs(level - STATION.base_level_m) < 0.25)
    assert level.max() < STATION.vigilance_m["yellow"]


def test_heavy_rain_crosses_thresholds_then_recedes() -> None:
    rain = np.zeros(24 * 30)
    rain[24 * 5 : 24 * 5 + 12] = 1.0  # a wet week before
    rain[24 * 10 : 24 * 10 + 12] = 60 / 12  # 60 mm in 12 h
    level = station_level(STATION, _weather(rain), 1)
    peak = int(level.argmax())
    assert level[peak] > STATION.vigilance_m["orange"]
    assert 24 * 10 <= peak < 24 * 13
    assert level[-1] < STATION.vigilance_m["yellow"]


def test_distance_is_reference_height_minus_level() -> None:
    level = np.array([0.8, 2.0])
    np.testing.assert_allclose(station_distance_mm(STATION, level), [4200.0, 3000.0])

"""River levels: a linear reservoir fed by rain, over a seasonal base level.

Storage S (mm over the catchment) follows dS/dt = r·rain − S/k, with runoff share r = 0.35 when
the catchment is wet (rain in the last week) and 0.15 when dry, and a recession time k of
36-96 hours per station (its seeded character). Level = base level (0.15 m higher in late winter,
when groundwater feeds the river) + gain × S, where the gain is set so that the reference storm —
30 mm in 12 h on a wet catchment, about a once-a-year event in the Cambrésis — brings the river
just over the yellow vigilance threshold; 45-60 mm reach orange and red. The sensor reports
``distance_mm = (reference_height_m − level) × 1000``.
"""

from __future__ import annotations

import numpy as np

from simulator.territory import Station
from simulator.truth import FloatArray
from simulator.weather import Weather, stream

REFERENCE_STORM_MM, REFERENCE_STORM_H = 30.0, 12
WET_RUNOFF, DRY_RUNOFF = 0.35, 0.15


def _reservoir(rain: FloatArray, k_h: float, wet: FloatArray) -> FloatArray:
    a = np.exp(-1.0 / k_h)
    inflow = rain * np.where(wet, WET_RUNOFF, DRY_RUNOFF)
    out = np.empty_like(inflow)
    s = 0.0
    for i, x in enumerate(inflow.tolist()):
        s = a * s + x
        out[i] = s
    return out


def _wet(rain: FloatArray) -> FloatArray:
    week = np.convolve(rain, np.ones(168), mode="full")[: len(rain)]
    return np.asarray(week > 5.0, dtype=np.float64)


def station_level(station: Station, weather: Weather, seed: int) -> FloatArray:
    """Hourly water level (m, in the gauge datum) of one station."""
    rng = stream(seed, "station", station.code)
    k_h = float(rng.uniform(36.0, 96.0))
    storm = np.zeros(24 * 5)
    storm[:REFERENCE_STORM_H] = REFERENCE_STORM_MM / REFERENCE_STORM_H
    peak = float(_reservoir(storm, k_h, np.ones_like(storm)).max())
    yellow = station.vigilance_m.get("yellow", station.base_level_m + 1.0)
    gain = (yellow - station.base_level_m) * 1.05 / peak
    hours = np.arange(weather.hours)
    doy = (weather.start.timetuple().tm_yday - 1) + hours / 24.0
    seasonal = 0.15 * np.cos(2 * np.pi * (doy - 60) / 365.25)
    noise = np.convolve(rng.normal(0.0, 0.004, weather.hours), np.ones(6) / 6, mode="same")
    storage = _reservoir(weather.rain_mm, k_h, _wet(weather.rain_mm))
    return np.asarray(station.base_level_m + seasonal + gain * storage + noise)


def station_distance_mm(station: Station, level_m: FloatArray) -> FloatArray:
    """What the downward-looking sensor measures."""
    return np.asarray((station.reference_height_m - level_m) * 1000.0)

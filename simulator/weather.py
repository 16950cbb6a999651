"""Outdoor weather of the territory: hourly temperature, rain, pressure and daylight.

Temperature = seasonal cycle (the territory's ``Climate``) + day/night cycle (wider in summer)
+ a front anomaly: an Ornstein-Uhlenbeck process with a 3-day memory and a 2.5-3.5 °C spread
(larger in winter, when Atlantic fronts and continental cold spells alternate). With the
Caudrésis normals (Cambrai-Épinoy: annual mean ~10.5 °C, January ~3 °C, July ~18.5 °C) a year
gives ~2,650-2,800 degree days base 18 °C by the Météo method on daily Tn/Tx — the published
range for Cambrai is ~2,500-2,800 depending on the year.

Rain: wet and dry spells (a two-state daily Markov chain, P(wet|wet) = 0.62, P(wet|dry) = 0.30,
~45 % wet days, ~125 a year) and, on wet days, 1-3 showers of a few hours with exponential
intensities: ~700 mm a year, a little wetter in autumn and winter, as in the Nord.

This module also holds the run's shared time base (``LocalClock``: Europe/Paris hour and date of
each grid step) and the seeded random streams every physical model draws from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from simulator.territory import Climate
from simulator.truth import FloatArray

IntArray = npt.NDArray[np.int64]
PARIS = ZoneInfo("Europe/Paris")
HOUR = timedelta(hours=1)
DD_BASE_C = 18.0
LATITUDE_DEG = 50.1  # Cambrai


def stable_hash(text: str) -> int:
    """A hash of ``text`` that does not change between runs (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def stream(seed: int, *names: str) -> np.random.Generator:
    """The random stream of one entity and purpose: independent of every other entity's."""
    return np.random.default_rng([seed, *(stable_hash(n) for n in names)])


def utc(t: datetime) -> datetime:
    """``t`` as an aware UTC datetime (naive datetimes are taken as UTC)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LocalClock:
    """Europe/Paris wall-clock of each step of a regular UTC grid."""

    hour: FloatArray  # local hour of day, 0 ≤ h < 24
    day: IntArray  # index into ``dates`` of each step
    dates: tuple[date, ...]  # the local dates the run touches, in order

    @classmethod
    def build(cls, start: datetime, steps: int, step: timedelta) -> LocalClock:
        start = utc(start)
        step_s = step.total_seconds()
        elapsed = np.arange(steps, dtype=np.float64) * step_s
        n_hours = int(elapsed[-1] // 3600) + 2 if steps else 1
        offsets = np.array(
            [
                (start + i * HOUR).astimezone(PARIS).utcoffset().total_seconds()  # type: ignore[union-attr]
                for i in range(n_hours)
            ]
        )
        local = start.timestamp() + elapsed + offsets[(elapsed // 3600).astype(np.int64)]
        epoch_day = np.floor(local / 86400).astype(np.int64)
        first = int(epoch_day[0]) if steps else 0
        span = int(epoch_day[-1]) - first + 1 if steps else 0
        origin = date(1970, 1, 1).toordinal()
        dates = tuple(date.fromordinal(origin + first + k) for k in range(span))
        return cls(hour=(local - epoch_day * 86400.0) / 3600.0, day=epoch_day - first, dates=dates)


@dataclass(frozen=True, slots=True)
class Weather:
    """Hourly outdoor weather from ``start`` (UTC)."""

    start: datetime
    temperature_c: FloatArray
    rain_mm: FloatArray  # rain during the hour
    pressure_hpa: FloatArray
    daylight: FloatArray  # 0 at night, 1 for a clear noon sun

    @property
    def hours(self) -> int:
        return len(self.temperature_c)

    def daily(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Tn, Tx and degree days base 18 °C (Météo method) per complete UTC day of the run."""
        n_days = self.hours // 24
        t = self.temperature_c[: n_days * 24].reshape(n_days, 24)
        tn, tx = t.min(axis=1), t.max(axis=1)
        return tn, tx, np.maximum(0.0, DD_BASE_C - (tn + tx) / 2)

    def degree_days(self) -> float:
        return float(self.daily()[2].sum())

    def resampled(
        self, values: FloatArray, start: datetime, steps: int, step: timedelta
    ) -> FloatArray:
        """An hourly series of this weather linearly interpolated onto another grid."""
        x = (utc(start) - utc(self.start)).total_seconds() / 3600 + np.arange(steps) * (
            step.total_seconds() / 3600
        )
        return np.asarray(np.interp(x, np.arange(self.hours, dtype=np.float64), values))


def simulate_weather(climate: Climate, start: datetime, days: int, seed: int) -> Weather:
    """The territory's weather for ``days`` days from ``start``; deterministic for ``seed``."""
    start = utc(start)
    n = days * 24
    t_h = np.arange(n, dtype=np.float64)
    clock = LocalClock.build(start, n, HOUR)
    doy = (start.timetuple().tm_yday - 1) + t_h / 24.0
    season = np.cos(2 * np.pi * (doy - (climate.coldest_day_of_year - 1)) / 365.25)  # 1 = coldest
    seasonal = climate.annual_mean_c - climate.annual_amplitude_c * season
    # Day/night: minimum near sunrise, maximum mid-afternoon (UTC+1/+2 handled by local hour).
    daily_amp = climate.daily_amplitude_c * (1.0 - 0.3 * season)
    diurnal = -daily_amp * np.cos(2 * np.pi * (clock.hour - 4.5) / 24.0)

    rng = stream(seed, "weather", "temperature")
    tau_h, sigma = 72.0, 2.75 + 0.75 * season  # memory of fronts, stationary spread
    a = np.exp(-1.0 / tau_h)
    shocks = rng.standard_normal(n) * np.sqrt(1 - a * a)
    anomaly = _ar1(shocks, a) * sigma
    noise = rng.standard_normal(n) * 0.3
    temperature = seasonal + diurnal + anomaly + noise

    rain = _rain(n, doy, stream(seed, "weather", "rain"))
    # Pressure: low with cold fronts and rain, high in settled weather.
    p_rng = stream(seed, "weather", "pressure")
    pressure = 1015.0 + 6.0 * _ar1(p_rng.standard_normal(n) * np.sqrt(1 - a * a), a)
    pressure -= 4.0 * np.convolve(rain, np.ones(12) / 12, mode="same")
    daylight = _daylight(clock.hour, doy) * np.where(rain > 0, 0.35, 1.0)
    return Weather(
        start=start,
        temperature_c=temperature,
        rain_mm=rain,
        pressure_hpa=np.clip(pressure, 960.0, 1045.0),
        daylight=daylight,
    )


def _ar1(shocks: FloatArray, a: float) -> FloatArray:
    """x[t] = a·x[t-1] + shocks[t], started from the stationary distribution."""
    out = np.empty_like(shocks)
    x = shocks[0] / np.sqrt(max(1 - a * a, 1e-12)) if len(shocks) else 0.0
    for i, s in enumerate(shocks.tolist()):
        x = a * x + s if i else x
        out[i] = x
    return out


def _rain(n_hours: int, doy: FloatArray, rng: np.random.Generator) -> FloatArray:
    n_days = (n_hours + 23) // 24
    day_doy = doy[::24][:n_days]
    wetter = 1.0 + 0.15 * np.cos(2 * np.pi * (day_doy - 330) / 365.25)  # wettest late autumn
    u = rng.random(n_days)
    wet = np.zeros(n_days, dtype=bool)
    state = u[0] < 0.45
    for d in range(n_days):
        p = 0.62 if state else 0.30
        state = bool(u[d] < p * wetter[d]) if d else state
        wet[d] = state
    rain = np.zeros(n_days * 24)
    showers = rng.integers(1, 4, n_days)
    for d in np.flatnonzero(wet).tolist():
        for _ in range(int(showers[d])):
            begin = d * 24 + int(rng.integers(0, 24))
            length = int(rng.integers(1, 7))
            total = rng.exponential(2.2) * wetter[d]
            rain[begin : begin + length] += total / length
    return rain[:n_hours]


def _daylight(local_hour: FloatArray, doy: FloatArray) -> FloatArray:
    declination = np.radians(-23.44) * np.cos(2 * np.pi * (doy + 10) / 365.25)
    lat = np.radians(LATITUDE_DEG)
    solar_hour = local_hour - 1.0 - (doy > 88) * (doy < 300) * 1.0  # rough CET/CEST to solar
    angle = np.radians(15.0 * (solar_hour - 12.0))
    elevation = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(
        angle
    )
    return np.asarray(np.clip(elevation / np.sin(np.radians(63.0)), 0.0, 1.0))


def hourly_index(start: datetime, t: datetime) -> int:
    """The hour of a run started at ``start`` that holds ``t``."""
    return int((utc(t) - utc(start)) / HOUR)


__all__ = ["LocalClock", "Weather", "simulate_weather", "stable_hash", "stream"]

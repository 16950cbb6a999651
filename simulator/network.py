"""A sector's network: what moves its demand together, unmetered night use, losses and leaks.

Calibrated on L-Town (BattLeDIM 2020, a district of ~200 m³/h, 2018-2019 H1 leak labels) in
proportion to a sector's size, so that a detector tuned here meets the same difficulties:

- Demand (every household of the sector alike): a seasonal cycle, +/- ``SEASON_AMPLITUDE``
  around the year's mean with its peak in early July, times a day-to-day factor shared by the
  sector (weather, events: an AR(1) of the log with a 1.5 % spread and a 0.3 day-to-day
  correlation: with the households' own randomness, the ~2 % weekday spread and the absent
  day-to-day memory of L-Town's daily mean). Weekends and holidays come from the
  households' own daily shapes.
- Unmetered night use: from May to September, on a quarter of nights, green spaces are watered
  for 2-6 hours starting 22:00-01:00 local, at 5-15 % of the sector's mean demand.
- Background losses: the sector's ``background_loss_m3h``, 15 % higher at night when the
  pressure is high.
- Network leaks: ``LEAKS_PER_KM_YEAR`` new leaks per km of network a year (L-Town: 19 in 2019
  on 42.6 km), 40 % incipient (L-Town 2018-2019 H1: 12 of 24). A leak adds 3-25 % of the
  sector's mean demand (log-uniform; L-Town's 2019 leaks add 6-27 m³/h to ~200); an incipient
  one grows linearly to that flow over 7-90 days (log-uniform; L-Town: 3-97 days). Repairs are
  late: a leak runs 10-400 days (log-uniform), so several run at once, and leaks that started in
  the year before the run are still there when it starts (their repair is a fall of the inflow).
- Bursts: 8-40 m³/h for 2-12 h, one every ~120 days.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np

from simulator.territory import Sector
from simulator.truth import Fault, FloatArray
from simulator.weather import LocalClock, stream

QUARTER = timedelta(minutes=15)
LITRES_PER_PERSON_DAY = 105.0
SEASON_AMPLITUDE = 0.08
SEASON_PEAK_DOY = 190
DAY_FACTOR_SPREAD = 0.015
DAY_FACTOR_MEMORY = 0.3
LEAKS_PER_KM_YEAR = 0.6
INCIPIENT_SHARE = 0.4
LEAK_SHARE = (0.03, 0.25)  # of the sector's mean demand
RAMP_DAYS = (7.0, 90.0)
DURATION_DAYS = (10.0, 400.0)
PRIOR_DAYS = 365  # leaks may have started this long before the run
BURSTS_PER_DAY = 1 / 120


def mean_demand_m3h(sector: Sector) -> float:
    """The sector's mean household demand, m³/h (what leak sizes are scaled on)."""
    persons = sum(h.persons for h in sector.households)
    return persons * LITRES_PER_PERSON_DAY / 24 / 1000


def demand_factor(sector: Sector, dates: tuple[date, ...], seed: int) -> FloatArray:
    """The factor every household's use of each local date is multiplied by."""
    rng = stream(seed, "sector-demand", sector.code)
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=np.float64)
    season = 1.0 + SEASON_AMPLITUDE * np.cos(2 * math.pi * (doy - SEASON_PEAK_DOY) / 365.25)
    shocks = rng.normal(0.0, DAY_FACTOR_SPREAD * math.sqrt(1 - DAY_FACTOR_MEMORY**2), len(dates))
    log_f = np.zeros(len(dates))
    level = rng.normal(0.0, DAY_FACTOR_SPREAD)
    for k, e in enumerate(shocks):
        level = DAY_FACTOR_MEMORY * level + e
        log_f[k] = level
    return np.asarray(season * np.exp(log_f - DAY_FACTOR_SPREAD**2 / 2))


def night_watering(sector: Sector, clock: LocalClock, seed: int) -> FloatArray:
    """m³ of unmetered night watering in each 15-minute step."""
    rng = stream(seed, "sector-watering", sector.code)
    out = np.zeros(len(clock.hour))
    demand = mean_demand_m3h(sector)
    first = np.searchsorted(clock.day, np.arange(len(clock.dates)))
    for k, d in enumerate(clock.dates):
        if not 5 <= d.month <= 9 or rng.random() >= 0.25:
            continue
        begin = float(rng.uniform(22.0, 25.0))
        hours = float(rng.uniform(2.0, 6.0))
        flow = demand * float(rng.uniform(0.05, 0.15))
        i0 = int(first[k]) + round(float(begin - clock.hour[first[k]]) * 4)
        out[max(i0, 0) : max(i0 + int(hours * 4), 0)] += flow * 0.25
    return out


def background_losses(sector: Sector, clock: LocalClock) -> FloatArray:
    """m³ lost per 15-minute step: higher at night when the network pressure rises."""
    night = (clock.hour >= 1) & (clock.hour < 5)
    modulation = np.where(night, 1.15, 1.0)
    modulation = modulation / modulation.mean() if len(modulation) else modulation
    return np.asarray(sector.background_loss_m3h * 0.25 * modulation)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def network_leaks(
    sector: Sector, start: datetime, n: int, seed: int
) -> tuple[FloatArray, list[Fault]]:
    """m³ lost to network leaks and bursts in each 15-minute step of the run, and the faults
    (a leak that started before the run keeps its true start)."""
    rng = stream(seed, "network-leaks", sector.code)
    lost = np.zeros(n)
    found: list[Fault] = []
    per_day = LEAKS_PER_KM_YEAR * sector.network_length_km / 365.25
    prior = PRIOR_DAYS * 96
    demand = mean_demand_m3h(sector)
    for _ in range(int(rng.poisson(per_day * (n + prior) / 96))):
        i0 = int(rng.integers(-prior, n))
        incipient = rng.random() < INCIPIENT_SHARE
        flow = round(demand * _log_uniform(rng, *LEAK_SHARE), 3)
        ramp = _log_uniform(rng, *RAMP_DAYS) * 96 if incipient else 1.0
        i1 = i0 + int(_log_uniform(rng, *DURATION_DAYS) * 96)
        if i1 <= 0:
            continue  # repaired before the run
        k = np.arange(max(i0, 0), min(i1, n)) - i0
        lost[max(i0, 0) : min(i1, n)] += flow * np.minimum(1.0, (k + 1) / ramp) * 0.25
        reached = flow * min(1.0, (i1 - i0) / ramp)
        details: dict[str, object] = {"onset": "incipient" if incipient else "abrupt"}
        if incipient:
            details["peak"] = (start + min(i0 + int(ramp), i1) * QUARTER).isoformat()
        found.append(
            Fault(
                "sector_leak",
                sector.code,
                start + i0 * QUARTER,
                None if i1 >= n else start + i1 * QUARTER,
                round(reached, 3),
                "m³/h",
                details,
            )
        )
    for _ in range(int(rng.poisson(BURSTS_PER_DAY * n / 96))):
        i0 = int(rng.integers(0, n))
        flow = round(rng.uniform(8, 40), 2)
        i1 = i0 + int(rng.integers(8, 49))
        lost[i0 : min(i1, n)] += flow * 0.25
        found.append(
            Fault(
                "burst",
                sector.code,
                start + i0 * QUARTER,
                None if i1 >= n else start + i1 * QUARTER,
                flow,
                "m³/h",
            )
        )
    return lost, found

"""A sector's network like L-Town's: seasons, shared swings, night watering, late-repaired leaks."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from core.calendar import FrenchCalendar
from simulator.network import (
    LEAK_SHARE,
    PRIOR_DAYS,
    demand_factor,
    mean_demand_m3h,
    network_leaks,
    night_watering,
)
from simulator.water import simulate_water
from simulator.weather import LocalClock
from tests.simulator.conftest import START, territory

T = territory(households=200, spaces=1)
SECTOR = T.sectors[0]
QUARTER = timedelta(minutes=15)
YEAR = 365


def test_demand_peaks_in_summer_and_swings_about_two_percent_a_day() -> None:
    clock = LocalClock.build(START, YEAR * 24, timedelta(hours=1))
    f = demand_factor(SECTOR, clock.dates, seed=3)
    months = np.array([d.month for d in clock.dates])
    assert f[months == 7].mean() / f[months == 1].mean() == pytest.approx(1.16, abs=0.03)
    day_to_day = np.diff(np.log(f)) - np.diff(np.log(_season(clock)))
    assert 0.01 < day_to_day.std() / np.sqrt(2) < 0.02  # L-Town's weekday spread: ~2 %


def _season(clock: LocalClock) -> np.ndarray:
    doy = np.array([d.timetuple().tm_yday for d in clock.dates])
    return 1 + 0.08 * np.cos(2 * np.pi * (doy - 190) / 365.25)


def test_night_watering_only_on_summer_nights() -> None:
    clock = LocalClock.build(START, YEAR * 96, QUARTER)
    w = night_watering(SECTOR, clock, seed=5)
    months = np.array([clock.dates[k].month for k in clock.day])
    assert w[(months < 5) | (months > 9)].sum() == 0.0
    watered = w > 0
    assert np.all((clock.hour[watered] >= 22) | (clock.hour[watered] < 7))
    nights = {clock.dates[k] for k in clock.day[watered]}
    assert 0.1 < len(nights) / 153 < 0.45  # a quarter of the May-September nights
    assert w.max() * 4 <= 0.15 * mean_demand_m3h(SECTOR) + 1e-9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_leaks_accumulate_grow_and_wait_for_repair(seed: int) -> None:
    n = YEAR * 96
    lost, faults = network_leaks(SECTOR, START, n, seed)
    leaks = [f for f in faults if f.kind == "sector_leak"]
    assert leaks and all(f.unit == "m³/h" for f in leaks)
    demand = mean_demand_m3h(SECTOR)
    for f in leaks:
        assert f.magnitude is not None and f.magnitude <= LEAK_SHARE[1] * demand + 1e-3
        assert f.start >= START - timedelta(days=PRIOR_DAYS)
    # The injected flow is the sum of the leaks running at each step, bursts aside.
    bursts = [f for f in faults if f.kind == "burst"]
    quiet = np.ones(n, dtype=bool)
    for b in bursts:
        quiet[_index(b.start) : n if b.end is None else _index(b.end)] = False
    running = np.zeros(n, dtype=int)
    for f in leaks:
        running[max(_index(f.start), 0) : n if f.end is None else _index(f.end)] += 1
    assert (lost[quiet & (running == 0)] == 0).all()
    assert (lost[quiet & (running > 0)] > 0).all()


def test_a_year_has_several_leaks_at_once_some_from_before_the_run() -> None:
    most, early, late_repairs = 0, 0, 0
    for seed in range(1, 11):
        _, faults = network_leaks(SECTOR, START, YEAR * 96, seed)
        leaks = [f for f in faults if f.kind == "sector_leak"]
        running = np.zeros(YEAR)
        for f in leaks:
            a = max((f.start - START).days, 0)
            b = YEAR if f.end is None else (f.end - START).days
            running[a:b] += 1
        most = max(most, int(running.max()))
        early += sum(f.start < START for f in leaks)
        late_repairs += sum(f.end is None or (f.end - f.start).days > 90 for f in leaks)
    assert most >= 4
    assert early >= 5 and late_repairs >= 10


def test_an_incipient_leak_grows_linearly_to_its_peak() -> None:
    n = YEAR * 96
    for seed in range(1, 40):
        lost, faults = network_leaks(SECTOR, START, n, seed)
        for f in faults:
            if f.details.get("onset") != "incipient" or f.start < START:
                continue
            i0, ip = _index(f.start), _index(datetime.fromisoformat(f.details["peak"]))
            if ip + 96 > n or (f.end is not None and _index(f.end) < ip + 96):
                continue
            others = np.zeros(n, dtype=bool)
            for g in faults:
                if g is not f:
                    others[max(_index(g.start), 0) : n if g.end is None else _index(g.end)] = True
            if others[i0 : ip + 96].any():
                continue  # only a leak running alone shows its own profile
            ramp = lost[i0:ip] * 4
            assert ramp[-1] == pytest.approx(f.magnitude, rel=0.02)
            assert np.allclose(np.diff(ramp), ramp[1] - ramp[0])  # linear
            assert lost[ip : ip + 96] * 4 == pytest.approx(np.full(96, f.magnitude), rel=1e-3)
            return
    pytest.fail("no incipient leak grew alone inside a run")


def _index(t: datetime) -> int:
    return int((t - START) / QUARTER)


def test_sector_inflow_adds_watering_losses_and_leaks_to_use(calendar: FrenchCalendar) -> None:
    w = simulate_water(T.sectors, {}, START, 200, 4, calendar)
    s = w.sectors["s1"]
    extra = s.inflow_m3 - s.households_m3 - s.buildings_m3
    np.testing.assert_allclose(extra, s.unmetered_m3 + s.losses_m3 + s.leaks_m3, atol=1e-12)
    assert s.unmetered_m3.sum() > 0

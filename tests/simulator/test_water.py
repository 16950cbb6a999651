"""Water: household demand like real homes, sector balance, leaks."""

from __future__ import annotations

import numpy as np

from core.calendar import FrenchCalendar
from simulator.water import simulate_water
from simulator.weather import HOUR, LocalClock
from tests.simulator.conftest import START, territory

T = territory(households=120, spaces=1)


def test_households_use_what_daiad_homes_use(calendar: FrenchCalendar) -> None:
    w = simulate_water(T.sectors, {}, START, 56, 3, calendar, faults=False)
    litres = np.stack(list(w.households_l.values())).reshape(120, 56, 24)
    per_day = litres.sum(axis=2)
    assert 170 < per_day.mean() < 330  # DAIAD: 250 L/household/day
    assert 0.35 < (litres < 0.5).mean() < 0.65  # DAIAD: ~50 % zero-flow hours
    hours = LocalClock.build(START, 56 * 24, HOUR).hour.astype(int).reshape(56, 24)
    mean_by_hour = litres.mean(axis=(0,))
    assert mean_by_hour[hours == 8].mean() > 5 * mean_by_hour[hours == 3].mean()


def test_deterministic_for_a_seed(calendar: FrenchCalendar) -> None:
    a = simulate_water(T.sectors, {}, START, 10, 1, calendar)
    b = simulate_water(T.sectors, {}, START, 10, 1, calendar)
    c = simulate_water(T.sectors, {}, START, 10, 2, calendar)
    np.testing.assert_array_equal(a.sectors["s1"].inflow_m3, b.sectors["s1"].inflow_m3)
    assert not np.array_equal(a.sectors["s1"].inflow_m3, c.sectors["s1"].inflow_m3)


def test_sector_inflow_is_consumption_plus_watering_losses_and_leaks(
    calendar: FrenchCalendar,
) -> None:
    w = simulate_water(T.sectors, {}, START, 120, 4, calendar)
    s = w.sectors["s1"]
    households = np.stack(list(w.households_l.values())).sum(axis=0) / 1000
    assert s.inflow_m3.sum() >= households.sum()
    hourly = s.inflow_m3.reshape(-1, 4).sum(axis=1)
    extra = (s.unmetered_m3 + s.losses_m3 + s.leaks_m3).reshape(-1, 4).sum(axis=1)
    np.testing.assert_allclose(hourly - households, extra, atol=1e-9)
    assert s.losses_m3.sum() * 4 / len(s.losses_m3) == np.float64(0.8) or np.isclose(
        s.losses_m3.sum() / (len(s.losses_m3) / 4), 0.8
    )
    leaks = [f for f in w.faults if f.kind in ("sector_leak", "burst")]
    assert leaks and s.leaks_m3.sum() > 0


def test_a_household_leak_raises_its_night_use_by_its_flow(calendar: FrenchCalendar) -> None:
    clean = simulate_water(T.sectors, {}, START, 365, 9, calendar, faults=False)
    leaky = simulate_water(T.sectors, {}, START, 365, 9, calendar)
    leaks = [f for f in leaky.faults if f.kind == "household_leak"]
    assert leaks
    for f in leaks:
        hh = f.details["household"]
        i0 = int((f.start - START) / HOUR)
        i1 = 365 * 24 if f.end is None else int((f.end - START) / HOUR)
        diff = leaky.households_l[hh][i0:i1] - clean.households_l[hh][i0:i1]
        np.testing.assert_allclose(diff, f.magnitude or 0.0, atol=1e-9)
        assert 5 <= (f.magnitude or 0) <= 50 and f.unit == "L/h"

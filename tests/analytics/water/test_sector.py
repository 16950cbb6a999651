"""Sector leak detector on night-flow steps: synthetic sectors and simulated ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.night_flow import night_flows
from analytics.water.sector import SectorLeak, detect_sector_leaks
from core.series import NS, to_ns

START = datetime(2025, 1, 6, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
QUARTER = 900 * NS


class Sector:
    """A synthetic sector inflow every 15 minutes: night floor, daytime use, noise."""

    def __init__(self, days: int, seed: int, start: datetime = START, night: float = 1.2) -> None:
        self.start = start
        self.t = to_ns(start) + np.arange(days * 96, dtype=np.int64) * QUARTER
        local = [datetime.fromtimestamp(int(x) / NS, PARIS) for x in self.t]
        hour = np.array([x.hour + x.minute / 60 for x in local])
        self.weekend = np.array([x.weekday() >= 5 for x in local])
        rng = np.random.default_rng(seed)
        day_use = 3.0 * np.clip(np.sin((hour - 5) / 19 * np.pi), 0, None)
        self.flow = night + day_use + rng.normal(0, 0.06, self.t.size)

    def at(self, day: float) -> int:
        return int(day * 96)

    def step(self, day: float, m3h: float, until: float | None = None) -> None:
        hi = None if until is None else self.at(until)
        self.flow[self.at(day) : hi] += m3h

    def ramp(self, day: float, m3h: float, over_days: float) -> None:
        k = np.arange(self.t.size - self.at(day))
        self.flow[self.at(day) :] += m3h * np.minimum(1.0, (k + 1) / (over_days * 96))

    def when(self, day: float) -> datetime:
        return self.start + timedelta(days=day)

    def leaks(self) -> list[SectorLeak]:
        return detect_sector_leaks(night_flows(self.t, self.flow))


def test_one_step_is_found_with_onset_flow_and_volume() -> None:
    s = Sector(40, seed=1)
    s.step(20.55, 0.5)
    [leak] = s.leaks()
    onset = s.when(20.55)
    assert onset <= leak.start <= onset + timedelta(days=1)
    assert leak.confirmed_at - onset <= timedelta(days=4)
    assert leak.end is None
    assert leak.flow_m3h_estimate == pytest.approx(0.5, abs=0.08)
    assert leak.baseline_m3h == pytest.approx(1.2, abs=0.15)
    hours = (int(s.t[-1]) - to_ns(leak.start)) / (3600 * NS)
    assert leak.volume_m3 == pytest.approx(leak.flow_m3h_estimate * hours)
    assert leak.night_dates[0] == leak.start.astimezone(PARIS).date()
    assert len(leak.night_dates) == len(leak.night_mnf_m3h) >= 2


def test_accumulating_leaks_are_each_a_new_step() -> None:
    s = Sector(60, seed=1)
    s.step(15.3, 0.4)
    s.step(32.7, 0.8)
    first, second = s.leaks()
    assert first.flow_m3h_estimate == pytest.approx(0.4, abs=0.08)
    assert second.flow_m3h_estimate == pytest.approx(0.8, abs=0.1)
    assert second.baseline_m3h == pytest.approx(first.baseline_m3h + 0.4, abs=0.1)
    assert s.when(32.7) <= second.start <= s.when(33.7)
    assert first.end is None and second.end is None


@pytest.mark.parametrize("seed", [4, 3])
def test_an_incipient_leak_is_caught_within_a_week_and_its_flow_followed(seed: int) -> None:
    s = Sector(60, seed=seed)
    s.ramp(20.4, 1.0, over_days=10)
    leaks = s.leaks()
    # A growing leak comes as successive steps while it grows; together they are the leak.
    assert 2 <= len(leaks) <= 6
    assert leaks[0].confirmed_at - s.when(20.4) <= timedelta(days=4)
    assert all(s.when(20.4) <= e.start <= s.when(30.4) for e in leaks)
    assert all(e.end is None for e in leaks)
    # Each step is measured on its first nights, while the leak still grows, and the last
    # slow part may join the baseline as drift: the sum underestimates, by a fifth at most.
    assert 0.75 <= sum(e.flow_m3h_estimate for e in leaks) <= 1.15


def test_a_repair_ends_the_leak_and_its_volume() -> None:
    s = Sector(60, seed=4)
    s.step(15.6, 1.0, until=36.4)
    [leak] = s.leaks()
    assert leak.end is not None
    assert s.when(36.4) <= leak.end <= s.when(37.4)
    hours = (leak.end - leak.start) / timedelta(hours=1)
    assert leak.volume_m3 == pytest.approx(leak.flow_m3h_estimate * hours)
    assert hours == pytest.approx(21 * 24, abs=30)


def test_a_year_of_seasons_weekends_holidays_and_a_burst_raises_no_leak() -> None:
    s = Sector(365, seed=5)
    day = np.arange(s.t.size) / 96
    s.flow += 0.08 * np.sin(2 * np.pi * day / 365)  # seasonal night use
    s.flow += 0.04 * s.weekend
    # Summer holidays: night use falls by 0.25 m³/h over four days, and back three weeks later.
    away = np.clip((day - 200) / 4, 0, 1) - np.clip((day - 221) / 4, 0, 1)
    s.flow -= 0.25 * away
    # A burst across one night (8 m³/h for 5 hours) and a night of filling a reservoir.
    s.flow[s.at(120.0) : s.at(120.0) + 20] += 8.0
    s.flow[s.at(250.05) : s.at(250.05) + 8] += 3.0
    # The detector is tuned to report a 2 % step within days, so a year of drift may give a
    # step or two just over its floor (0.05 m³/h here); the holidays and the burst give none.
    leaks = s.leaks()
    assert len(leaks) <= 2
    assert all(e.flow_m3h_estimate <= 0.12 for e in leaks)
    assert not any(115 <= (e.start - START).days <= 125 for e in leaks)  # the burst
    assert not any(195 <= (e.start - START).days <= 260 for e in leaks)  # holidays, filling


def test_a_leak_on_the_night_clocks_go_forward_is_dated_that_night() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    s = Sector(50, seed=6, start=start)
    onset = datetime(2025, 3, 29, 21, 0, tzinfo=UTC)
    s.step((onset - start) / timedelta(days=1), 0.6)
    [leak] = s.leaks()
    assert leak.night_dates[0] == date(2025, 3, 30)
    assert leak.start == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 02:00 CET = 03:00 CEST
    assert leak.flow_m3h_estimate == pytest.approx(0.6, abs=0.08)


def test_after_a_long_gap_the_baseline_is_learnt_again() -> None:
    s = Sector(60, seed=7)
    s.step(30.0, 0.7)
    keep = (np.arange(s.t.size) < s.at(20)) | (np.arange(s.t.size) >= s.at(30.0))
    assert detect_sector_leaks(night_flows(s.t[keep], s.flow[keep])) == []


@pytest.fixture(scope="module")
def simulated() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """60 days of the sample territory's sectors, without injected network leaks."""
    from simulator.engine import run_physics
    from simulator.territory_file import SAMPLE_TERRITORY, load_territory

    run = run_physics(load_territory(SAMPLE_TERRITORY), datetime(2025, 9, 1, tzinfo=UTC), 60, 11)
    out = {}
    for code, sector in run.sectors.items():
        t = to_ns(sector.start) + np.arange(sector.losses_m3.size, dtype=np.int64) * QUARTER
        leak_free = sector.households_m3 + sector.buildings_m3 + sector.losses_m3
        out[code] = (t, leak_free * 4.0)  # m³ per quarter hour → m³/h
    return out


def test_simulated_sectors_without_leaks_raise_no_leak_sized_step(
    simulated: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    assert len(simulated) == 2
    for t, flow in simulated.values():
        # The autumn rise of night use may pass for a small step (measured: 0.16 false alarms
        # a sector-month over 40 simulated years), never for a leak of the simulator's size.
        leaks = detect_sector_leaks(night_flows(t, flow))
        assert len(leaks) <= 2
        assert all(e.flow_m3h_estimate < 0.2 for e in leaks)


@pytest.mark.parametrize(("code", "m3h"), [("caudry-centre", 0.4), ("le-cateau-nord", 0.8)])
def test_a_leak_added_to_a_simulated_sector_is_found(
    simulated: dict[str, tuple[np.ndarray, np.ndarray]], code: str, m3h: float
) -> None:
    t, flow = simulated[code]
    flow = flow.copy()
    onset = 30 * 96 + 50
    flow[onset:] += m3h
    [leak] = detect_sector_leaks(night_flows(t, flow))
    onset_at = datetime.fromtimestamp(int(t[onset]) / NS, UTC)
    assert leak.confirmed_at - onset_at <= timedelta(days=7)
    assert leak.flow_m3h_estimate == pytest.approx(m3h, rel=0.3)


def test_one_repair_ends_every_step_of_a_growing_leak_but_not_an_older_leak() -> None:
    s = Sector(90, seed=3)
    s.step(16.3, 0.6)  # an older leak, still running
    s.ramp(35.4, 1.0, over_days=10)
    s.flow[s.at(65.5) :] -= 1.0  # the growing leak is repaired
    leaks = s.leaks()
    older = [e for e in leaks if e.start < s.when(30)]
    growing = [e for e in leaks if e.start >= s.when(35)]
    assert len(older) == 1 and older[0].end is None
    assert len(growing) >= 2
    assert all(e.end is not None and s.when(65.5) <= e.end <= s.when(66.5) for e in growing)

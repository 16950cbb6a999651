"""Sector leak detector on day and night steps: synthetic sectors and simulated ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.sector import SectorLeak, SectorLeakParams, detect_sector_leaks
from analytics.water.sector_days import sector_days
from core.series import NS, to_ns

START = datetime(2025, 1, 6, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
QUARTER = 900 * NS


class Sector:
    """A synthetic sector inflow every 15 minutes: night floor, daytime use, day-to-day swings of
    use, noise; ``dips`` adds nights cut by a tank filling elsewhere (L-Town's nights)."""

    def __init__(
        self,
        days: int,
        seed: int,
        start: datetime = START,
        night: float = 1.2,
        use: float = 3.0,
        dips: float = 0.0,
        swing: float = 0.02,
    ) -> None:
        self.start = start
        self.t = to_ns(start) + np.arange(days * 96, dtype=np.int64) * QUARTER
        local = [datetime.fromtimestamp(int(x) / NS, PARIS) for x in self.t]
        self.hour = hour = np.array([x.hour + x.minute / 60 for x in local])
        self.weekend = np.array([x.weekday() >= 5 for x in local])
        self.day = (self.t - self.t[0]) // (96 * QUARTER)
        rng = np.random.default_rng(seed)
        swing = 1 + rng.normal(0, swing, days)[self.day]  # the sector's use, day to day
        shape = np.clip(np.sin((hour - 5) / 19 * np.pi), 0, None) * np.where(self.weekend, 1.1, 1)
        self.flow = night + use * shape * swing + rng.normal(0, 0.06, self.t.size)
        if dips:
            cut = rng.random(days) < 0.25
            self.flow -= dips * (cut[self.day] & (hour >= 0) & (hour < 6))

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

    def leaks(self, params: SectorLeakParams | None = None) -> list[SectorLeak]:
        return detect_sector_leaks(sector_days(self.t, self.flow), params)


def test_one_step_is_found_with_onset_flow_and_volume() -> None:
    s = Sector(40, seed=1)
    s.step(20.55, 0.5)
    [leak] = s.leaks()
    onset = s.when(20.55)
    assert onset - timedelta(days=1) <= leak.start <= onset
    assert leak.detected_at - onset <= timedelta(days=2)
    assert to_ns(leak.detected_at) in set(s.t.tolist())  # a sample's time: what it had read
    assert leak.end is None
    assert leak.flow_m3h_estimate == pytest.approx(0.5, abs=0.08)
    assert leak.baseline_m3h == pytest.approx(float(np.mean(s.flow[: s.at(20)])), rel=0.05)
    hours = (int(s.t[-1]) - to_ns(leak.start)) / (3600 * NS)
    assert leak.volume_m3 == pytest.approx(leak.flow_m3h_estimate * hours)
    assert leak.day_dates[0] == (leak.start.astimezone(PARIS) - timedelta(hours=4)).date()
    assert len(leak.day_dates) == len(leak.day_mean_m3h) == len(leak.night_m3h) >= 1


def test_what_it_decided_never_depends_on_later_data() -> None:
    s = Sector(60, seed=2)
    s.step(20.55, 0.5)
    s.step(38.3, 0.4)
    full = s.leaks()
    assert len(full) == 2
    for leak in full:
        keep = s.t <= to_ns(leak.detected_at)
        cut = detect_sector_leaks(sector_days(s.t[keep], s.flow[keep]))
        assert (cut[-1].start, cut[-1].detected_at) == (leak.start, leak.detected_at)
        before = s.t < to_ns(leak.detected_at)  # the confirming day not complete yet
        shorter = detect_sector_leaks(sector_days(s.t[before], s.flow[before]))
        assert leak.start not in [e.start for e in shorter]


def test_accumulating_leaks_are_each_a_new_step() -> None:
    s = Sector(60, seed=1)
    s.step(15.3, 0.4)
    s.step(32.7, 0.8)
    first, second = s.leaks()
    assert first.flow_m3h_estimate == pytest.approx(0.4, abs=0.08)
    assert second.flow_m3h_estimate == pytest.approx(0.8, abs=0.1)
    assert second.baseline_m3h == pytest.approx(first.baseline_m3h + 0.4, abs=0.15)
    # A step that large is found by the fast test, its onset dated to the first hour it filled.
    assert s.when(31.7) <= second.start <= s.when(32.7) + timedelta(hours=1)
    assert first.end is None and second.end is None


def test_where_nights_are_disturbed_the_day_mean_finds_the_leak() -> None:
    # Nights cut by 0.8 m³/h on a quarter of days (a tank filling): the night minimum is
    # noisier than the leak, the day's mean is not.
    s = Sector(60, seed=8, dips=0.8)
    s.step(30.4, 0.35)
    leaks = s.leaks()
    assert [e for e in leaks if s.when(29.4) <= e.start <= s.when(31.4)]
    [leak] = [e for e in leaks if e.start >= s.when(29.4)]
    assert leak.detected_at - s.when(30.4) <= timedelta(days=4)
    assert leak.flow_m3h_estimate == pytest.approx(0.35, abs=0.12)
    assert len(leaks) <= 2


@pytest.mark.parametrize("seed", [4, 3])
def test_an_incipient_leak_is_caught_within_a_week_and_its_flow_followed(seed: int) -> None:
    s = Sector(60, seed=seed)
    s.ramp(20.4, 1.0, over_days=10)
    leaks = s.leaks()
    # A growing leak comes as successive steps while it grows; together they are the leak.
    assert 1 <= len(leaks) <= 6
    assert leaks[0].detected_at - s.when(20.4) <= timedelta(days=5)
    assert all(s.when(19.4) <= e.start <= s.when(31.4) for e in leaks)
    assert all(e.end is None for e in leaks)
    assert 0.7 <= sum(e.flow_m3h_estimate for e in leaks) <= 1.2


def test_a_repair_ends_the_leak_and_its_volume() -> None:
    s = Sector(60, seed=4)
    s.step(15.6, 1.0, until=36.4)
    [leak] = s.leaks()
    assert leak.end is not None
    assert s.when(35.4) <= leak.end <= s.when(36.4)
    hours = (leak.end - leak.start) / timedelta(hours=1)
    assert leak.volume_m3 == pytest.approx(leak.flow_m3h_estimate * hours)
    assert hours == pytest.approx(21 * 24, abs=30)


def test_a_year_of_seasons_holidays_and_a_burst_raises_no_leak_sized_step() -> None:
    s = Sector(365, seed=5)
    day = np.arange(s.t.size) / 96
    s.flow *= 1 + 0.08 * np.sin(2 * np.pi * day / 365)  # seasons
    # Summer holidays: day use falls by a third over four days, back three weeks later; the
    # night, when nobody draws water anyway, does not move.
    away = np.clip((day - 200) / 4, 0, 1) - np.clip((day - 221) / 4, 0, 1)
    s.flow -= 1.0 * away * ((s.hour >= 8) & (s.hour < 21))
    s.flow[s.at(120.0) : s.at(120.0) + 20] += 8.0  # a burst across one night, 8 m³/h, 5 h
    # Drift and the gradual return of use may pass for a step just over the floor (0.06 m³/h
    # here); the fall of use is no repair, and nothing is the size of a leak.
    leaks = s.leaks()
    assert len(leaks) <= 4
    assert all(e.flow_m3h_estimate <= 0.1 for e in leaks)
    assert not any(115 <= (e.start - START).days <= 125 for e in leaks)  # the burst


def test_nights_of_watering_turn_the_mix_to_the_day_and_raise_no_leak() -> None:
    s = Sector(200, seed=5)
    rng = np.random.default_rng(9)
    for d in range(60, 170):
        if rng.random() < 0.25:
            s.flow[s.at(d) - 12 : s.at(d) + 12] += 0.3  # 22:00-04:00 local, a quarter of nights
    s.step(120.4, 0.4)
    leaks = s.leaks()
    # The leak is seen in the day's mean within days; the night, read with less weight, may
    # add the rest as a later step. The watering nights give small steps at most.
    mine = [e for e in leaks if s.when(119.4) <= e.start <= s.when(130.4)]
    assert mine and mine[0].detected_at - s.when(120.4) <= timedelta(days=3)
    assert sum(e.flow_m3h_estimate for e in mine) == pytest.approx(0.4, abs=0.12)
    assert all(e.flow_m3h_estimate <= 0.2 for e in leaks if e.start < s.when(119.4))


def test_a_leak_on_the_day_clocks_go_forward_is_dated_from_the_next_day() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    s = Sector(50, seed=6, start=start)
    onset = datetime(2025, 3, 29, 21, 0, tzinfo=UTC)
    s.step((onset - start) / timedelta(days=1), 0.6)
    days = sector_days(s.t, s.flow)
    [skipped] = [d for d, k in zip(days.dates, days.kind, strict=True) if k < 0]
    assert str(skipped) == "2025-03-29"  # 23 hours long: its mean misses a night hour
    [leak] = s.leaks()
    assert leak.day_dates[0] == date(2025, 3, 30)
    assert leak.start == datetime(2025, 3, 30, 2, 0, tzinfo=UTC)  # 04:00 CEST
    assert leak.flow_m3h_estimate == pytest.approx(0.6, abs=0.08)


def test_public_holidays_are_not_scored() -> None:
    s = Sector(60, seed=7, start=datetime(2025, 4, 1, tzinfo=UTC))
    days = sector_days(s.t, s.flow)
    holidays = [str(d) for d, k in zip(days.dates, days.kind, strict=True) if k < 0]
    assert holidays == ["2025-04-21", "2025-05-01", "2025-05-08", "2025-05-29"]  # not scored
    s.flow[np.isin(s.day, [20, 30, 37, 58])] += 2.0  # those days are anything
    assert s.leaks() == []


def test_after_a_long_gap_the_baseline_is_learnt_again() -> None:
    s = Sector(60, seed=7)
    s.step(30.0, 0.7)
    keep = (np.arange(s.t.size) < s.at(20)) | (np.arange(s.t.size) >= s.at(30.0))
    assert detect_sector_leaks(sector_days(s.t[keep], s.flow[keep])) == []


def test_one_repair_ends_every_step_of_a_growing_leak_but_not_an_older_leak() -> None:
    s = Sector(90, seed=3)
    s.step(16.3, 0.6)  # an older leak, still running
    s.ramp(35.4, 1.0, over_days=10)
    s.flow[s.at(65.5) :] -= 1.0  # the growing leak is repaired
    leaks = s.leaks()
    older = [e for e in leaks if e.start < s.when(30)]
    growing = [e for e in leaks if e.start >= s.when(34)]
    assert len(older) == 1 and older[0].end is None
    assert growing
    assert all(e.end is not None and s.when(64.5) <= e.end <= s.when(66.5) for e in growing)


def test_a_fall_of_day_use_is_not_a_repair() -> None:
    s = Sector(80, seed=11)
    s.step(20.3, 0.5)  # a leak
    gone = (np.arange(s.t.size) >= s.at(40)) & (np.arange(s.t.size) < s.at(52))
    s.flow[gone & (s.hour >= 8) & (s.hour < 21)] -= 0.6  # day use falls, the night does not
    leaks = s.leaks()
    assert leaks[0].end is None and leaks[0].flow_m3h_estimate == pytest.approx(0.5, abs=0.1)
    # Its return is no leak of its size (at most a part, when the night happens to rise).
    assert all(e.flow_m3h_estimate < 0.3 for e in leaks[1:])


def test_a_leak_on_a_day_of_much_more_use_is_a_leak_where_day_use_swings() -> None:
    # Day use swinging 8 % day to day (a school, a pool), quiet nights: the leak's first whole
    # day also draws 1.2 m³/h more in its busy hours.  The day moved far more than the night,
    # but within the day's own noise: no change of use, a leak (read as a change of use, it
    # was re-anchored on and never reported).
    s = Sector(50, seed=6, swing=0.08)
    s.step(25.8, 0.25)  # 19:12 UTC, ~5 % of the inflow
    s.flow[(s.day == 26) & (s.hour >= 8) & (s.hour < 20)] += 1.2
    leaks = [e for e in s.leaks() if s.when(24.8) <= e.start <= s.when(27)]
    assert leaks and leaks[0].detected_at - s.when(25.8) <= timedelta(days=2)
    assert leaks[0].flow_m3h_estimate == pytest.approx(0.25, abs=0.1)


def test_a_leak_two_days_after_another_is_its_own_event() -> None:
    s = Sector(50, seed=1)
    s.step(20.55, 0.5)
    s.step(22.75, 0.5)  # a second leak, while the first one's size is still being settled
    leaks = s.leaks()
    assert len(leaks) == 2
    first, second = leaks
    assert s.when(19.55) <= first.start <= s.when(20.6)
    assert s.when(21.75) <= second.start <= s.when(22.8)
    assert second.detected_at - s.when(22.75) <= timedelta(days=2)
    assert first.flow_m3h_estimate + second.flow_m3h_estimate == pytest.approx(1.0, abs=0.15)


@pytest.fixture(scope="module")
def simulated() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """60 days of the sample territory's sectors, without network leaks or bursts."""
    from simulator.engine import run_physics
    from simulator.territory_file import SAMPLE_TERRITORY, load_territory

    run = run_physics(load_territory(SAMPLE_TERRITORY), datetime(2025, 9, 1, tzinfo=UTC), 60, 11)
    out = {}
    for code, sector in run.sectors.items():
        t = to_ns(sector.start) + np.arange(sector.losses_m3.size, dtype=np.int64) * QUARTER
        leak_free = sector.inflow_m3 - sector.leaks_m3
        out[code] = (t, leak_free * 4.0)  # m³ per quarter hour → m³/h
    return out


def test_simulated_sectors_without_leaks_raise_no_leak_sized_step(
    simulated: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    assert len(simulated) == 2
    for t, flow in simulated.values():
        # Drift and September's nights of watering may pass for small steps (measured: ~0.75
        # false alarms a sector-month on simulated years, most where day use swings most),
        # never for a leak of the size the simulator injects at most.
        leaks = detect_sector_leaks(sector_days(t, flow))
        assert len(leaks) <= 4
        assert all(e.flow_m3h_estimate < 0.2 for e in leaks)


@pytest.mark.parametrize(
    ("code", "m3h", "day"), [("caudry-centre", 0.5, 30.5), ("le-cateau-nord", 0.6, 35.2)]
)
def test_a_leak_added_to_a_simulated_sector_is_found(
    simulated: dict[str, tuple[np.ndarray, np.ndarray]], code: str, m3h: float, day: float
) -> None:
    t, flow = simulated[code]
    flow = flow.copy()
    onset = int(day * 96)
    flow[onset:] += m3h  # ~10 % of the inflow, in September's noisy nights of watering
    leaks = detect_sector_leaks(sector_days(t, flow))
    onset_at = datetime.fromtimestamp(int(t[onset]) / NS, UTC)
    # Dated to the hour by the fast test, a few hours late where busy hours are noisy.
    late = timedelta(hours=6)
    [leak] = [e for e in leaks if onset_at - timedelta(days=1) <= e.start <= onset_at + late]
    assert leak.detected_at - onset_at <= timedelta(days=3)
    assert leak.flow_m3h_estimate == pytest.approx(m3h, rel=0.35)


def test_a_longer_settling_changes_the_flow_never_the_onset_or_detection() -> None:
    s = Sector(50, seed=12)
    s.step(20.7, 0.6)
    [short] = s.leaks(replace(SectorLeakParams(), settle_days=0))
    [settled] = s.leaks()
    assert (short.start, short.detected_at) == (settled.start, settled.detected_at)
    assert abs(settled.flow_m3h_estimate - 0.6) <= abs(short.flow_m3h_estimate - 0.6) + 0.02


FAST = replace(SectorLeakParams(), fast_hours=12)


def test_the_fast_test_finds_a_large_step_within_its_day_dated_to_the_hour() -> None:
    s = Sector(40, seed=1)
    s.step(22.3, 0.8)  # a Tuesday, 08:12 local, ~30 % of the inflow
    [slow] = s.leaks(replace(SectorLeakParams(), fast_hours=0))
    [fast] = s.leaks(FAST)
    onset = s.when(22.3)
    assert onset - timedelta(hours=1) <= fast.start <= onset + timedelta(hours=1)
    # Once the evening's quiet hours have risen too, before the water day ends.
    assert fast.detected_at - onset <= timedelta(hours=18) < slow.detected_at - onset
    assert fast.flow_m3h_estimate == pytest.approx(0.8, abs=0.12)
    keep = s.t <= to_ns(fast.detected_at)  # the day still running: only its hours so far
    [cut] = detect_sector_leaks(sector_days(s.t[keep], s.flow[keep]), FAST)
    assert (cut.start, cut.detected_at) == (fast.start, fast.detected_at)
    before = s.t < to_ns(fast.detected_at)
    assert detect_sector_leaks(sector_days(s.t[before], s.flow[before]), FAST) == []


def test_the_fast_test_ignores_a_day_of_more_use_that_leaves_the_quiet_hours() -> None:
    s = Sector(40, seed=3)
    busy = (s.day == 25) & (s.hour >= 8) & (s.hour < 20)
    s.flow[busy] += 1.0  # a day of events: more use by day, the night as usual
    assert [e for e in s.leaks(FAST) if 24 <= (e.start - START).days <= 26] == []


def test_the_fast_test_raises_no_leak_sized_step_on_simulated_sectors_without_leaks(
    simulated: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    for t, flow in simulated.values():
        # Weekends draw at other hours than workdays: each hour is read net of its kind of
        # day's usual offset (measured: two false fast rises of 15-20 % without it).
        leaks = detect_sector_leaks(sector_days(t, flow), FAST)
        assert len(leaks) <= 4  # small steps of the daily rule, as above
        assert all(e.flow_m3h_estimate < 0.2 for e in leaks)

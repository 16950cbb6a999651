"""Frozen and stale feeds: judged against how long values usually hold at that hour of the week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.parking.availability import area_availability, learn_space_limits
from analytics.parking.frozen import (
    DurationLimits,
    FeedJudgement,
    FreezeParams,
    judge_feed,
    runs,
)
from analytics.parking.space import SpaceState, UnknownReason
from analytics.parking.week import country_holidays
from core.calendar import FrenchCalendar
from core.reading import Reading
from simulator.parking import STEP, simulate_area
from tests.analytics.parking.streams import CLEAN, START, SimArea, sim_area
from tests.simulator.conftest import territory

QUARTER = 900.0
FR = country_holidays("FR")
WEEKS = 5


def area_feed(seed: int = 1, spaces: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """An area's free count every 15 minutes for five weeks from Monday 4 March 2024."""
    area = territory(households=1, spaces=spaces).areas[0]
    occ = np.stack(list(simulate_area(area, START, WEEKS * 7, seed, FrenchCalendar()).values()))
    free = spaces - occ.sum(axis=0)
    t = START.timestamp() + STEP.total_seconds() * np.arange(len(free), dtype=np.float64)
    keep = slice(None, None, int(QUARTER // STEP.total_seconds()))
    return t[keep], free[keep]


def last_week_at(day: int, hour: float) -> datetime:
    """Local (Paris, UTC+1 in March) ``hour`` of the ``day``-th day (0 Monday) of the last week."""
    return START + timedelta(weeks=WEEKS - 1, days=day, hours=hour - 1)


def cut(t: np.ndarray, x: np.ndarray, now: datetime) -> tuple[np.ndarray, np.ndarray]:
    keep = t <= now.timestamp()
    return t[keep], x[keep]


def judge(t: np.ndarray, x: np.ndarray, now: datetime) -> FeedJudgement:
    """The feed judged at ``now`` knowing only its samples up to then."""
    return judge_feed(*cut(t, x, now), now, holidays=FR)


def test_runs() -> None:
    t = np.arange(6, dtype=np.float64) * 60
    starts, lengths, open_start = runs(t, np.array([1.0, 1, 2, 2, 2, 3]))
    assert starts.tolist() == [0, 120] and lengths.tolist() == [120, 180] and open_start == 300


def test_limits_follow_the_hour_a_value_was_set() -> None:
    t, x = area_feed()
    starts, lengths, _ = runs(t, x)
    limits = DurationLimits.learn(starts, lengths, "Europe/Paris", holidays=FR)
    evening = limits.limit(last_week_at(1, 21.5))  # Tuesday night: nothing moves till morning
    morning = limits.limit(last_week_at(1, 8))  # Tuesday 08:00: commuters arrive
    assert evening > timedelta(hours=8)
    assert morning < evening / 2
    empty = DurationLimits.learn(np.empty(0), np.empty(0), params=FreezeParams(fallback_s=7200))
    assert empty.limit(last_week_at(1, 8)) == timedelta(hours=2)


@pytest.mark.parametrize(("day", "hour"), [(1, 3), (1, 10), (1, 18), (5, 15), (6, 23.5)])
def test_a_live_feed_is_neither_frozen_nor_stale(day: int, hour: float) -> None:
    now = last_week_at(day, hour)  # a night, a weekday, an evening, a quiet weekend
    j = judge(*area_feed(), now)
    assert not j.frozen and not j.stale


def test_over_a_whole_week_a_live_feed_is_almost_never_suspect() -> None:
    t, x = area_feed(seed=2)
    hours = [last_week_at(0, 0) + timedelta(hours=h) for h in range(0, 7 * 24, 1)]
    suspect = sum(judge(t, x, now).suspect for now in hours)
    assert suspect <= 2


def test_a_count_repeated_since_the_morning_is_frozen() -> None:
    t, x = area_feed()
    freeze = last_week_at(1, 9)
    x = np.where(t >= freeze.timestamp(), x[np.searchsorted(t, freeze.timestamp())], x)
    early = judge(t, x, freeze + timedelta(hours=1))
    later = judge(t, x, freeze + timedelta(hours=10))
    assert not early.frozen  # an hour of one count at 10:00 happens
    # Ten hours is not: the evening departures always move the count.
    assert later.frozen and not later.stale
    assert later.unchanged_since is not None and later.unchanged_since <= freeze


def test_a_feed_that_stopped_is_stale_not_frozen() -> None:
    t, x = area_feed()
    stop = last_week_at(1, 9)
    now = stop + timedelta(hours=4)
    j = judge(*cut(t, x, stop), now)
    assert j.stale and not j.frozen
    assert j.last_sample == stop


def test_an_area_closed_every_weekend_is_not_frozen_on_a_sunday() -> None:
    t, x = area_feed(seed=3)
    local_h = ((t - START.timestamp()) / 3600 + 1) % (7 * 24)  # hours since local Monday 00:00
    weekend = (local_h >= 4 * 24 + 20) | (local_h < 6)  # Friday 20:00 to Monday 06:00
    x = np.where(weekend, 40.0, x)  # closed: the gate shuts, the count shows every space free
    sunday = last_week_at(6, 20)
    assert not judge(t, x, sunday).suspect
    # The same 48 h of one count from a Tuesday morning is frozen.
    tuesday = last_week_at(1, 8)
    x2 = np.where(t >= tuesday.timestamp(), 17.0, x)
    thursday = tuesday + timedelta(hours=48)
    assert judge(t, x2, thursday).frozen


def test_a_space_stuck_occupied_for_a_day_is_shown_unknown() -> None:
    sim = sim_area(spaces=12, days=10, seed=6, config=CLEAN)
    stuck = sim.spaces[3].device
    assert stuck is not None
    since = START + timedelta(days=8, hours=8)  # Tuesday 09:00 in Paris
    now = since + timedelta(hours=26)
    readings = [
        Reading(r.time, r.device, r.quantity, 1.0)
        if r.device == stuck.dev_eui and r.time >= since
        else r
        for r in sim.readings
    ]
    # The stuck sensor's heartbeats keep coming; add them up to now for the hourly Bosch.
    readings += [
        Reading(since + timedelta(hours=h), stuck.dev_eui, "occupied", 1.0) for h in range(27)
    ]
    limits = learn_space_limits(sim.spaces, readings, since)
    a = area_availability(sim.area, sim.spaces, readings, now, frozen=limits)
    status = a.spaces[sim.spaces[3].code]
    assert (status.state, status.reason) == (SpaceState.UNKNOWN, UnknownReason.FROZEN)
    assert status.known is SpaceState.OCCUPIED
    others = [s for code, s in a.spaces.items() if code != sim.spaces[3].code]
    assert all(s.reason is not UnknownReason.FROZEN for s in others)
    plain = area_availability(sim.area, sim.spaces, readings, now)
    assert plain.spaces[sim.spaces[3].code].state is SpaceState.OCCUPIED
    assert a.unknown == plain.unknown + 1


def test_simulated_days_of_weekday_commuting_set_a_stay_limit() -> None:
    sim = sim_area(spaces=12, days=9, seed=6, config=CLEAN)
    limits = learn_space_limits(sim.spaces, sim.readings, START + timedelta(days=9))
    at_8 = datetime(2024, 3, 12, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Paris
    assert timedelta(hours=9) < limits.occupied.limit(at_8) < timedelta(hours=24)


def _stuck_free(sim: SimArea, index: int, since: datetime, until: datetime) -> list[Reading]:
    """The area's readings with space ``index``'s sensor saying "free" from ``since`` on, its
    heartbeats included (every 6 hours)."""
    stuck = sim.spaces[index].device
    assert stuck is not None
    readings = [r for r in sim.readings if r.device != stuck.dev_eui or r.time < since]
    beats = int((until - since) / timedelta(hours=6)) + 1
    return readings + [
        Reading(since + timedelta(hours=6 * h), stuck.dev_eui, "occupied", 0.0)
        for h in range(beats)
    ]


def test_a_space_stuck_free_while_the_others_fill_is_shown_unknown() -> None:
    sim = sim_area(spaces=12, days=24, seed=6, config=CLEAN)
    since = START + timedelta(days=14, hours=20)  # Monday 18 March, 21:00 in Paris
    now = START + timedelta(days=23, hours=9)  # nine days later, a Wednesday at 10:00
    readings = _stuck_free(sim, 4, since, now)
    # Learned the day before, as the board does; the cars since then come from the readings.
    learned_at = now - timedelta(days=1)
    limits = learn_space_limits(
        sim.spaces, [r for r in readings if r.time <= learned_at], learned_at
    )
    a = area_availability(sim.area, sim.spaces, readings, now, frozen=limits)
    status = a.spaces[sim.spaces[4].code]
    assert (status.state, status.reason) == (SpaceState.UNKNOWN, UnknownReason.STUCK_FREE)
    assert status.known is SpaceState.FREE
    others = [s for code, s in a.spaces.items() if code != sim.spaces[4].code]
    assert all(s.reason is not UnknownReason.STUCK_FREE for s in others)
    # Two days in (a Wednesday morning), too few cars went elsewhere to tell yet.
    early = since + timedelta(days=1, hours=13)
    cut = [r for r in readings if r.time <= early]
    young = learn_space_limits(sim.spaces, cut, early)
    a = area_availability(sim.area, sim.spaces, cut, early, frozen=young)
    assert a.spaces[sim.spaces[4].code].state is SpaceState.FREE


def test_healthy_simulated_spaces_are_never_judged_stuck_free() -> None:
    sim = sim_area(spaces=12, days=24, seed=6, config=CLEAN)
    flagged = judged = 0
    now = START + timedelta(days=14)
    while now < START + timedelta(days=24):  # every 3 hours for ten days, weekend included
        cut = [r for r in sim.readings if r.time <= now]
        limits = learn_space_limits(sim.spaces, cut, now)
        a = area_availability(sim.area, sim.spaces, cut, now, frozen=limits)
        judged += sum(s.known is SpaceState.FREE for s in a.spaces.values())
        flagged += sum(s.reason is UnknownReason.STUCK_FREE for s in a.spaces.values())
        now += timedelta(hours=3)
    assert judged > 400 and flagged == 0

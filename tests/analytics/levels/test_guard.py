"""Sensor-fault guard: what no river can do is masked and reported; real rises pass untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.levels.guard import FaultKind, GuardParams, GuardResult, GuardState, guard_levels
from core.series import from_ns, to_ns

START = datetime(2024, 1, 1, tzinfo=UTC)
NS = 1_000_000_000
PARAMS = GuardParams.for_sensor(3.2, min_level_m=0.0)


def _times(n: int, step_s: float = 900.0, jitter_s: float = 60.0, seed: int = 1) -> np.ndarray:
    """Irregular sampling: a nominal period with seeded jitter (LoRaWAN frames drift)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step_s + rng.uniform(-jitter_s, jitter_s, n)
    return (to_ns(START) + (t * NS).astype(np.int64)).astype(np.int64)


def _calm(n: int, seed: int = 1, base_m: float = 0.8) -> np.ndarray:
    """A calm river read to the millimetre (the sensor's resolution)."""
    rng = np.random.default_rng(seed)
    return np.round(base_m + rng.normal(0.0, 0.004, n), 3)


def _flood(t_ns: np.ndarray, peak_rise_cm_h: float, base_m: float = 0.6) -> np.ndarray:
    """A rain-driven rise: a logistic step whose steepest slope is ``peak_rise_cm_h``."""
    h = (t_ns - t_ns[0]) / NS / 3600
    height = 1.6
    width_h = height * 100 / (4 * peak_rise_cm_h)
    rng = np.random.default_rng(2)
    x = base_m + height / (1 + np.exp(-(h - h.mean()) / width_h))
    return np.asarray(np.round(x + rng.normal(0.0, 0.003, len(h)), 3))


def _faulty(result: GuardResult) -> list[int]:
    return [int(i) for i in np.flatnonzero(result.faulty)]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_single_point_spike_is_masked_and_reported(sign: float) -> None:
    t, x = _times(96), _calm(96)
    x[40] += sign * 0.7  # an echo off a bird (up) or a lost echo (down)
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == [40]
    assert np.isnan(r.level_m[40]) and r.raw_m[40] == x[40]
    np.testing.assert_array_equal(np.delete(r.level_m, 40), np.delete(x, 40))
    [e] = r.episodes
    assert e.kind is FaultKind.SPIKE and e.points == 1
    assert e.start == e.end == from_ns(int(t[40]))
    assert e.evidence["excursion_m"] == pytest.approx(sign * 0.7, abs=0.02)


def test_spike_of_three_readings_is_one_episode_but_four_are_not_a_spike() -> None:
    t, x = _times(96), _calm(96)
    x[30:33] += 0.5  # foam for half an hour
    x[60:64] += 0.5  # four readings: longer than a spike, and no impossible step either
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == [30, 31, 32]
    [e] = r.episodes
    assert (e.kind, e.points) == (FaultKind.SPIKE, 3)


def test_spike_on_a_rising_river_is_judged_against_the_trend() -> None:
    t = _times(120, step_s=900)
    x = _flood(t, peak_rise_cm_h=25.0)
    x[60] += 0.6
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == [60]


@pytest.mark.parametrize(("step_s", "rise_cm_h"), [(900, 30.0), (3600, 40.0), (300, 60.0)])
def test_sustained_rain_driven_rise_is_never_masked(step_s: float, rise_cm_h: float) -> None:
    t = _times(200, step_s=step_s, jitter_s=step_s / 10)
    x = _flood(t, rise_cm_h)
    assert np.max(np.diff(x)) > 0.02  # the river really rises
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == [] and r.episodes == []
    np.testing.assert_array_equal(r.level_m, x)


def test_impossible_jump_is_masked_until_the_level_comes_back() -> None:
    t, x = _times(96), _calm(96)
    x[40:52] += 1.6  # a branch under the sensor for three hours
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == list(range(40, 52))
    [e] = r.episodes
    assert e.kind is FaultKind.JUMP and e.points == 12
    assert e.evidence["outcome"] == "returned"
    assert float(e.evidence["rate_m_h"]) > PARAMS.max_rate_m_h


def test_shifted_level_held_long_is_accepted_as_the_new_normal() -> None:
    t, x = _times(200), _calm(200)
    x[50:] += 1.5  # the sensor was re-mounted lower
    params = GuardParams(max_rate_m_h=4.0, jump_hold_s=6 * 3600)
    r = guard_levels(t, x, params)
    hold = int(np.searchsorted(t, t[50] + 6 * 3600 * NS))
    assert _faulty(r) == list(range(50, hold))
    [e] = r.episodes
    assert e.kind is FaultKind.JUMP and e.evidence["outcome"] == "new_level"
    assert not np.isnan(r.level_m[hold:]).any()


def test_a_large_change_after_a_long_silence_is_credible() -> None:
    t, x = _times(96), _calm(96)
    t[48:] += 8 * 3600 * NS  # the gateway was down 8 h while the river rose 1.2 m
    x[48:] += 1.2
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == []


def test_stuck_reading_is_masked_after_the_first_once_it_lasts() -> None:
    t, x = _times(200), _calm(200)
    x[60:120] = x[60]  # 15 h frozen
    x[150:170] = x[150]  # 5 h of equal readings: not long enough to call it stuck
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == list(range(61, 120))
    [e] = r.episodes
    assert e.kind is FaultKind.STUCK and e.points == 59
    assert float(e.evidence["unchanged_h"]) == pytest.approx(14.75, abs=0.1)


def test_stuck_at_the_end_is_still_open() -> None:
    t, x = _times(100), _calm(100)
    x[40:] = x[40]
    r = guard_levels(t, x, PARAMS)
    [e] = r.episodes
    assert e.kind is FaultKind.STUCK and e.end is None


def test_levels_the_sensor_cannot_see_are_out_of_range() -> None:
    t, x = _times(96), _calm(96)
    x[10] = 3.25  # negative distance: water above the sensor face
    x[20:23] = -0.4  # below the riverbed
    x[30] = np.nan
    r = guard_levels(t, x, PARAMS)
    assert _faulty(r) == [10, 20, 21, 22, 30]
    assert [e.points for e in r.episodes] == [1, 3, 1]
    assert {e.kind for e in r.episodes} == {FaultKind.OUT_OF_RANGE}
    assert r.episodes[1].evidence["lowest_m"] == -0.4
    assert r.episodes[0].evidence["max_level_m"] == 3.2


def _faults_everywhere() -> tuple[np.ndarray, np.ndarray]:
    t = _times(400, seed=5)
    x = _flood(t, 20.0)
    x[30] += 0.8
    x[31] = np.nan  # a frame whose value did not decode, while the spike is undecided
    x[90:92] -= 0.5
    x[150:160] += 1.3
    x[200:270] = x[200]
    x[300] = 4.0
    x[350] = x[349] + 0.6
    return t, x


@pytest.mark.parametrize("cuts", [[1], [32, 91, 155, 240, 301], list(range(5, 400, 7))])
def test_pieces_release_the_same_stream_as_the_whole(cuts: list[int]) -> None:
    t, x = _faults_everywhere()
    whole = guard_levels(t, x, PARAMS, final=False)
    state: GuardState | None = None
    times: list[int] = []
    kinds: list[FaultKind | None] = []
    closed = []
    for a, b in zip([0, *cuts], [*cuts, len(t)], strict=True):
        r = guard_levels(t[a:b], x[a:b], PARAMS, state, final=False)
        # The state goes through JSON between runs, as a runner would store it.
        state = GuardState.from_dict(json.loads(json.dumps(r.state.to_dict(), allow_nan=False)))
        times += r.times_ns.tolist()
        kinds += r.fault
        closed += [e for e in r.episodes if e.end is not None]
    assert times == whole.times_ns.tolist()
    assert kinds == whole.fault
    assert closed == [e for e in whole.episodes if e.end is not None]
    assert [e.kind.value for e in closed] == [
        "spike",
        "out_of_range",
        "spike",
        "jump",
        "stuck",
        "out_of_range",
        "spike",
    ]


def test_held_back_readings_come_out_in_the_next_call() -> None:
    t, x = _times(20), _calm(20)
    x[19] += 0.7  # could be a spike: its fate depends on the next reading
    first = guard_levels(t, x, PARAMS, final=False)
    assert len(first.times_ns) == 19
    t2, x2 = _times(22)[20:], _calm(22)[20:]
    second = guard_levels(t2, x2, PARAMS, first.state, final=False)
    assert second.times_ns.tolist() == [t[19], *t2]
    assert second.fault[0] is FaultKind.SPIKE


def test_replayed_readings_are_ignored() -> None:
    t, x = _times(50), _calm(50)
    first = guard_levels(t[:30], x[:30], PARAMS, final=False)
    replay = x[20:].copy()
    replay[:10] += 1.0  # different values at times already received: not taken
    again = guard_levels(t[20:], replay, PARAMS, first.state)
    released = first.times_ns.tolist() + again.times_ns.tolist()
    assert released == t.tolist()
    np.testing.assert_array_equal(np.concatenate([first.raw_m, again.raw_m])[:30], x[:30])

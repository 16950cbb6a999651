"""Vigilance colours with hysteresis: one episode per flood, nested colours, no flapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.findings import Severity
from analytics.levels.vigilance import (
    Colour,
    Thresholds,
    VigilanceParams,
    VigilanceState,
    track_vigilance,
)
from core.series import from_ns, to_ns
from simulator.territory_file import load_territory

START = datetime(2024, 1, 1, tzinfo=UTC)
NS = 1_000_000_000
STEP_S = 900
THRESHOLDS = Thresholds(1.6, 2.1, 2.6)


def _times(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) * STEP_S + rng.uniform(-60, 60, n)
    return (to_ns(START) + (t * NS).astype(np.int64)).astype(np.int64)


def _at(t_ns: np.int64) -> datetime:
    return from_ns(int(t_ns))


def _hover(n: int = 4 * 48, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two days with the level wandering ±2 cm around the yellow threshold."""
    rng = np.random.default_rng(seed)
    x = THRESHOLDS.yellow_m + rng.uniform(-0.02, 0.02, n)
    return _times(n, seed), np.round(x, 3)


def test_level_hovering_at_the_threshold_gives_one_episode() -> None:
    t, x = _hover()
    r = track_vigilance(t, x, THRESHOLDS)
    [e] = r.episodes
    assert e.colour is Colour.YELLOW and e.end is None
    assert e.peak_m == x.max()
    assert r.state.colour is Colour.YELLOW


def test_without_hysteresis_the_same_level_flaps() -> None:
    t, x = _hover()
    bare = VigilanceParams(enter_readings=1, hysteresis_m=0.0, exit_s=0.0)
    r = track_vigilance(t, x, THRESHOLDS, bare)
    assert len(r.episodes) > 20


def _flood(peak_m: float, n: int = 4 * 72) -> tuple[np.ndarray, np.ndarray]:
    """A flood wave: up over a day, slowly down, from 0.5 m to ``peak_m``."""
    t = _times(n)
    h = np.arange(n) / 4
    x = 0.5 + (peak_m - 0.5) * np.exp(-(((h - 24) / 10) ** 2))
    return t, np.round(x, 3)


def test_escalation_yellow_orange_red_and_back_nests_the_episodes() -> None:
    t, x = _flood(2.9)
    r = track_vigilance(t, x, THRESHOLDS)
    by = {e.colour: e for e in r.episodes}
    assert [e.colour for e in r.episodes] == [Colour.RED, Colour.ORANGE, Colour.YELLOW]
    y, o, red = by[Colour.YELLOW], by[Colour.ORANGE], by[Colour.RED]
    assert y.start < o.start < red.start < red.peak_at
    assert red.end is not None and o.end is not None and y.end is not None
    assert red.end < o.end < y.end
    assert y.peak_m == o.peak_m == red.peak_m == x.max()
    for e in r.episodes:
        first_above = int(np.argmax(x >= e.threshold_m))
        assert e.start == _at(t[first_above])
        assert e.confirmed_at == _at(t[first_above + 2])  # three readings at or above
        assert e.end is not None and e.cleared_at is not None
        first_below = int(np.flatnonzero((x < e.threshold_m - 0.05) & (np.arange(len(x)) > 96))[0])
        assert e.end == _at(t[first_below])
        assert e.cleared_at - e.end >= timedelta(hours=1)
    assert r.state.colour is Colour.GREEN


def test_colour_follows_the_highest_active_threshold() -> None:
    t, x = _flood(2.3)
    seen: list[Colour] = []
    state: VigilanceState | None = None
    for i in range(len(t)):
        state = track_vigilance(t[i : i + 1], x[i : i + 1], THRESHOLDS, state=state).state
        if not seen or seen[-1] is not state.colour:
            seen.append(state.colour)
    assert seen == [Colour.GREEN, Colour.YELLOW, Colour.ORANGE, Colour.YELLOW, Colour.GREEN]


@pytest.mark.parametrize(("above", "episodes"), [(2, 0), (3, 1)])
def test_entering_needs_consecutive_readings(above: int, episodes: int) -> None:
    t = _times(40)
    x = np.full(40, 1.0)
    x[10 : 10 + above] = 1.7
    x[25:27] = 1.7  # two more, apart from the first ones: never three in a row
    assert len(track_vigilance(t, x, THRESHOLDS).episodes) == episodes


def test_leaving_needs_a_lasting_drop_below_the_margin() -> None:
    t = _times(60)
    x = np.full(60, 1.7)
    x[20:23] = 1.50  # 45 min below the margin: not long enough
    x[30:33] = 1.57  # inside the margin: does not count as below
    x[45:] = 1.50
    [e] = track_vigilance(t, x, THRESHOLDS).episodes
    assert e.end == _at(t[45])
    assert e.cleared_at == _at(t[int(np.searchsorted(t, t[45] + 3600 * NS))])


def test_fractional_margin_wins_when_larger() -> None:
    params = VigilanceParams(hysteresis_m=0.05, hysteresis_fraction=0.1)
    assert params.margin_m(2.0) == pytest.approx(0.2)
    assert params.margin_m(0.3) == pytest.approx(0.05)


def test_masked_readings_are_skipped() -> None:
    t = _times(30)
    x = np.full(30, 1.0)
    x[10:14] = [1.7, np.nan, 1.7, 1.7]  # a faulty reading between good ones
    [e] = track_vigilance(t, x, THRESHOLDS).episodes
    assert e.start == _at(t[10]) and e.confirmed_at == _at(t[13])


def test_pieces_give_the_same_episodes_as_the_whole() -> None:
    t, x = _flood(2.9)
    whole = track_vigilance(t, x, THRESHOLDS)
    state: VigilanceState | None = None
    closed = []
    for a in range(0, len(t), 17):
        r = track_vigilance(t[a : a + 17], x[a : a + 17], THRESHOLDS, state=state)
        state = VigilanceState.from_dict(json.loads(json.dumps(r.state.to_dict(), allow_nan=False)))
        closed += [e for e in r.episodes if e.end is not None]
    assert closed == whole.episodes


def test_severity_of_each_colour() -> None:
    assert Colour.GREEN.severity is None
    assert Colour.YELLOW.severity is Severity.WARNING
    assert Colour.ORANGE.severity is Severity.CRITICAL
    assert Colour.RED.severity is Severity.CRITICAL


def test_thresholds_come_from_the_registry_parameters() -> None:
    station = load_territory().stations[0]
    thresholds = Thresholds.from_parameters(station.device.parameters)
    v = station.vigilance_m
    assert thresholds == Thresholds(v["yellow"], v["orange"], v["red"])


@pytest.mark.parametrize(
    "parameters",
    [{}, {"vigilance_m": {"yellow": 1.0}}, {"vigilance_m": {"yellow": 2, "orange": 1, "red": 3}}],
)
def test_bad_registry_thresholds_are_refused(parameters: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Thresholds.from_parameters(parameters)

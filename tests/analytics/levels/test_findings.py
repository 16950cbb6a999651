"""Findings for the alert engine from simulated storms, run whole or piece by piece."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Clearance, Finding, Severity, SubjectKind
from analytics.levels.findings import (
    LevelsState,
    StationConfig,
    StationState,
    evaluate_levels,
    evaluate_station,
    station_series,
)
from analytics.levels.guard import FaultKind, guard_levels
from analytics.levels.rise import track_rise
from analytics.levels.vigilance import Colour, Thresholds, track_vigilance
from core.series import SeriesKey, SeriesSet, from_ns, to_ns
from simulator.rivers import station_distance_mm, station_level
from simulator.territory import Station
from simulator.territory_file import load_territory
from simulator.weather import Weather

START = datetime(2024, 1, 1, tzinfo=UTC)
NS = 1_000_000_000
DAYS = 20
STORM_DAY = 8


@functools.cache
def _stations() -> tuple[Station, ...]:
    return load_territory().stations


def _station(code: str = "selle-le-cateau") -> Station:
    return next(s for s in _stations() if s.code == code)


def _storm(station: Station, storm_mm: float, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A wet week, then ``storm_mm`` in 12 h on day 8, through the simulator's river model;
    read every 15 min (jittered) to the millimetre, as ingest derives it from distance_mm."""
    n = 24 * DAYS
    rain = np.zeros(n)
    rain[24 * 3 : 24 * 3 + 12] = 1.0
    rain[24 * STORM_DAY : 24 * STORM_DAY + 12] = storm_mm / 12
    weather = Weather(START, np.full(n, 8.0), rain, np.full(n, 1013.0), np.zeros(n))
    hourly = station_level(station, weather, seed)
    rng = np.random.default_rng(seed)
    m = (n - 1) * 4
    t_s = np.arange(m) * 900.0 + rng.uniform(-60, 60, m)
    level = np.interp(t_s / 3600, np.arange(n), hourly)
    distance_mm = np.round(station_distance_mm(station, level))
    times = to_ns(START) + (t_s * NS).astype(np.int64)
    return times.astype(np.int64), station.reference_height_m - distance_mm / 1000


def _config(station: Station) -> StationConfig:
    d = station.device
    return StationConfig.from_registry(station.code, station.tenant, d.parameters, d.dev_eui)


def _index(times: np.ndarray, day: float) -> int:
    return int(np.searchsorted(times, to_ns(START + timedelta(days=day))))


def test_simulated_storm_with_a_bird_spike() -> None:
    station = _station()
    times, level = _storm(station, storm_mm=36.0)
    raw = level.copy()
    dry = _index(times, 5.0)
    level[dry : dry + 3] += 1.5  # a bird on the water under the sensor for half an hour
    rising = int(np.argmax(np.diff(level[_index(times, STORM_DAY) :]) > 0.02))
    rising += _index(times, STORM_DAY) + 1
    level[rising] += 0.8  # and an echo off foam while the river rises
    config = _config(station)

    g = guard_levels(times, level, config.guard)
    assert np.flatnonzero(g.faulty).tolist() == [dry, dry + 1, dry + 2, rising]
    assert [e.kind for e in g.episodes] == [FaultKind.SPIKE, FaultKind.SPIKE]
    # Everything else of the real storm, its rise included, passes through.
    np.testing.assert_array_equal(
        np.delete(g.level_m, [dry, dry + 1, dry + 2, rising]),
        np.delete(raw, [dry, dry + 1, dry + 2, rising]),
    )

    events, state = evaluate_station(config, times, level)
    assert all(e.subject == station.code and e.tenant == station.tenant for e in events)
    assert all(e.type in ALERT_TYPES and e.subject_kind is SubjectKind.STATION for e in events)
    vigilance = [e for e in events if e.type == "river_vigilance"]
    starts = {e.start for e in vigilance if isinstance(e, Finding)}
    [start] = starts  # one vigilance alert: the storm's, not the bird's
    assert timedelta(days=STORM_DAY) < start - START < timedelta(days=STORM_DAY + 2)
    assert [type(e) for e in vigilance][-1] is Clearance
    rises = [e for e in events if isinstance(e, Finding) and e.type == "river_rise"]
    assert rises and all(e.start >= START + timedelta(days=STORM_DAY) for e in rises)
    faults = [e for e in events if isinstance(e, Finding) and e.type == "level_sensor_fault"]
    assert [(e.evidence["kind"], e.evidence["points"]) for e in faults] == [
        ("spike", 3),
        ("spike", 1),
    ]
    assert faults[0].evidence["series"] == {
        "device": station.device.dev_eui,
        "quantity": "water_level_m",
    }
    assert state.colour is Colour.GREEN

    # Without the guard the same bird raises a yellow, even orange, vigilance and a rapid rise.
    unguarded = track_vigilance(times, level, config.thresholds, config.vigilance).episodes
    bird = [e for e in unguarded if e.start < START + timedelta(days=STORM_DAY)]
    assert {e.colour for e in bird} == {Colour.YELLOW, Colour.ORANGE}
    near_bird = [
        e
        for e in track_rise(times, level, config.rise).episodes
        if abs(to_ns(e.start) - times[dry]) < 3 * 3600 * NS
    ]
    assert near_bird


def _alerts(events: list[Finding | Clearance]) -> tuple[list[Any], dict[str, Any]]:
    """What the alert engine ends up with: one alert per type (one station), updated by
    findings, resolved by clearances."""
    open_: dict[str, dict[str, Any]] = {}
    resolved: list[Any] = []
    for e in events:
        if isinstance(e, Finding):
            a = open_.setdefault(e.type, {"start": e.start, "severities": []})
            assert e.start == a["start"]  # an alert keeps its start
            severity = e.severity or ALERT_TYPES[e.type].severity
            if not a["severities"] or a["severities"][-1] is not severity:
                a["severities"].append(severity)
            a["last"] = (e.observed_at, e.evidence)
        else:
            a = open_.pop(e.type)
            resolved.append((e.type, a["start"], a["severities"], a["last"], e.at))
    return resolved, open_


def _red_storm_with_faults() -> tuple[StationConfig, np.ndarray, np.ndarray]:
    station = _station("erclin-caudry")
    times, level = _storm(station, storm_mm=75.0, seed=11)
    level[_index(times, 2.0)] += 0.9
    j = _index(times, 4.0)
    level[j : j + 10] += 1.5
    s = _index(times, 14.0)
    level[s : s + 60] = level[s]
    level[_index(times, 17.0)] = station.reference_height_m + 0.2
    return _config(station), times, level


def test_red_storm_escalates_then_clears() -> None:
    config, times, level = _red_storm_with_faults()
    events, _ = evaluate_station(config, times, level)
    resolved, still = _alerts(events)
    assert still == {}
    by_type = {r[0]: r for r in resolved}
    assert by_type["river_vigilance"][2] == [Severity.WARNING, Severity.CRITICAL, Severity.WARNING]
    last_evidence = by_type["river_vigilance"][3][1]
    assert last_evidence["peak_m"] > config.thresholds.red_m
    entered = [
        e.evidence["colour"]
        for e in events
        if isinstance(e, Finding) and e.type == "river_vigilance" and "level_m" in e.evidence
    ]
    assert entered == ["yellow", "orange", "red"]
    kinds = [
        e.evidence["kind"]
        for e in events
        if isinstance(e, Finding) and e.type == "level_sensor_fault"
    ]
    assert kinds == ["spike", "jump", "stuck", "out_of_range"]


@pytest.mark.parametrize("cuts", [[500], [100, 160, 770, 780, 1350], list(range(37, 1900, 97))])
def test_successive_runs_leave_the_alerts_of_one_run(cuts: list[int]) -> None:
    config, times, level = _red_storm_with_faults()
    whole, whole_state = evaluate_station(config, times, level)
    state: StationState | None = None
    pieces: list[Finding | Clearance] = []
    for a, b in zip([0, *cuts], [*cuts, len(times)], strict=True):
        found, new = evaluate_station(config, times[a:b], level[a:b], state)
        pieces += found
        state = StationState.from_dict(json.loads(json.dumps(new.to_dict(), allow_nan=False)))
    assert _alerts(pieces) == _alerts(whole)
    assert len(_alerts(whole)[0]) == 6  # vigilance, rise, and four fault alerts
    assert [e for e in pieces if isinstance(e, Clearance)] == [
        e for e in whole if isinstance(e, Clearance)
    ]
    assert state is not None and state.to_dict() == whole_state.to_dict()


def test_state_between_runs_tells_the_current_colour() -> None:
    config, times, level = _red_storm_with_faults()
    whole, _ = evaluate_station(config, times, level)
    red = next(e for e in whole if isinstance(e, Finding) and e.evidence.get("colour") == "red")
    cut = int(np.searchsorted(times, to_ns(red.observed_at))) + 4
    first, state = evaluate_station(config, times[:cut], level[:cut])
    assert state.colour is Colour.RED
    last = [e for e in first if isinstance(e, Finding) and e.type == "river_vigilance"][-1]
    assert last.severity is Severity.CRITICAL and last.evidence["colour"] == "red"
    assert last.observed_at == from_ns(int(times[cut - 1]) // 1000 * 1000)  # the last reading
    _, later = evaluate_station(config, times[cut:], level[cut:], state)
    assert later.colour is Colour.GREEN


def test_all_stations_in_one_run_from_a_store_read() -> None:
    stations = _stations()
    configs = {s.code: _config(s) for s in stations}
    parts: dict[SeriesKey, tuple[dict[str, str], list[int], list[float]]] = {}
    for s, mm in zip(stations, (36.0, 0.0, 60.0), strict=True):
        times, level = _storm(s, mm)
        key = SeriesKey(s.device.dev_eui, "water_level_m", None)
        parts[key] = ({}, times.tolist(), level.tolist())
    parts[SeriesKey("ffff", "water_level_m", None)] = ({}, [1], [1.0])  # not a station
    series = station_series(SeriesSet.build(parts), {s.device.dev_eui: s.code for s in stations})
    assert sorted(series) == sorted(configs)
    events, state = evaluate_levels(configs, series, LevelsState())
    alerted = {e.subject for e in events if e.type == "river_vigilance"}
    assert alerted == {"selle-le-cateau", "selle-saint-souplet"}
    assert {state.colour(code) for code in configs} == {Colour.GREEN}
    again, same = evaluate_levels(configs, {}, LevelsState.from_dict(state.to_dict()))
    assert again == [] and same.to_dict() == state.to_dict()


def test_registry_parameters_make_the_config() -> None:
    station = _station()
    config = _config(station)
    v = station.vigilance_m
    assert config.thresholds == Thresholds(v["yellow"], v["orange"], v["red"])
    assert config.guard.max_level_m == station.reference_height_m
    assert config.guard.stuck_s == 12 * 3600.0


def test_a_groundwater_station_may_hold_a_level_for_days() -> None:
    """``stuck_h`` from the registry: a piezometer's level holding for a day is not a fault."""
    station = _station()
    params = {**station.device.parameters, "stuck_h": 72}
    config = StationConfig.from_registry(station.code, station.tenant, params, "piezo")
    assert config.guard.stuck_s == 72 * 3600.0
    assert config.guard.max_level_m == station.reference_height_m
    times = to_ns(START) + np.arange(49, dtype=np.int64) * 3600 * NS
    level = np.full(49, 1.234)
    held = guard_levels(times, level, config.guard, final=True)
    assert not any(e.kind is FaultKind.STUCK for e in held.episodes)
    frozen = guard_levels(times, level, _config(station).guard, final=True)
    assert [e.kind for e in frozen.episodes] == [FaultKind.STUCK]

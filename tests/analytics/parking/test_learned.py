"""What the board learns of an area: samples read straight from the store's columns mean what
``samples`` makes of readings; the vectorised counts are the per-instant ones; stays give the
limits, a week of counts a forecast, the last shown change each space's anchor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analytics.parking.history import HistoryPoint, counts_at
from analytics.parking.learned import anchors_of, learn_area, samples_by_device
from analytics.parking.space import Change, SpaceState, Timeline, samples
from core.reading import Reading
from core.series import SeriesKey, SeriesSet, to_ns

T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
A, B, C = (f"70b3d5e0000000{i:02x}" for i in range(3))


@dataclass(frozen=True)
class Sensor:
    dev_eui: str
    codec_id: str = "nwave/nps405"
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Space:
    code: str
    device: Sensor | None
    pmr: bool = False


@dataclass(frozen=True)
class Area:
    id_lieu: str = "59139-C-001"
    nbre_pl: int = 4
    nbre_pmr: int = 0
    ouvert: bool = True


def _columns(readings: list[Reading]) -> SeriesSet:
    parts: dict[SeriesKey, tuple[dict[str, str], list[int], list[float]]] = {}
    for r in readings:
        _, times, values = parts.setdefault(SeriesKey(r.device, r.quantity, None), ({}, [], []))
        times.append(to_ns(r.time))
        values.append(r.value)
    return SeriesSet.build(parts)


def _random_readings(seed: int, devices: list[str], n: int) -> list[Reading]:
    rng = np.random.default_rng(seed)
    minutes = rng.integers(0, 3 * 24 * 60, size=n)  # repeats: duplicates and ties
    return [
        Reading(T0 + timedelta(minutes=int(m)), str(rng.choice(devices)), "occupied", float(v))
        for m, v in zip(minutes, rng.random(n) < 0.5, strict=True)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_samples_from_columns_are_samples_from_readings(seed: int) -> None:
    devices = [A, B, C]
    readings = _random_readings(seed, devices, 400)
    until = T0 + timedelta(days=2)  # some readings are after it: left out
    got = samples_by_device(_columns(readings), until)
    for d in devices:
        assert got[d] == samples([r for r in readings if r.device == d], until)


@pytest.mark.parametrize("seed", [4, 5])
def test_counts_at_many_instants_are_the_counts_at_each(seed: int) -> None:
    devices = [A, B, C]
    readings = _random_readings(seed, devices, 300)
    end = T0 + timedelta(days=3)
    lines = [
        Timeline.of([r for r in readings if r.device == d], end, timedelta(hours=6), HOLD)
        for d in devices
    ]
    step = timedelta(minutes=15)
    many = counts_at(lines, 4, T0, end, step)  # vectorised: more than a few points
    assert len(many) == 288
    for p in many:
        states = [line.state_at(p.time) for line in lines]
        free = states.count(SpaceState.FREE)
        occupied = states.count(SpaceState.OCCUPIED)
        assert p == HistoryPoint(p.time, free, occupied, 4 - free - occupied)


def _commuter(days: int) -> list[tuple[datetime, bool]]:
    """Occupied 06:00-07:10 UTC each day, free otherwise."""
    out: list[tuple[datetime, bool]] = []
    for day in range(days):
        morning = T0 + timedelta(days=day)
        out += [(morning - timedelta(hours=6), False), (morning, True)]
        out.append((morning + timedelta(minutes=70), False))
    return out


def test_an_area_learns_limits_anchors_and_a_forecast_from_a_week() -> None:
    spaces = [Space(f"P{i}", Sensor(d)) for i, d in enumerate((A, B, C))] + [Space("P3", None)]
    seqs = {d: _commuter(9) for d in (A, B, C)}
    until = T0 + timedelta(days=8, hours=12)
    models = learn_area(Area(), spaces, seqs, T0 - timedelta(days=1), until)
    assert models.forecast is not None
    # 70-minute stays: 1.5 × 70 min is under the two-hour floor.
    assert models.limits.occupied.limit(T0) == timedelta(hours=2)
    assert models.anchors[A] == Reading(T0 + timedelta(days=8, minutes=70), A, "occupied", 0.0)
    # Six days of counts are not a week: no forecast.
    short = learn_area(Area(), spaces, seqs, T0, T0 + timedelta(days=6))
    assert short.forecast is None


def test_an_anchor_is_the_last_shown_change() -> None:
    shown = [Change(T0, False), Change(T0 + timedelta(hours=1), True)]
    assert anchors_of({A: shown, B: []}) == {
        A: Reading(T0 + timedelta(hours=1), A, "occupied", 1.0)
    }

"""The assembled run: every device gets its codec's keys, in range, deterministic for a seed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.calendar import FrenchCalendar
from core.quantities import quantity
from ingest.codecs.base import split_key
from ingest.codecs.registry import CODECS
from simulator.physics import ENGINE_KEYS, PhysicsRun, simulate_physics
from simulator.territory import Territory
from tests.simulator.conftest import START, territory

T = territory(households=60, spaces=12)


@pytest.fixture(scope="module")
def run(calendar: FrenchCalendar) -> PhysicsRun:
    return simulate_physics(T, START, 30, 11, calendar)


def test_every_device_has_exactly_its_codec_s_physical_keys_in_range(run: PhysicsRun) -> None:
    assert set(run.truths) == {d.dev_eui for d in T.devices()}
    for d in T.devices():
        truth = run.truths[d.dev_eui]
        fields = {f.key: f for f in CODECS[d.codec_id].fields}
        expected = {k for k in fields if split_key(k)[0] not in ENGINE_KEYS}
        assert set(truth.values) == expected, d.codec_id
        for key, values in truth.values.items():
            q = quantity(split_key(key)[0])
            assert np.isfinite(values).all(), (d.dev_eui, key)
            assert q.minimum <= values.min() and values.max() <= q.maximum, (d.dev_eui, key)
            assert fields[key].minimum <= values.min() and values.max() <= fields[key].maximum


def test_cumulative_indexes_never_go_down(run: PhysicsRun) -> None:
    for truth in run.truths.values():
        for key, values in truth.values.items():
            if quantity(split_key(key)[0]).kind == "cumulative":
                assert (np.diff(values) >= 0).all(), key


def test_parking_spaces_report_on_change(run: PhysicsRun) -> None:
    spaces = [sp.device.dev_eui for a in T.areas for sp in a.spaces]
    assert all(run.truths[e].on_change for e in spaces)
    assert not run.truths[T.sectors[0].inflow.dev_eui].on_change


def test_inflow_pulses_count_the_sector_s_water(run: PhysicsRun) -> None:
    inflow = T.sectors[0].inflow
    pulses = run.truths[inflow.dev_eui].values["pulse_count"]
    counted = (pulses[-1] - pulses[0]) * inflow.parameters["pulse_weight"]
    assert counted == pytest.approx(run.sectors["s1"].inflow_m3[:-1].sum(), abs=0.2)


def test_same_seed_same_truths_other_seed_differs(calendar: FrenchCalendar) -> None:
    small = territory(households=5, spaces=3)
    a, b = (simulate_physics(small, START, 3, 1, calendar) for _ in range(2))
    c = simulate_physics(small, START, 3, 2, calendar)
    for eui, truth in a.truths.items():
        for key, values in truth.values.items():
            np.testing.assert_array_equal(values, b.truths[eui].values[key])
    assert any(
        not np.array_equal(v, c.truths[e].values[k])
        for e, t in a.truths.items()
        for k, v in t.values.items()
    )
    assert a.faults == b.faults


def test_adding_a_household_changes_no_other_series(calendar: FrenchCalendar) -> None:
    a = simulate_physics(territory(households=5, spaces=3), START, 3, 1, calendar)
    b = simulate_physics(territory(households=6, spaces=3), START, 3, 1, calendar)
    for h in territory(households=5, spaces=3).sectors[0].households:
        eui = h.meter.dev_eui
        np.testing.assert_array_equal(
            a.truths[eui].values["volume_m3"], b.truths[eui].values["volume_m3"]
        )


def _sample_sized() -> Territory:
    from dataclasses import replace

    from tests.simulator.conftest import pool, school

    buildings = tuple(
        (school if i % 2 else pool)(code=f"b{i}", n=10_000 + 100 * i) for i in range(15)
    )
    base = territory(households=500, spaces=70)
    return replace(base, buildings=buildings)


def test_a_sample_sized_month_takes_seconds(calendar: FrenchCalendar) -> None:
    t0 = time.perf_counter()
    run = simulate_physics(_sample_sized(), START, 30, 1, calendar)
    assert time.perf_counter() - t0 < 5.0
    assert len(run.truths) == len(_sample_sized().devices())

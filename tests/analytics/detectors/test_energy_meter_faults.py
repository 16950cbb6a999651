"""Energy registers that freeze, reset, jump or read zero; a clean or a silent meter raises
nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from analytics.detectors.energy_meter_faults import DETECTOR
from analytics.energy.meter_faults import MeterFaultParams, register_faults
from core.series import to_ns
from tests.analytics.detectors.energy_cases import ELEC, Knobs, one_pass, school

PARAMS = MeterFaultParams()
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday, in term time
AT = datetime(2025, 2, 4, 10, tzinfo=UTC)  # a Tuesday morning, class in session


def _types(knobs: Knobs, days: int = 30, start: datetime = START) -> dict[str, dict[str, Any]]:
    b = school(start, days, seed=3, knobs=knobs)
    detection = DETECTOR.detect(one_pass(b, PARAMS))
    return {f.type: f.evidence for f in detection.findings}


def _from(at: datetime, change):  # type: ignore[no-untyped-def]
    def fault(times: np.ndarray, index: np.ndarray) -> np.ndarray:
        i = int(np.searchsorted(times, to_ns(at)))
        out = index.copy()
        change(out, i)
        return out

    return fault


def test_a_clean_building_raises_nothing_and_its_meters_are_judged() -> None:
    b = school(START, 30, seed=3)
    detection = DETECTOR.detect(one_pass(b, PARAMS))
    assert detection.findings == []
    assert ("energy_meter_reset", ELEC) in detection.judged


def test_summer_time_day_is_not_a_fault() -> None:
    # Sunday 30 March 2025 lasts 23 hours: the registers keep rising, nothing is said.
    b = school(datetime(2025, 3, 20, tzinfo=UTC), 14, seed=4)
    assert DETECTOR.detect(one_pass(b, PARAMS)).findings == []


def test_a_counter_restarting_from_zero_is_a_reset() -> None:
    def reset(index: np.ndarray, i: int) -> None:
        index[i:] -= index[i]

    found = _types(Knobs(faults=[_from(AT, reset)]), days=30)
    assert set(found) == {"energy_meter_reset"}
    assert found["energy_meter_reset"]["index_before_kwh"] > 40_000
    assert found["energy_meter_reset"]["index_after_kwh"] == 0


def test_a_few_readings_at_zero_are_zeros_not_a_reset() -> None:
    def zeros(index: np.ndarray, i: int) -> None:
        index[i : i + 2] = 0.0

    found = _types(Knobs(faults=[_from(AT, zeros)]), days=30)
    assert set(found) == {"energy_meter_zeros"}
    assert found["energy_meter_zeros"]["readings_at_zero"] == 2


def test_an_impossible_rise_is_a_jump() -> None:
    def jump(index: np.ndarray, i: int) -> None:
        index[i:] += 5_000.0

    found = _types(Knobs(faults=[_from(AT, jump)]), days=30)
    assert set(found) == {"energy_meter_jump"}
    assert found["energy_meter_jump"]["rise_kwh"] >= 5_000


def test_a_register_stuck_while_the_school_is_open_is_frozen() -> None:
    def stuck(index: np.ndarray, i: int) -> None:
        index[i:] = index[i]

    found = _types(Knobs(faults=[_from(datetime(2025, 2, 3, 6, tzinfo=UTC), stuck)]), days=30)
    assert set(found) == {"energy_meter_frozen"}
    assert found["energy_meter_frozen"]["frozen_hours"] >= 12


def test_a_silent_meter_is_neither_frozen_nor_judged() -> None:
    b = school(START, 30, seed=3, knobs=Knobs(silent_from=datetime(2025, 2, 2, tzinfo=UTC)))
    detection = DETECTOR.detect(one_pass(b, PARAMS))
    assert detection.findings == []
    assert ("energy_meter_frozen", ELEC) not in detection.judged


@pytest.mark.parametrize("before", [99_999.5, 999_999.2])
def test_a_register_wrapping_at_a_power_of_ten_is_consumption(before: float) -> None:
    times = np.arange(6, dtype=np.int64) * 900 * 10**9
    values = np.array([before - 1.0, before - 0.5, before, 0.3, 0.8, 1.3])
    hours = np.arange(2, dtype=np.int64) * 3600 * 10**9
    faults = register_faults(times, values, hours, np.ones(2, bool), np.array([2.0, 2.0]), PARAMS)
    assert faults == []

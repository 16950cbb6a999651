"""Occupied heating drifting above 19 °C; absences heated above 16 °C (24-48 h) or held above
8 °C (beyond 48 h) — and a building that follows the rules raises nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from analytics.detectors.comfort_setpoints import DETECTOR, ComfortParams
from analytics.energy.building_hours import BuildingHours
from analytics.energy.comfort_rules import heated_while_unoccupied, setpoint_drift
from tests.analytics.detectors.energy_cases import Knobs, one_pass, school

PARAMS = ComfortParams()


def _types(b: BuildingHours) -> dict[str, dict[str, Any]]:
    return {f.type: f.evidence for f in DETECTOR.detect(one_pass(b, PARAMS)).findings}


def test_a_school_that_follows_the_rules_through_the_holidays_raises_nothing() -> None:
    # Winter holidays, zone B: 8 to 24 February 2025; back to school on the 24th.
    b = school(datetime(2025, 1, 13, tzinfo=UTC), 44, seed=1)
    detection = DETECTOR.detect(one_pass(b, PARAMS))
    assert detection.findings == []
    assert {
        ("comfort_setpoint_drift", "ecole-test"),
        ("comfort_unoccupied_heating", "ecole-test"),
    } <= (detection.judged)


def test_a_school_kept_at_20_c_is_not_a_drift() -> None:
    b = school(datetime(2025, 1, 6, tzinfo=UTC), 35, seed=2, knobs=Knobs(setpoint_c=20.0))
    assert "comfort_setpoint_drift" not in _types(b)


def test_an_occupied_setpoint_raised_to_22_c_is_a_drift() -> None:
    b = school(
        datetime(2025, 1, 6, tzinfo=UTC),
        35,
        seed=2,
        knobs=Knobs(drift_to_c=22.0, extra_from=datetime(2025, 2, 3, tzinfo=UTC)),
    )
    e = _types(b)["comfort_setpoint_drift"]
    assert e["occupied_mean_c"] == 22.0 and e["usual_c"] == 19.0
    assert e["share_hours_above_limit"] == 1.0
    assert e["days"][0] >= "2025-02-03"
    assert e["heating_kwh_per_day"] > 0


@pytest.mark.parametrize("heating_share", [0.25, 0.0])
def test_rooms_warmed_by_the_sun_with_the_heating_off_are_not_a_drift(
    heating_share: float,
) -> None:
    """Free gains push the rooms past 20 °C every afternoon while the heating is off: the day's
    level is its coolest heated occupied hour, the setpoint the heating holds, so the warm
    afternoons are no drift whether only the heated hours are counted or every hour is."""
    b = school(
        datetime(2025, 1, 6, tzinfo=UTC),
        35,
        seed=2,
        knobs=Knobs(occupied_gain_c=1.0, extra_from=datetime(2025, 2, 3, tzinfo=UTC)),
    )
    assert np.nanmax(b.indoor_c) > 21.0
    params = replace(PARAMS, drift=replace(PARAMS.drift, min_heating_share=heating_share))
    found = DETECTOR.detect(one_pass(b, params)).findings
    assert "comfort_setpoint_drift" not in {f.type for f in found}


def test_a_drift_from_the_first_heated_day_is_found_against_the_days_remembered() -> None:
    """The setpoint is raised with the heating season: every day of the lookback is at 22 °C,
    which alone would be the building's usual level; the days earlier passes counted (19 °C,
    last spring) are its level."""
    start = datetime(2025, 1, 6, tzinfo=UTC)
    b = school(start, 35, seed=2, knobs=Knobs(drift_to_c=22.0, extra_from=start))
    alone, judged, counted = setpoint_drift(b, PARAMS.drift)
    assert alone == [] and judged
    assert set(counted.values()) == {22.0} and max(counted) < "2025-02-10"
    spring = {f"2024-05-{d:02d}": 19.0 for d in range(2, 30)}
    events, _, counted = setpoint_drift(b, PARAMS.drift, spring)
    assert len(events) == 1
    assert events[0].evidence["held_c"] == 22.0 and events[0].evidence["usual_c"] == 19.0
    # What the next pass remembers: the latest days counted, spring's oldest ones let go.
    assert len(counted) == PARAMS.drift.baseline_days + PARAMS.drift.min_days
    assert "2024-05-02" not in counted and counted[max(counted)] == 22.0


def test_a_pass_leaves_the_days_it_counted_for_the_next() -> None:
    # Five weeks of school days from Monday 6 January to Friday 7 February 2025 (no holiday).
    b = school(datetime(2025, 1, 6, tzinfo=UTC), 35, seed=2)
    state = DETECTOR.detect(one_pass(b, PARAMS)).state
    days = state["comfort_setpoint_drift"]["ecole-test"]
    assert len(days) == 20 and (min(days), max(days)) == ("2025-01-06", "2025-02-07")
    assert set(days.values()) == {19.0}


def test_a_drift_over_the_summer_time_change_is_still_found() -> None:
    # Summer time begins on Sunday 30 March 2025; the drift starts the day after.
    b = school(
        datetime(2025, 3, 3, tzinfo=UTC),
        31,
        seed=3,
        knobs=Knobs(drift_to_c=22.0, extra_from=datetime(2025, 3, 31, tzinfo=UTC)),
    )
    assert "comfort_setpoint_drift" in _types(b)


def test_a_new_building_is_not_judged_on_a_drift() -> None:
    b = school(datetime(2025, 1, 6, tzinfo=UTC), 4, seed=2, knobs=Knobs(setpoint_c=22.0))
    events, judged, _ = setpoint_drift(b, PARAMS.drift)
    assert events == [] and not judged


def test_heating_held_through_the_holidays_breaks_both_limits() -> None:
    b = school(
        datetime(2025, 1, 13, tzinfo=UTC),
        35,
        seed=4,
        knobs=Knobs(heat_absences=True, extra_from=datetime(2025, 2, 8, tzinfo=UTC)),
    )
    e = _types(b)["comfort_unoccupied_heating"]
    assert e["limits_c"] == [8.0, 16.0]
    assert e["mean_indoor_c"] == 19.0
    assert e["hours_above_limit"] >= 12
    assert e["heating_kwh"] > 0


def test_a_mild_holiday_warm_by_itself_is_not_heating() -> None:
    # 14 °C outside, day and night: the empty school stays warm without heating.
    b = school(
        datetime(2025, 1, 13, tzinfo=UTC),
        35,
        seed=4,
        knobs=Knobs(outdoor_c=lambda i: np.full(len(i), 14.0), setpoint_c=19.0),
    )
    assert heated_while_unoccupied(b, PARAMS.unoccupied) == []

"""A day whose load shape differs from the building's past days of its kind; ordinary days,
holidays and the summer-time change raise nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.detectors.energy_load_shape import DETECTOR
from analytics.energy.building_hours import HOUR_NS
from analytics.energy.load_shape import LoadShapeParams, daily_profiles, latest_shape_anomaly
from core.series import to_ns
from tests.analytics.detectors.energy_cases import Knobs, one_pass, school

PARAMS = LoadShapeParams()


@pytest.mark.parametrize(
    "start",
    [
        datetime(2025, 1, 6, tzinfo=UTC),  # term time
        datetime(2025, 1, 20, tzinfo=UTC),  # into the winter holidays (8 February, zone B)
        datetime(2025, 3, 1, tzinfo=UTC),  # over the summer-time change (30 March)
    ],
)
def test_ordinary_days_raise_nothing(start: datetime) -> None:
    b = school(start, 35, seed=6)
    for cut in range(10):  # the last ten passes, a day apart
        w = b.window(0, b.n - 24 * cut)
        anomaly, judged = latest_shape_anomaly(w, PARAMS)
        assert judged and anomaly is None


def test_a_night_the_school_ran_as_by_day_is_anomalous() -> None:
    start = datetime(2025, 1, 6, tzinfo=UTC)
    night = datetime(2025, 2, 4, 23, tzinfo=UTC)  # the night of Tuesday 4 to Wednesday 5

    def lights_on(times: np.ndarray, index: np.ndarray) -> np.ndarray:
        # 12 kWh/h more from 00:00 to 06:00 local on Wednesday 5 February.
        extra = np.clip((times - to_ns(night)) / HOUR_NS, 0, 6) * 12.0
        return index + extra

    b = school(start, 31, seed=6, knobs=Knobs(faults=[lights_on]))
    cut = b.window(0, int(np.searchsorted(b.hours_ns, to_ns(datetime(2025, 2, 5, 23, tzinfo=UTC)))))
    [finding] = DETECTOR.detect(one_pass(cut, PARAMS)).findings
    e = finding.evidence
    assert e["day"] == "2025-02-05" and e["occupied_day"] is False
    assert e["distance"] > e["usual_distance"]
    assert {h["local_hour"] for h in e["hours"]} <= set(range(6))
    assert e["day_kwh"] == pytest.approx(e["usual_day_kwh"] + 72, abs=5)


def test_a_summer_time_day_keeps_24_values() -> None:
    b = school(datetime(2025, 3, 24, tzinfo=UTC), 10, seed=6)
    days, profiles, _ = daily_profiles(b)
    assert np.datetime64("2025-03-30") in days
    assert profiles.shape[1] == 24 and np.isfinite(profiles).all()


def test_too_short_a_history_is_not_judged() -> None:
    b = school(datetime(2025, 1, 6, tzinfo=UTC), 6, seed=6)
    assert latest_shape_anomaly(b, PARAMS) == (None, False)
    assert timedelta(days=6) < timedelta(days=PARAMS.min_reference_days)

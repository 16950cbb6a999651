"""CO2 in occupied rooms: above 800 ppm is a warning, above 1,500 ppm critical; empty rooms and
well-aired ones raise nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.detectors.indoor_co2 import DETECTOR
from analytics.energy.comfort_rules import Co2Params
from analytics.findings import Severity
from tests.analytics.detectors.energy_cases import ROOM, Knobs, one_pass, school

PARAMS = Co2Params()
START = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("peak_ppm", "severity"),
    [(700.0, None), (1100.0, Severity.WARNING), (1800.0, Severity.CRITICAL)],
)
def test_the_latest_occupied_day_sets_the_alert(peak_ppm: float, severity: Severity | None) -> None:
    b = school(START, 10, seed=1, knobs=Knobs(co2_peak_ppm=peak_ppm))
    detection = DETECTOR.detect(one_pass(b, PARAMS, days=10))
    assert ("indoor_co2", ROOM) in detection.judged
    if severity is None:
        assert detection.findings == []
        return
    [finding] = detection.findings
    assert finding.subject == ROOM
    assert (finding.severity or Severity.WARNING) is severity
    e = finding.evidence
    assert e["hours_above_800_ppm"] == e["occupied_hours"] == 8
    assert (e["hours_above_1500_ppm"] > 0) is (severity is Severity.CRITICAL)


def test_a_room_full_of_co2_over_the_weekend_only_is_not_an_alert() -> None:
    # Ends on Sunday 12 January: the latest occupied day is Friday, aired.
    b = school(START, 7, seed=1, knobs=Knobs(co2_peak_ppm=700.0))
    b.co2_ppm[:, ~b.occupied] = 2000.0
    assert DETECTOR.detect(one_pass(b, PARAMS, days=7)).findings == []

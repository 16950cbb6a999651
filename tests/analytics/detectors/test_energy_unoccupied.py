"""Nights, weekends and holidays using more than the building's own baseload."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from analytics.detectors.energy_unoccupied import DETECTOR
from analytics.energy.unoccupied import UnoccupiedParams, daily_levels
from tests.analytics.detectors.energy_cases import Knobs, one_pass, school

PARAMS = UnoccupiedParams()


def test_a_clean_building_through_christmas_raises_nothing() -> None:
    # Term, then the Christmas holidays (zone B, from 21 December 2024), then term again.
    b = school(datetime(2024, 11, 25, tzinfo=UTC), 50, seed=1)
    detection = DETECTOR.detect(one_pass(b, PARAMS))
    assert detection.findings == []
    assert ("energy_unoccupied_excess", "ecole-test") in detection.judged


def test_a_clean_building_over_the_summer_time_change_raises_nothing() -> None:
    b = school(datetime(2025, 3, 3, tzinfo=UTC), 40, seed=2)
    assert DETECTOR.detect(one_pass(b, PARAMS)).findings == []


def test_a_baseload_rise_is_found_with_its_extra_kwh_and_cost() -> None:
    since = datetime(2025, 2, 3, tzinfo=UTC)
    b = school(
        datetime(2025, 1, 6, tzinfo=UTC),
        35,
        seed=1,
        knobs=Knobs(extra_base_kw=1.5, extra_from=since),
    )
    [finding] = DETECTOR.detect(one_pass(b, PARAMS)).findings
    e = finding.evidence
    assert e["carrier"] == "electricity"
    assert e["baseload_kw"] == 3.0
    assert e["unoccupied_kw"] == 4.5
    days = e["days_above"]
    assert days >= 3 and e["unoccupied_hours"] >= 6 * days
    # The fault begins at 00:00 UTC, an hour into its first local day: that hour has no extra.
    assert 1.5 * (e["unoccupied_hours"] - 1) <= e["extra_kwh"] <= 1.5 * e["unoccupied_hours"]
    assert e["extra_eur"] == round(e["extra_kwh"] * 0.20)
    assert finding.start == datetime(2025, 2, 2, 23, tzinfo=UTC)  # local midnight, 3 February
    assert e["period"][0] == "2025-02-03"


def test_heating_held_through_the_holidays_shows_on_the_gas_meter() -> None:
    # Winter holidays, zone B: 8 to 24 February 2025; the comfort setpoint held through them.
    b = school(
        datetime(2025, 1, 13, tzinfo=UTC),
        40,
        seed=5,
        knobs=Knobs(heat_absences=True, extra_from=datetime(2025, 2, 8, tzinfo=UTC)),
    )
    [finding] = DETECTOR.detect(one_pass(b, PARAMS)).findings
    assert finding.evidence["carrier"] == "gas"
    assert finding.evidence["days"]["school_holidays"] >= 3


def test_a_day_level_is_a_low_quantile_of_its_unoccupied_hours() -> None:
    b = school(datetime(2025, 1, 6, tzinfo=UTC), 14, seed=1)
    days, levels, outdoor, indoor = daily_levels(b, PARAMS)
    assert len(days) == 15  # 14 UTC days from 01:00 local touch 15 local dates
    # The electricity register only carries the 3 kW base load outside opening hours.
    known = levels[0][np.isfinite(levels[0])]
    assert len(known) >= 12 and np.allclose(known, 3.0)
    assert np.isfinite(outdoor).sum() == np.isfinite(indoor).sum() == len(known)

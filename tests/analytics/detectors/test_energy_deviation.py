"""An energy register's sustained deviation from its own baseline, raised per building."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from analytics.detectors.base import WindowKind
from analytics.detectors.energy_deviation import (
    DETECTOR,
    EnergyDeviationParams,
    closed_days,
    reportable,
)
from analytics.energy.building_hours import BuildingHours
from analytics.energy.deviation import DeviationEvent, MeterDeviation
from tests.analytics.detectors.energy_cases import ELEC, one_pass, school

PARAMS = EnergyDeviationParams()
START = datetime(2024, 8, 5, tzinfo=UTC)  # 240 days end on 2 April 2025, in term (zone B)
DAYS = 240
WEEK_H = 7 * 24
BOTH = {("energy_excess", "ecole-test"), ("energy_drop", "ecole-test")}


@pytest.fixture(scope="module")
def clean() -> BuildingHours:
    return school(START, DAYS, seed=1)


def scaled(b: BuildingHours, factor: float, lo: int, hi: int) -> BuildingHours:
    """``b`` with its electricity register's hours ``[lo, hi)`` (from the end) times ``factor``."""
    kwh = b.kwh.copy()
    kwh[0, b.n - lo : b.n - hi if hi else None] *= factor
    return dataclasses.replace(b, kwh=kwh)


def test_a_clean_building_is_judged_without_a_finding(clean: BuildingHours) -> None:
    detection = DETECTOR.detect(one_pass(clean, PARAMS, days=400))
    assert detection.findings == []
    assert detection.judged == BOTH
    assert detection.counts["registers_scored"] == 2


def test_a_week_at_130_percent_is_one_excess_with_its_kwh_and_cost(clean: BuildingHours) -> None:
    b = scaled(clean, 1.3, WEEK_H, 0)
    [finding] = DETECTOR.detect(one_pass(b, PARAMS, days=400)).findings
    e = finding.evidence
    assert finding.type == "energy_excess" and finding.severity is None
    assert set(e) == set(DETECTOR.spec.evidence)
    assert (e["device"], e["carrier"], e["end"], e["level_shift"]) == (
        ELEC,
        "electricity",
        None,
        False,
    )
    injected = 0.3 * float(np.nansum(clean.kwh[0, -WEEK_H:]))
    assert 0.7 * injected <= e["excess_kwh"] <= 1.2 * injected
    assert e["excess_eur"] == round(e["excess_kwh"] * 0.20)
    fault = datetime.fromtimestamp(int(clean.hours_ns[-WEEK_H]) // 10**9, UTC)
    assert fault <= finding.start <= datetime.fromisoformat(e["detected_at"])
    assert (datetime.fromisoformat(e["detected_at"]) - fault).total_seconds() <= 2 * 86_400
    assert e["peak_score"] >= PARAMS.deviation.threshold


def test_a_drop_is_an_unexplained_drop_not_an_excess(clean: BuildingHours) -> None:
    detection = DETECTOR.detect(one_pass(scaled(clean, 0.6, WEEK_H, 0), PARAMS, days=400))
    [finding] = detection.findings
    assert finding.type == "energy_drop"
    assert finding.evidence["excess_kwh"] < 0 and finding.evidence["peak_score"] < 0
    assert detection.judged == BOTH  # the excess alert, if one was open, clears


def test_an_excess_over_for_days_is_no_longer_reported(clean: BuildingHours) -> None:
    b = scaled(clean, 1.3, 2 * WEEK_H, WEEK_H)  # a week at 130 %, back to normal a week ago
    detection = DETECTOR.detect(one_pass(b, PARAMS, days=400))
    assert detection.findings == []
    assert detection.judged == BOTH


def test_a_school_at_frost_protection_through_its_holidays_is_no_drop() -> None:
    # Spring holidays, zone B: 5 to 22 April 2025; the window ends on the 13th. Gas heats the
    # school at 8 °C then, far below a Sunday's: the closure explains the drop.
    b = school(datetime(2024, 1, 1, tzinfo=UTC), 468, seed=4)
    noisy = b.kwh * np.random.default_rng(9).normal(1.0, 0.03, b.kwh.shape)
    detection = DETECTOR.detect(one_pass(dataclasses.replace(b, kwh=noisy), PARAMS, days=400))
    assert detection.findings == []
    assert detection.judged == BOTH
    assert detection.counts["registers_scored"] == 2


def test_too_little_history_is_not_judged() -> None:
    b = school(START, 120, seed=2)  # under min_train_days: every hour is still learning
    detection = DETECTOR.detect(one_pass(scaled(b, 1.3, WEEK_H, 0), PARAMS, days=400))
    assert detection.findings == []
    assert detection.judged == set()


def test_it_reads_its_own_lookback_and_takes_nested_overrides() -> None:
    spec = DETECTOR.spec
    assert spec.window.kind is WindowKind.LOOKBACK
    assert spec.window.lookback is not None
    assert spec.window.lookback.days >= PARAMS.deviation.min_train_days + 90
    resolved = spec.resolve({"deviation.threshold": 5, "ended_within_h": 48})
    assert resolved.deviation.threshold == 5.0 and resolved.ended_within_h == 48
    assert resolved.deviation.train_days == PARAMS.deviation.train_days
    with pytest.raises(ValueError, match=r"deviation\.treshold"):
        spec.resolve({"deviation.treshold": 5})


def test_it_scores_at_most_every_few_hours_and_judges_nothing_in_between(
    clean: BuildingHours,
) -> None:
    """A pass soon after a scoring judges nothing (open alerts stay open, none is cleared);
    the first pass ``every_h`` hours later scores again."""
    b = scaled(clean, 1.3, WEEK_H, 0)
    first = DETECTOR.detect(one_pass(b, PARAMS, days=400))
    assert [f.type for f in first.findings] == ["energy_excess"]
    later = one_pass(b, PARAMS, days=400)
    soon = dataclasses.replace(
        later, end=later.end + timedelta(hours=PARAMS.every_h - 1), state=first.state
    )
    skipped = DETECTOR.detect(soon)
    assert skipped.findings == [] and skipped.judged == set()
    assert skipped.state == first.state
    due = dataclasses.replace(
        later, end=later.end + timedelta(hours=PARAMS.every_h), state=first.state
    )
    again = DETECTOR.detect(due)
    assert [f.type for f in again.findings] == ["energy_excess"] and again.judged == BOTH


def test_a_schools_holidays_are_days_off_with_their_weekends_and_wednesdays(
    clean: BuildingHours,
) -> None:
    # Winter holidays, zone B: Saturday 8 to Sunday 23 February 2025. Its baseline sees one
    # closure, not a string of Mondays, Tuesdays, Thursdays and Fridays off between weekends.
    off = closed_days(clean)
    holidays = [date(2025, 2, 8) + timedelta(days=k) for k in range(16)]
    assert all(off(d) for d in holidays)
    term = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 5), date(2025, 3, 6)]
    assert not any(off(d) for d in term)  # a weekend, a free Wednesday, a school day


def _running_excess(early_kwh: float, later_kwh: float = 9.5) -> MeterDeviation:
    """Ten hours expected at 10 kWh: hour 2 flagged at 10 + ``early_kwh``, then seven hours at
    ``later_kwh`` (hour 9 flagged too); one excess running from hour 2."""
    hours = np.datetime64("2025-03-03T00:00", "s") + np.arange(10) * np.timedelta64(3600, "s")
    expected = np.full(10, 10.0)
    kwh = np.full(10, later_kwh)
    kwh[:2] = 10.0
    kwh[2] = 10.0 + early_kwh
    anomalous = np.zeros(10, dtype=bool)
    anomalous[2] = anomalous[9] = True
    dev = MeterDeviation(hours, kwh, expected, np.zeros(10), anomalous, np.zeros(10, np.int8))
    excess = float((kwh[2:] - expected[2:]).sum())
    dev.events.append(DeviationEvent(hours[2], hours[2], None, 1, False, excess, 0.2 * excess, 6.0))
    return dev


def test_an_excess_once_worth_an_alert_stays_reported_while_it_runs() -> None:
    """Its share of the expected kWh fell under min_share since (1.5 kWh of 80 now): the
    alert raised at hour 2 (5 kWh over 10) is not cleared to be raised again later."""
    p = EnergyDeviationParams()
    end_ns = int(_running_excess(5.0).hours[-1].astype("datetime64[ns]").astype(np.int64))
    assert reportable(_running_excess(5.0), end_ns + 3600 * 10**9, p)
    # never worth it: 0.4 kWh over 10 at its first flag, and less since
    assert not reportable(_running_excess(0.4), end_ns + 3600 * 10**9, p)
    # worth it once, but its hours have since used less than expected overall: no excess
    assert not reportable(_running_excess(5.0, later_kwh=8.0), end_ns + 3600 * 10**9, p)

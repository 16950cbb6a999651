"""The matching rules of the energy evaluation: what explains a fault, what is a false alarm,
what is not judged; and the alert lifecycle of the passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.detectors.base import Detection, Pass
from analytics.energy.building_hours import Register
from analytics.evaluation.energy import (
    GRACE,
    Alert,
    InjectedFault,
    explains,
    inject_meter_fault,
    run_passes,
    score,
)
from analytics.findings import Finding, SubjectKind
from tests.analytics.detectors.energy_cases import school, subject

T0 = datetime(2025, 2, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _fault(kind: str = "setpoint_excess", subject: str = "b1", days: int = 10) -> InjectedFault:
    return InjectedFault(kind, subject, T0, T0 + days * DAY)


def _alert(type_: str, subject: str, raised: datetime) -> Alert:
    return Alert(type_, subject, raised, raised)


@pytest.mark.parametrize(
    ("subject", "raised", "explained"),
    [
        ("b1", T0, True),  # at the fault's start
        ("b1", T0 + 10 * DAY + GRACE, True),  # at the end of the grace
        ("b1", T0 + 10 * DAY + GRACE + timedelta(seconds=1), False),
        ("b1", T0 - timedelta(hours=1), False),  # raised before the fault
        ("b2", T0 + DAY, False),  # another building
    ],
)
def test_an_alert_explains_a_fault_on_its_subject_within_its_window(
    subject: str, raised: datetime, explained: bool
) -> None:
    assert explains(_alert("comfort_setpoint_drift", subject, raised), _fault()) is explained


def test_recall_counts_judged_faults_and_precision_counts_alerts_of_the_type() -> None:
    faults = [
        _fault(subject="b1"),
        _fault(subject="b2"),
        InjectedFault("setpoint_excess", "b3", T0, T0 + DAY, judged=False, why_not="summer"),
    ]
    alerts = [
        _alert("comfort_setpoint_drift", "b1", T0 + DAY),
        _alert("comfort_setpoint_drift", "b1", T0 + 2 * DAY),  # a second alert, still right
        _alert("comfort_setpoint_drift", "b9", T0 + DAY),  # false alarm
        _alert("comfort_setpoint_drift", "b3", T0 + DAY / 2),  # explains an unjudged fault
        _alert("energy_unoccupied_excess", "b2", T0 + DAY),  # another type: not this row's
    ]
    row = next(r for r in score(faults, alerts) if r.fault == "setpoint_excess")
    assert (row.injected, row.judged, row.found) == (3, 2, 1)
    assert row.recall == 0.5
    assert (row.true_alerts, row.alerts) == (3, 4)
    assert row.median_delay_h == 24.0
    assert row.notes["not_judged"] == ["summer"]


def test_unoccupied_excess_is_right_when_heating_was_left_on() -> None:
    faults = [_fault("heating_on_holiday", "b1"), _fault("baseload_increase", "b2")]
    alerts = [
        _alert("energy_unoccupied_excess", "b1", T0 + DAY),
        _alert("energy_unoccupied_excess", "b2", T0 + DAY),
    ]
    rows = {r.fault: r for r in score(faults, alerts)}
    base = rows["baseload_increase"]
    assert (base.found, base.judged, base.true_alerts, base.alerts) == (1, 1, 2, 2)
    assert base.notes["explained_by_heating_on_holiday"] == 1
    # ... but it does not find the heating fault: that is the comfort rule's.
    assert rows["heating_on_holiday"].found == 0


def test_meter_kinds_are_pooled() -> None:
    faults = [_fault("meter_reset", "m1", 0), _fault("meter_frozen", "m2", 3)]
    alerts = [_alert("energy_meter_reset", "m1", T0 + timedelta(hours=6))]
    pooled = score(faults, alerts)[-1]
    assert pooled.fault == "meter faults"
    assert (pooled.found, pooled.judged, pooled.true_alerts, pooled.alerts) == (1, 2, 1, 1)


class _Scripted:
    """Says "drift" on the passes listed, judges the building on every pass."""

    def __init__(self, days_with_finding: set[int]) -> None:
        self.days = days_with_finding
        self.spec = type("S", (), {"params": None})()

    def detect(self, run: Pass) -> Detection:
        out = Detection(judged={("comfort_setpoint_drift", "ecole-test")})
        if (run.end - T0).days in self.days:
            out.findings.append(
                Finding(
                    "comfort_setpoint_drift",
                    "t",
                    SubjectKind.BUILDING,
                    "ecole-test",
                    run.end - DAY,
                    run.end,
                )
            )
        return out


def test_an_alert_opens_on_a_finding_and_resolves_when_judged_without_one() -> None:
    b = school(T0 - 40 * DAY, 50, seed=1)
    detectors = {"scripted": _Scripted({1, 2, 3, 6})}
    alerts = run_passes(detectors, [subject()], [b], T0, T0 + 8 * DAY, lookback=35 * DAY)
    assert [(a.raised, a.resolved) for a in alerts] == [
        (T0 + DAY, T0 + 4 * DAY),
        (T0 + 6 * DAY, T0 + 7 * DAY),
    ]


@pytest.mark.parametrize("kind", ["frozen", "reset", "jump", "zeros"])
def test_injected_meter_faults_change_only_what_they_say(kind: str) -> None:
    times = (np.arange(400, dtype=np.int64) * 900 + 1_738_368_000) * 10**9  # 1 Feb 2025
    index = 1000.0 + np.arange(400, dtype=np.float64) * 0.5
    reg = Register("m1", "base", "electricity", 0.0, times, index)
    at = T0 + timedelta(hours=24)
    faulty, end = inject_meter_fault(reg, kind, at, 2.0, np.random.default_rng(1))
    i = int(np.searchsorted(times, int(at.timestamp()) * 10**9))
    assert np.array_equal(faulty.index_kwh[:i], index[:i])
    after = faulty.index_kwh[i:]
    if kind == "frozen":
        assert end == at + timedelta(days=2)
        assert (after[: 2 * 96] == index[i]).all()
        assert (np.diff(after[2 * 96 :]) == 0.5).all()
    elif kind == "reset":
        assert after[0] == 0 and (np.diff(after) == 0.5).all()
    elif kind == "jump":
        assert after[0] - index[i - 1] >= 500 and (np.diff(after) == 0.5).all()
    else:
        assert 1 <= (after == 0).sum() <= 3 and end > at

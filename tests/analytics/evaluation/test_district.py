"""Scoring a detector on a labelled district, and the daily-mean reference rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.evaluation.district import (
    LabelledLeak,
    RuleEvent,
    daily_mean_rule,
    read_leak_labels,
    score_district,
)
from core.series import NS, to_ns

T0 = datetime(2019, 1, 1, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _event(onset: float, detected: float) -> RuleEvent:
    return RuleEvent(_at(onset), _at(detected), 10.0)


LEAKS = [
    LabelledLeak("old", _at(-200), None, "incipient", _at(-150)),  # in the baseline
    LabelledLeak("a", _at(20), _at(40), "abrupt", _at(20)),
    LabelledLeak("b", _at(50), None, "incipient", _at(90)),
    LabelledLeak("c", _at(100), None, "abrupt", _at(100)),
]


def test_found_false_alarms_late_and_duplicates() -> None:
    events = [
        _event(19.5, 21.0),  # a, 24 h after its start
        _event(21.0, 22.0),  # a again: a duplicate
        _event(60.0, 61.0),  # b still growing: late, not a false alarm
        _event(99.2, 108.0),  # c, but known after 8 days: late
        _event(130.0, 131.0),  # nothing: a false alarm
    ]
    s = score_district(events, LEAKS, T0, _at(180))
    assert s.leaks == 3  # the leak from before the period is not judged
    assert [o.leak.leak_id for o in s.outcomes if o.found] == ["a"]
    assert s.median_delay_h == pytest.approx(24.0)
    assert (len(s.false_alarms), len(s.late), len(s.duplicates)) == (1, 2, 1)


def test_an_onset_more_than_a_day_early_does_not_find_the_leak() -> None:
    s = score_district([_event(18.9, 20.5)], LEAKS, T0, _at(180))
    assert s.found == 0 and len(s.false_alarms) == 1


def test_events_outside_the_period_are_not_scored() -> None:
    s = score_district([_event(101.0, 102.0), _event(20.5, 21.0)], LEAKS, _at(90), _at(180))
    assert [o.leak.leak_id for o in s.outcomes] == ["c"]
    assert s.found == 1 and not s.false_alarms


def test_labels_are_read_from_the_ltown_columns(tmp_path: Path) -> None:
    path = tmp_path / "leaks.csv"
    path.write_text(
        "leak_id,start_utc,end_utc,leak_type,peak_time_utc,leak_diameter_m,note\n"
        "p1,2019-01-15 23:00,2019-02-01 09:50,abrupt,2019-01-15 23:00,0.02,\n"
        "p2,2019-05-19 10:40,,incipient,,0.012,still running\n"
    )
    p1, p2 = read_leak_labels(path)
    assert (p1.start, p1.end, p1.kind) == (
        datetime(2019, 1, 15, 23, tzinfo=UTC),
        _at(31) + timedelta(hours=9, minutes=50),
        "abrupt",
    )
    assert (p2.end, p2.peak, p2.kind) == (None, None, "incipient")


def test_the_reference_rule_flags_a_day_above_two_robust_sigmas_once_per_run() -> None:
    rng = np.random.default_rng(2)
    t = to_ns(T0) + np.arange(60 * 288, dtype=np.int64) * 300 * NS  # 5-minute samples
    day = np.arange(t.size) // 288
    flow = 200 + rng.normal(0, 4, 60)[day] + rng.normal(0, 10, t.size)
    flow[t >= to_ns(_at(30.5))] += 25  # a leak from noon on the 31st
    events = daily_mean_rule(t, flow)
    [e] = [e for e in events if _at(29) <= e.start <= _at(33)]  # one event for the run of days
    local_day = datetime(2019, 1, 31, tzinfo=PARIS)
    assert e.start in (local_day, local_day + timedelta(days=1))
    assert e.detected_at == e.start + timedelta(days=1) - timedelta(minutes=5)  # last sample
    assert e.flow_m3h_estimate > 8

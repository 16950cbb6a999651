"""Scoring detections against injected faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics.evaluation.scoring import Detected, Injected, score

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
RUN_END = T0 + timedelta(days=60)


def test_found_missed_late_and_false_alarm() -> None:
    faults = [
        Injected("a", T0, T0 + 10 * 24 * H),  # found after 30 h
        Injected("b", T0, T0 + 10 * 24 * H),  # found, but after 9 days: too late for 7 days
        Injected("c", T0, None),  # never detected
    ]
    found = [
        Detected("a", T0 + 30 * H, T0),
        Detected("b", T0 + 9 * 24 * H, T0),
        Detected("d", T0 + 5 * H, T0),  # nothing injected on d
        Detected("a", T0 + 20 * 24 * H, T0 + 19 * 24 * H),  # after a's repair + grace
    ]
    s = score(faults, found, RUN_END, max_delay=timedelta(days=7))
    assert (s.injected, s.found, s.censored) == (3, 1, 0)
    assert s.delays_h == (30.0,)
    assert s.false_alarms == 2
    assert s.precision == 0.5
    assert s.recall == 1 / 3


def test_faults_starting_near_the_end_are_censored() -> None:
    late = Injected("a", RUN_END - timedelta(days=2), None)
    s = score([late], [], RUN_END, max_delay=timedelta(days=7))
    assert (s.injected, s.censored, s.recall, s.median_delay_h) == (0, 1, None, None)


def test_a_detection_inside_the_grace_after_repair_explains_the_fault() -> None:
    fault = Injected("a", T0, T0 + 48 * H)
    s = score([fault], [Detected("a", T0 + 60 * H, T0)], RUN_END, max_delay=timedelta(days=7))
    assert (s.found, s.false_alarms) == (1, 0)

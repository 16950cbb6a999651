"""Scoring a sector detector: recall within 7 days, false alarms per sector-month, delays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.evaluation.sector import (
    Event,
    InjectedLeak,
    SectorInflow,
    evaluate_sector_detector,
)
from core.series import NS, to_ns

START = datetime(2025, 1, 6, tzinfo=UTC)
DAYS = 60


def _inflow(name: str, seed: int, steps: list[tuple[float, float]]) -> SectorInflow:
    t = to_ns(START) + np.arange(DAYS * 96, dtype=np.int64) * 900 * NS
    hour = (t // (3600 * NS) + 1) % 24  # Paris winter time
    rng = np.random.default_rng(seed)
    flow = 1.2 + np.where((hour >= 6) & (hour < 23), 3.0, 0.0) + rng.normal(0, 0.06, t.size)
    for day, m3h in steps:
        flow[int(day * 96) :] += m3h
    return SectorInflow(name, t, flow)


def test_recall_false_alarms_and_delay_are_counted() -> None:
    found = _inflow("a", 1, [(20.5, 0.5)])
    unlisted = _inflow("b", 2, [(30.5, 0.8)])  # a step nobody injected: a false alarm
    burst_like = _inflow("c", 3, [(40.5, 0.6)])  # explained by an injected burst
    leaks = [
        InjectedLeak("a", START + timedelta(days=20.5), None, 0.5, "abrupt"),
        InjectedLeak("a", START + timedelta(days=5), None, 0.5, "abrupt"),  # in the warm-up
        InjectedLeak("a", START + timedelta(days=30), None, 0.01, "abrupt"),  # under 2 %
        InjectedLeak("b", START + timedelta(days=45.5), None, 0.7, "incipient"),  # missed
        InjectedLeak("c", START + timedelta(days=40.5), None, 20.0, "burst"),
    ]
    ev = evaluate_sector_detector([found, unlisted, burst_like], leaks)
    abrupt, incipient, every = (ev.by_kind[k] for k in ("abrupt", "incipient", "all"))
    assert (abrupt.eligible, abrupt.found_within, abrupt.recall) == (1, 1, 1.0)
    assert (incipient.eligible, incipient.found_within, incipient.recall) == (1, 0, 0.0)
    assert every.recall == pytest.approx(0.5)
    assert abrupt.median_delay_h is not None and 0 < abrupt.median_delay_h <= 4 * 24
    assert abrupt.median_flow_error_pct is not None and abs(abrupt.median_flow_error_pct) < 20
    assert (ev.events, ev.false_alarms, ev.burst_alarms, ev.duplicates) == (3, 1, 1, 0)
    months = 3 * (DAYS - 1 / 96 - 14) / (365.25 / 12)  # last sample to first, less warm-up
    assert ev.sector_months == pytest.approx(months, rel=0.01)
    assert ev.false_alarms_per_sector_month == pytest.approx(1 / months, rel=0.01)


@dataclass(frozen=True)
class _Said:
    start: datetime
    detected_at: datetime
    flow_m3h_estimate: float


def _saying(*events: tuple[float, float]) -> object:
    """A detector that reports fixed (onset day, detection day) events on every sector."""

    def detect(_: SectorInflow) -> Sequence[Event]:
        return [_Said(START + timedelta(days=a), START + timedelta(days=b), 0.3) for a, b in events]

    return detect


def test_a_step_while_an_incipient_leak_grows_is_growth_not_a_false_alarm() -> None:
    inflow = _inflow("a", 4, [])
    peak = START + timedelta(days=50)
    leaks = [InjectedLeak("a", START + timedelta(days=20), None, 0.3, "incipient", peak)]
    growth = evaluate_sector_detector([inflow], leaks, _saying((21, 23), (35, 36)))  # type: ignore[arg-type]
    assert (growth.false_alarms, growth.growth) == (0, 1)
    assert growth.by_kind["incipient"].found_within == 1
    after = evaluate_sector_detector([inflow], leaks, _saying((21, 23), (52, 53)))  # type: ignore[arg-type]
    assert (after.false_alarms, after.growth) == (1, 0)  # past its peak: another leak or none


def test_only_leaks_a_week_can_show_are_in_the_visible_pool() -> None:
    inflow = _inflow("a", 5, [])  # mean inflow ~3.3 m³/h: 2 % is ~0.07 m³/h
    slow = InjectedLeak(
        "a", START + timedelta(days=20), None, 0.3, "incipient", START + timedelta(days=80)
    )  # 0.035 m³/h after a week
    fast = InjectedLeak(
        "a", START + timedelta(days=30), None, 0.3, "incipient", START + timedelta(days=37)
    )
    abrupt = InjectedLeak("a", START + timedelta(days=40), None, 0.3, "abrupt")
    ev = evaluate_sector_detector([inflow], [slow, fast, abrupt], _saying((40, 41)))  # type: ignore[arg-type]
    assert ev.by_kind["all"].eligible == 3
    visible = ev.by_kind["visible"]
    assert (visible.eligible, visible.found_within) == (2, 1)

"""Scoring the sector detector: recall within 7 days, false alarms per sector-month, delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.water.sector_evaluation import (
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

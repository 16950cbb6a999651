"""Clocks: the demo's accelerated clock starts at its origin and runs ``speed`` times faster."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ScaledClock, SystemClock

ORIGIN = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def test_a_scaled_clock_starts_at_its_origin_and_runs_faster() -> None:
    before = time.monotonic()
    clock = ScaledClock(3600, ORIGIN)
    began = time.monotonic()  # the clock started between ``before`` and now
    first = clock.now()
    while time.monotonic() - began < 0.01:  # a hundredth of a second of wall time
        pass
    second = clock.now()
    elapsed = time.monotonic() - before
    assert ORIGIN <= first < second
    assert second - ORIGIN >= timedelta(seconds=36)  # 0.01 s × 3,600
    assert second - ORIGIN <= timedelta(seconds=elapsed * 3600)
    assert second.tzinfo is UTC


def test_a_scaled_clock_without_origin_starts_now() -> None:
    before = SystemClock().now()
    assert ScaledClock(60).now() - before < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("speed", "origin"), [(0, ORIGIN), (-1, ORIGIN), (60, datetime(2026, 3, 29))]
)
def test_a_scaled_clock_refuses_a_bad_speed_or_a_naive_origin(
    speed: float, origin: datetime
) -> None:
    with pytest.raises(ValueError, match="ScaledClock"):
        ScaledClock(speed, origin)

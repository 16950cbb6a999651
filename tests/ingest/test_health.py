"""The ingest worker's state: starting, running, retrying, down, stuck, failed — by the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.health import PartState
from ingest.health import IngestHealth

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def health(depth: int = 0) -> IngestHealth:
    return IngestHealth(T0, down_after_s=30, stuck_after_s=120, spool_depth=lambda: depth)


def test_connecting_is_fine_for_a_while_then_down() -> None:
    h = health()
    assert h.status(at(10)).state is PartState.STARTING and h.status(at(10)).ok
    late = h.status(at(31))
    assert (late.state, late.ok) == (PartState.DOWN, False)
    assert "never connected" in late.detail


def test_a_lost_connection_is_retried_then_down_and_back() -> None:
    h = health()
    h.connected(at(1))
    assert h.status(at(2)).state is PartState.RUNNING
    h.disconnected(at(100))
    assert (h.status(at(110)).state, h.status(at(110)).ok) == (PartState.RETRYING, True)
    down = h.status(at(131))
    assert (down.state, down.ok, down.facts["disconnected_s"]) == (PartState.DOWN, False, 31.0)
    h.connected(at(140))
    assert h.status(at(141)).state is PartState.RUNNING


def test_a_batch_that_is_never_made_durable_makes_ingest_stuck() -> None:
    h = health(depth=5000)
    h.connected(at(0))
    h.took(at(10))
    h.retrying("SpoolFull: spool holds 5000 readings, bound 5000")
    retrying = h.status(at(60))
    assert (retrying.state, retrying.ok) == (PartState.RETRYING, True)
    stuck = h.status(at(131))
    assert (stuck.state, stuck.ok) == (PartState.STUCK, False)
    assert "SpoolFull" in stuck.detail and stuck.facts["pending_batch_age_s"] == 121.0
    assert stuck.facts["spool_readings"] == 5000
    h.durable(at(200))
    back = h.status(at(201))
    assert (back.state, back.ok, back.facts["last_durable_batch_age_s"]) == (
        PartState.RUNNING,
        True,
        1.0,
    )


def test_quiet_is_not_stuck_and_a_failure_is_final() -> None:
    h = health()
    h.connected(at(0))
    h.took(at(1))
    h.durable(at(2))
    assert h.status(at(10_000)).state is PartState.RUNNING  # no traffic is not a fault
    h.ended(PartState.FAILED, "StoreError: InfluxDB answered 401")
    failed = h.status(at(10_001))
    assert (failed.state, failed.ok, failed.detail) == (
        PartState.FAILED,
        False,
        "StoreError: InfluxDB answered 401",
    )

"""A periodic runner's state from its passes: starting, running, failing, late, stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics.pass_health import PassHealth
from core.health import PartState

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_passes_that_work_keep_it_running() -> None:
    h = PassHealth("analytics", T0, every_s=60)
    h.started(at(0))
    assert h.status(at(5)).state is PartState.STARTING
    h.finished(at(20), None)
    ok = h.status(at(30))
    assert (ok.state, ok.ok, ok.facts["last_good_pass_age_s"]) == (PartState.RUNNING, True, 10.0)


def test_one_failed_pass_is_a_retry_three_in_a_row_are_not_ok() -> None:
    h = PassHealth("analytics", T0, every_s=60)
    h.finished(at(10), None)
    h.finished(at(70), "water: StoreUnavailable")
    assert (h.status(at(71)).state, h.status(at(71)).ok) == (PartState.RETRYING, True)
    h.finished(at(130), "water: StoreUnavailable")
    h.finished(at(190), "OperationalError: no connection")
    failing = h.status(at(191))
    assert (failing.state, failing.ok, failing.facts["failed_passes"]) == (
        PartState.STUCK,
        False,
        3,
    )
    assert "no connection" in failing.detail
    h.finished(at(250), None)
    assert h.status(at(251)).ok


def test_a_pass_that_never_ends_is_late() -> None:
    h = PassHealth("analytics", T0, every_s=60)  # late after max(3 periods, 10 min)
    h.started(at(1))
    assert h.status(at(599)).ok
    late = h.status(at(601))
    assert (late.state, late.ok, late.facts["pass_running_s"]) == (PartState.STUCK, False, 600.0)


def test_a_stopped_runner_is_not_ok() -> None:
    h = PassHealth("analytics", T0, every_s=60)
    h.finished(at(1), None)
    h.ended()
    assert (h.status(at(2)).state, h.status(at(2)).ok) == (PartState.STOPPED, False)

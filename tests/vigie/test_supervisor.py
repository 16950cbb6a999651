"""A worker that fails stops the process's other workers, once, and says which and why."""

from __future__ import annotations

import logging
import threading

import pytest

from core.health import Fatal
from vigie.supervisor import Supervisor


def test_the_first_failure_stops_every_worker_and_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor()
    stopped: list[str] = []
    called = threading.Event()
    supervisor.on_failure(called.set)

    def patient(stop: threading.Event) -> None:
        stop.wait(30)
        stopped.append("analytics")

    def failing(stop: threading.Event) -> None:
        raise Fatal("StoreError: InfluxDB answered 401: authorization failed")

    with caplog.at_level(logging.CRITICAL, logger="vigie"):
        supervisor.start("analytics", patient)
        supervisor.start("ingest", failing)
        assert called.wait(5)
        supervisor.shutdown(timeout_s=5)
    assert stopped == ["analytics"]
    assert supervisor.failure is not None and supervisor.failure.part == "ingest"
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert (
        line
        == "ingest failed, Vigie stops: StoreError: InfluxDB answered 401: authorization failed"
    )


def test_a_bug_is_a_failure_too_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor()

    def buggy(stop: threading.Event) -> None:
        raise KeyError("oops")

    with caplog.at_level(logging.CRITICAL, logger="vigie"):
        supervisor.start("analytics", buggy)
        supervisor.shutdown(timeout_s=5)
    assert supervisor.failure is not None and supervisor.stop.is_set()
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert record.exc_info is not None and "KeyError" in record.getMessage()


def test_workers_that_end_normally_are_no_failure() -> None:
    supervisor = Supervisor()
    supervisor.start("simulator", lambda stop: None)
    supervisor.shutdown(timeout_s=5)
    assert supervisor.failure is None

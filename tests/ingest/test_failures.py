"""Which failures a worker waits out and which stop it; the backoff between retries."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa

from core.health import Fatal
from core.timeseries import StoreError, StoreUnavailable
from ingest.failures import Kind, RetryPolicy, describe, kind_of
from ingest.spool import SpoolFull, SpoolLocked


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (StoreUnavailable("InfluxDB /write: ConnectError"), Kind.TRANSIENT),
        (SpoolFull("spool holds 10 readings"), Kind.TRANSIENT),
        (
            sa.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
            Kind.TRANSIENT,
        ),
        (sqlite3.OperationalError("database or disk is full"), Kind.TRANSIENT),
        (OSError(28, "No space left on device"), Kind.TRANSIENT),
        (StoreError("InfluxDB answered 401: authorization failed"), Kind.PERMANENT),
        (StoreError("InfluxDB answered 404: database not found: vigie"), Kind.PERMANENT),
        (
            sa.ProgrammingError("SELECT", {}, Exception('relation "device" does not exist')),
            Kind.PERMANENT,
        ),
        (sqlite3.DatabaseError("file is not a database"), Kind.PERMANENT),
        (SpoolLocked("spool in use by pid 12"), Kind.PERMANENT),
        (Fatal("broker refused: not authorized"), Kind.PERMANENT),
        (KeyError("a bug"), Kind.UNEXPECTED),
        (ValueError("a bug"), Kind.UNEXPECTED),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_each_failure_has_its_kind(error: BaseException, kind: Kind) -> None:
    assert kind_of(error) is kind


def test_permanent_failures_stop_at_once_and_bugs_after_a_few_in_a_row() -> None:
    policy = RetryPolicy(max_unexpected=3)
    assert policy.gives_up(Kind.PERMANENT, 1)
    assert not any(policy.gives_up(Kind.TRANSIENT, n) for n in range(1, 1000))
    assert [policy.gives_up(Kind.UNEXPECTED, n) for n in range(1, 6)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_backoff_doubles_from_the_first_pause_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(first_s=2.0, max_s=30.0, jitter=0.2)
    for attempt, base in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (12, 30.0)]:
        pauses = [policy.delay(attempt) for _ in range(200)]
        assert base * 0.8 <= min(pauses) and max(pauses) <= base * 1.2
        assert max(pauses) - min(pauses) > 0.1 * base  # jittered: workers do not retry in step


def test_a_failure_is_described_in_one_line() -> None:
    error = sa.OperationalError(
        "INSERT INTO dead_letter ...\nVALUES (...)", {}, Exception("locked")
    )
    assert "\n" not in describe(error)
    assert describe(StoreError("InfluxDB answered 401: unauthorized")) == (
        "StoreError: InfluxDB answered 401: unauthorized"
    )

"""InfluxStore when its influxd dies, stops or hangs: fails fast, loses and doubles nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.reading import Reading
from core.series import SeriesKey, to_ns
from core.stores.influx import InfluxStore
from core.timeseries import Selection, StoreError, StoreUnavailable
from tests.services import InfluxServer, free_port, influx_query

TIMEOUT_S = 1.0
SLACK_S = 2.0  # on top of the configured timeout: scheduling, a busy CI machine
T0 = datetime(2026, 2, 1, tzinfo=UTC)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
METERS = [f"0004a30b00{i:06x}" for i in range(10)]


def batch(i: int) -> list[Reading]:
    """Batch i: an hour of index frames from each of ten meters (no two readings share a time)."""
    t = T0 + timedelta(hours=i)
    return [
        Reading(t + timedelta(seconds=j), m, "volume_m3", 100.0 * j + i / 10)
        for j, m in enumerate(METERS)
    ]


def stored(store: InfluxStore) -> dict[SeriesKey, list[tuple[int, float]]]:
    s = store.read(Selection.of("volume_m3"), *EVER)
    return {
        key: list(zip(*(a.tolist() for a in s.series(i)), strict=True))
        for i, key in enumerate(s.keys)
    }


def expected(batches: list[list[Reading]]) -> dict[SeriesKey, list[tuple[int, float]]]:
    out: dict[SeriesKey, list[tuple[int, float]]] = {}
    for r in sorted((r for b in batches for r in b), key=lambda r: r.time):
        out.setdefault(SeriesKey(r.device, r.quantity, r.channel), []).append(
            (to_ns(r.time), r.value)
        )
    return dict(sorted(out.items()))


@pytest.fixture
def influxd(tmp_path: Path) -> Iterator[InfluxServer]:
    """A private influxd this test may kill: never the session's, never the machine's."""
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def outage_store(influxd: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influxd.url, "outage", timeout_s=TIMEOUT_S, batch_size=4)
    store.create_database()
    yield store
    store.close()


OUTAGES: dict[str, tuple[Callable[[InfluxServer], None], Callable[[InfluxServer], None]]] = {
    "sigkill": (InfluxServer.kill, InfluxServer.restart),
    "sigterm": (InfluxServer.stop, InfluxServer.restart),
    "frozen": (InfluxServer.freeze, InfluxServer.thaw),  # accepts connections, answers nothing
}


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_outage_mid_stream_fails_fast_and_the_replay_loses_and_doubles_nothing(
    influxd: InfluxServer, outage_store: InfluxStore, outage: str
) -> None:
    go_down, come_back = OUTAGES[outage]
    batches = [batch(i) for i in range(12)]
    for b in batches[:5]:
        assert outage_store.write(b).accepted == len(b)

    go_down(influxd)
    failed = batches[5]
    held = list(failed)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        outage_store.write(failed)
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert failed == held  # the caller still holds the whole batch, untouched

    come_back(influxd)
    assert outage_store.write(held).accepted == len(held)
    for b in batches[6:]:
        assert outage_store.write(b).accepted == len(b)

    assert stored(outage_store) == expected(batches)


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_every_write_during_an_outage_fails_fast(
    influxd: InfluxServer, outage_store: InfluxStore, outage: str
) -> None:
    go_down, come_back = OUTAGES[outage]
    outage_store.write(batch(0))
    go_down(influxd)
    started = time.monotonic()
    for i in range(1, 4):
        with pytest.raises(StoreUnavailable):
            outage_store.write(batch(i))
    assert time.monotonic() - started < 3 * TIMEOUT_S + SLACK_S
    with pytest.raises(StoreUnavailable):
        outage_store.ping()
    come_back(influxd)
    outage_store.ping()


def test_acknowledged_writes_survive_a_sigkill(
    influxd: InfluxServer, outage_store: InfluxStore
) -> None:
    batches = [batch(i) for i in range(6)]
    for b in batches:
        outage_store.write(b)
    influxd.kill()
    influxd.start()
    assert stored(outage_store) == expected(batches)


def test_a_server_not_listening_is_unavailable_at_once() -> None:
    store = InfluxStore(f"http://127.0.0.1:{free_port()}", "nowhere", timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.write(batch(0))
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.read(Selection.of("volume_m3"), *EVER)
    assert time.monotonic() - started < 1.0
    store.close()


def test_writing_to_a_missing_database_is_a_store_error_not_an_outage(
    influxd: InfluxServer,
) -> None:
    store = InfluxStore(influxd.url, "never_created", timeout_s=TIMEOUT_S)
    with pytest.raises(StoreError, match="database not found"):
        store.write(batch(0))
    with pytest.raises(StoreError, match="database not found"):
        store.ping()
    store.close()


@pytest.fixture(scope="module")
def influxd_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A private influxd that requires credentials, with one admin and one database."""
    server = InfluxServer(tmp_path_factory.mktemp("influxd-auth"), auth=True)
    server.start()
    influx_query(server.url, "CREATE USER vigie WITH PASSWORD 's3cret' WITH ALL PRIVILEGES")
    store = InfluxStore(server.url, "secured", username="vigie", password="s3cret")
    store.create_database()
    store.close()
    yield server
    server.stop()


def test_right_credentials_write(influxd_with_auth: InfluxServer) -> None:
    store = InfluxStore(influxd_with_auth.url, "secured", username="vigie", password="s3cret")
    assert store.write(batch(0)).accepted == len(METERS)
    store.close()


@pytest.mark.parametrize(
    ("username", "password"),
    [("vigie", "wrong"), ("intruder", "s3cret"), (None, None)],
    ids=["wrong-password", "unknown-user", "no-credentials"],
)
def test_wrong_credentials_are_a_store_error_not_an_outage(
    influxd_with_auth: InfluxServer, username: str | None, password: str | None
) -> None:
    store = InfluxStore(
        influxd_with_auth.url, "secured", username=username, password=password, timeout_s=TIMEOUT_S
    )
    started = time.monotonic()
    with pytest.raises(StoreError):
        store.write(batch(1))
    with pytest.raises(StoreError):
        store.read(Selection.of("volume_m3"), *EVER)
    with pytest.raises(StoreError, match="401"):
        store.ping()  # a health check or a start-up check sees it too
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S  # refused at once, not retried
    store.close()

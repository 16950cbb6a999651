"""Session fixtures: real services (a private influxd, PostgreSQL) and the stores under test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.stores.sqlite import SqliteStore
from core.timeseries import TimeSeriesStore
from tests.services import (
    ExternalService,
    InfluxServer,
    MosquittoServer,
    PostgresServer,
    influx_query,
)

# Migrated state stores on SQLite and PostgreSQL, for every package whose tests need one.
pytest_plugins = ["tests.state_fixtures"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def influx_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[InfluxServer | ExternalService]:
    """The session's InfluxDB: $VIGIE_TEST_INFLUX_URL if set, else a private influxd."""
    external = os.environ.get("VIGIE_TEST_INFLUX_URL")
    if external:
        yield ExternalService(external.rstrip("/"))
        return
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    """A private Mosquitto for one test, which may stop, restart or kill it."""
    with MosquittoServer(tmp_path / "mosquitto") as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL: $VIGIE_TEST_POSTGRES_URL (which must answer: fails, never
    skips), else the local server on port 5432 if it answers, else a private cluster started
    for the session — as influxd is, so that a machine with none running passes too."""
    url = os.environ.get("VIGIE_TEST_POSTGRES_URL")
    problem = _unreachable(url or DEFAULT_POSTGRES_URL)
    if problem is None:
        yield url or DEFAULT_POSTGRES_URL
        return
    if url:
        pytest.fail(
            f"PostgreSQL is not reachable at VIGIE_TEST_POSTGRES_URL: {problem}", pytrace=False
        )
    server = PostgresServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _unreachable(url: str) -> str | None:
    """Why a trust-auth connection to ``url`` fails, or None when it works."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip()
    finally:
        engine.dispose()
    return None


def _sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    store = SqliteStore(tmp_path / "series.sqlite")
    yield store
    store.close()


def _influx_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    from core.stores.influx import InfluxStore

    url = request.getfixturevalue("influx_server").url
    database = f"vigie_test_{uuid.uuid4().hex[:12]}"
    store = InfluxStore(url, database)
    store.create_database()
    yield store
    store.close()
    influx_query(url, f'DROP DATABASE "{database}"')


_STORES = {"sqlite": _sqlite_store, "influx": _influx_store}


@pytest.fixture(params=sorted(_STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    """An empty TimeSeriesStore of each implementation: the conformance suite runs on both."""
    yield from _STORES[request.param](request, tmp_path)

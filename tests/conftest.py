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
from tests.services import ExternalService, InfluxServer, influx_query

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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of a reachable PostgreSQL ($VIGIE_TEST_POSTGRES_URL); fails, never skips."""
    url = os.environ.get("VIGIE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    problem = None
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        problem = str(exc.orig).strip()
    finally:
        engine.dispose()
    if problem is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {engine.url!r}: {problem}\n"
            "Start one (.ci/run does) or point VIGIE_TEST_POSTGRES_URL at one.",
            pytrace=False,
        )
    return url


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

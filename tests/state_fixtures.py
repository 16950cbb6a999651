"""State-store fixtures: fresh, migrated stores on SQLite (a file per test) and PostgreSQL
(uniquely named throwaway databases, created from a template migrated once per session)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.state.base import Base
from core.state.store import StateStore

StoreFactory = Callable[[], StateStore]
BACKENDS = ("sqlite", "postgresql")


class PostgresDatabases:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self._url = make_url(server_url)
        self._admin = sa.create_engine(self._url, isolation_level="AUTOCOMMIT")

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        name = f"vigie_test_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        try:
            yield self._url.set(database=name).render_as_string(hide_password=False)
        finally:
            with self._admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def dispose(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_url: str) -> Iterator[PostgresDatabases]:
    # postgres_url (tests/conftest.py) fails the test, never skips, when the server is down.
    databases = PostgresDatabases(postgres_url)
    yield databases
    databases.dispose()


@pytest.fixture(scope="session")
def migrated_template(postgres_databases: PostgresDatabases) -> Iterator[str]:
    """A migrated PostgreSQL database to clone: CREATE DATABASE ... TEMPLATE beats migrating."""
    with postgres_databases.database() as url:
        store = StateStore(url)
        store.migrate()
        store.dispose()  # a template must have no open connection
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def shared_postgres_store(
    postgres_databases: PostgresDatabases, migrated_template: str
) -> Iterator[StateStore]:
    """The session's reusable PostgreSQL store, emptied after each test that used it."""
    with postgres_databases.database(migrated_template) as url:
        store = StateStore(url)
        yield store
        store.dispose()


def _empty(store: StateStore) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")  # a leaked transaction
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def make_state_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreFactory]:
    """Makes fresh, migrated, empty stores of the test's backend (several for round trips).

    On PostgreSQL the first store is the session's shared database (emptied afterwards: faster
    than creating one per test), further ones are throwaway databases cloned from the template.
    """
    with ExitStack() as stack:
        shared_used: list[StateStore] = []

        def make() -> StateStore:
            if backend == "sqlite":
                store = StateStore(f"sqlite:///{tmp_path / f'state-{uuid.uuid4().hex[:8]}.sqlite'}")
                store.migrate()
            elif not shared_used:
                store = cast(StateStore, request.getfixturevalue("shared_postgres_store"))
                stack.callback(_empty, store)
                shared_used.append(store)
                return store
            else:
                databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
                template: str = request.getfixturevalue("migrated_template")
                store = StateStore(stack.enter_context(databases.database(template)))
            stack.callback(store.dispose)  # runs before the database is dropped
            return store

        yield make


@pytest.fixture
def state_store(make_state_store: StoreFactory) -> StateStore:
    """A fresh, migrated, empty StateStore on each backend."""
    return make_state_store()


@pytest.fixture
def empty_state_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StateStore]:
    """A StateStore on an empty database (no migration run yet), on each backend."""
    if backend == "sqlite":
        store = StateStore(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        yield store
        store.dispose()
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.database() as url:
        store = StateStore(url)
        yield store
        store.dispose()

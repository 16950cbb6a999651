"""API fixtures: the real app on real embedded stores, seeded with the sample registry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_caller
from api.keyring import Caller
from api.main import create_app
from api.services import Services
from core.clock import ManualClock
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

SAMPLE = Path(__file__).parents[2] / "vigie" / "data" / "sample_registry.yaml"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

# The route tests act as an administrator of every tenant; keys, roles and tenant scoping are
# tested with real keys in test_access.py and test_isolation.py.
OPERATOR = Caller(name="local", tenants=None)


def operator_app(services: Services) -> FastAPI:
    """The real app, every request made as ``OPERATOR``."""
    app = create_app(services)
    app.dependency_overrides[get_caller] = lambda: OPERATOR
    return app


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, SAMPLE)
    store = SqliteStore(tmp_path / "series.sqlite")
    yield Services(store=store, state=state, clock=ManualClock(NOW))
    store.close()
    state.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(operator_app(services)) as c:
        yield c


@pytest.fixture
def backend_services(state_store: StateStore, tmp_path: Path) -> Iterator[Services]:
    """The same services on each state-store backend (SQLite and PostgreSQL), no registry."""
    store = SqliteStore(tmp_path / "backend-series.sqlite")
    yield Services(store=store, state=state_store, clock=ManualClock(NOW))
    store.close()


@pytest.fixture
def backend_client(backend_services: Services) -> Iterator[TestClient]:
    with TestClient(operator_app(backend_services)) as c:
        yield c

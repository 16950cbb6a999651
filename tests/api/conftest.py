"""API fixtures: the real app on real embedded stores, seeded with the sample registry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.services import Services
from core.clock import ManualClock
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

SAMPLE = Path(__file__).parents[2] / "vigie" / "data" / "sample_registry.yaml"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


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
    with TestClient(create_app(services)) as c:
        yield c


@pytest.fixture
def backend_services(state_store: StateStore, tmp_path: Path) -> Iterator[Services]:
    """The same services on each state-store backend (SQLite and PostgreSQL), no registry."""
    store = SqliteStore(tmp_path / "backend-series.sqlite")
    yield Services(store=store, state=state_store, clock=ManualClock(NOW))
    store.close()


@pytest.fixture
def backend_client(backend_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(backend_services)) as c:
        yield c

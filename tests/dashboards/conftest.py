"""The dashboards' data: a small simulated territory in a real influxd, its state in SQLite, and
the real API on both."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from analytics.alerts.engine import AlertEngine
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Finding, SubjectKind
from api.services import Services
from core.clock import ManualClock
from core.config import Settings
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from tests.dashboards.territory import NOW, START, fill
from tests.services import ExternalService, InfluxServer, influx_query
from tests.state_fixtures import PostgresDatabases
from vigie.wiring import build_runner


@dataclass
class Filled:
    url: str
    database: str
    services: Services
    letters: Counter[str]
    raised: Counter[str]  # alerts the analytics pass opened, by type
    state_url: str  # the PostgreSQL state store's SQLAlchemy URL


@pytest.fixture(scope="session")
def filled(
    influx_server: InfluxServer | ExternalService,
    postgres_databases: PostgresDatabases,
    migrated_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Filled]:
    """Two days of the small territory through ingest into InfluxDB and a PostgreSQL state
    store (as in production: the dead-letter panels read it), then one analytics pass."""
    root = tmp_path_factory.mktemp("dashboards")
    database = f"vigie_dash_{uuid.uuid4().hex[:12]}"
    with ExitStack() as stack:
        store = InfluxStore(influx_server.url, database)
        store.create_database()
        stack.callback(influx_query, influx_server.url, f'DROP DATABASE "{database}"')
        stack.callback(store.close)
        state_url = stack.enter_context(postgres_databases.database(migrated_template))
        state = StateStore(state_url)
        stack.callback(state.dispose)
        letters = fill(root, store, state)
        services = Services(store=store, state=state, clock=ManualClock(NOW))
        build_runner(Settings(), services).tick()
        _, opened = list_alerts(state, AlertFilter(), limit=1000, offset=0)
        raised = Counter(a.type for a in opened)
        yield Filled(influx_server.url, database, services, letters, raised, state_url)


def open_one_alert_per_type(services: Services, tenant: str) -> None:
    """Two simulated days do not raise every alert type (baselines need weeks): one finding
    per type goes through the real alert engine, so that every alert panel has rows."""
    engine = AlertEngine(services.state, services.clock, Settings().alerts)
    engine.apply(
        [
            Finding(
                type=code,
                tenant=tenant,
                subject_kind=SubjectKind.DEVICE,
                subject=f"dashboard-test-{code}",
                start=START,
                observed_at=NOW,
            )
            for code in ALERT_TYPES
        ]
    )

"""Property-based tests of the whole API against its own OpenAPI document (schemathesis): on real
stores seeded like the demo, generated requests, sent with an administrator key of the
agglomeration, never make a server error, every response matches its documented schema, and
every status code returned is documented."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from analytics.alerts.engine import AlertEngine
from analytics.findings import Clearance, Estimates, Finding, SubjectKind
from api.main import create_app
from api.services import Services
from core.clock import ManualClock
from core.config import AlertsSettings, ApiSettings
from core.reading import Reading
from core.state.api_keys import Role, create_key
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.api.conftest import NOW, SAMPLE

# Enough to find what a first run found (server errors, schema and status mismatches) while
# keeping the run well under a minute in CI; raise it locally to search harder.
EXAMPLES_PER_OPERATION = 40

METERS = ("d8c3fb0000a10001", "d8c3fb0000a10002", "24e1241260a30001")


def _seed(store: SqliteStore, state: StateStore) -> None:
    """Two days of hourly water readings on three meters, and alerts in each status."""
    readings = [
        Reading(NOW - timedelta(hours=h), device, "volume_m3", 100.0 + 0.01 * (48 - h))
        for device in METERS
        for h in range(48)
    ]
    store.write(readings, state.device_tags(METERS))
    engine = AlertEngine(state, ManualClock(NOW), AlertsSettings())

    def finding(subject: str, type_: str = "household_leak") -> Finding:
        return Finding(
            type=type_,
            tenant="caudry",
            subject_kind=SubjectKind.DEVICE,
            subject=subject,
            start=NOW - timedelta(days=1),
            observed_at=NOW - timedelta(hours=1),
            evidence={"series": {"device": subject, "quantity": "volume_m3", "every": "1h"}},
            estimates=Estimates(flow_lph=12.0, volume_m3=0.3),
        )

    [leak, _, acked] = engine.apply(
        [finding(METERS[0]), finding(METERS[1], "burst"), finding(METERS[2])]
    )
    engine.acknowledge(acked.alert_id, "m.dupont")
    engine.apply([], [Clearance("household_leak", "caudry", SubjectKind.DEVICE, METERS[0], NOW)])
    assert leak.alert_id == 1


def _app() -> tuple[FastAPI, str]:
    """The real app on real SQLite stores seeded like the demo, in a directory removed at exit.

    Built when the module is imported: schemathesis makes one test per operation from the
    schema at collection time (its fixture-based loader does not run under this pytest)."""
    directory = Path(tempfile.mkdtemp(prefix="vigie-schema-"))
    state = StateStore(f"sqlite:///{directory / 'state.sqlite'}")
    state.migrate()
    import_registry(state, SAMPLE)
    store = SqliteStore(directory / "series.sqlite")
    _seed(store, state)
    with state.session() as session:
        _, key = create_key(session, "schemathesis", Role.ADMIN, "ca-caudresis", NOW)

    def _cleanup() -> None:
        store.close()
        state.dispose()
        shutil.rmtree(directory, ignore_errors=True)

    atexit.register(_cleanup)
    # No rate limit in the way: the clock stands still, so a bucket would never refill.
    unlimited = ApiSettings(public_burst=10**9)
    services = Services(store=store, state=state, clock=ManualClock(NOW), api=unlimited)
    return create_app(services), key


APP, KEY = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _tally() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same cases on every run: a CI failure reproduces locally
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case: Case) -> None:
    """Examples, boundary values (coverage) and random valid and invalid requests for each
    operation, as the schemathesis command line generates them."""
    CASES[case.operation.label] += 1
    # The schema declares the two key headers: schemathesis fills them with generated values,
    # which would win over extra headers. The case sends the administrator's key instead.
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
    case.headers = {**headers, "Authorization": f"Bearer {KEY}"}
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code != 401, "the key opens every operation"

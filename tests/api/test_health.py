"""/health reports each store; an unreachable store makes it 503 with the reason, not a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.services import Services
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from tests.api.conftest import operator_app
from tests.services import free_port


def test_healthy_when_both_stores_answer(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["timeseries"] == {"ok": True, "detail": "SqliteStore"}
    assert body["checks"]["state"]["ok"] is True


def test_unreachable_influxdb_makes_health_503_and_readings_503(tmp_path: Path) -> None:
    """Nothing listens on the port: the real InfluxStore must say so, quickly."""
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    store = InfluxStore(f"http://127.0.0.1:{free_port()}", "vigie", timeout_s=1.0)
    with TestClient(operator_app(Services(store=store, state=state))) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["timeseries"]["ok"] is False
        readings = client.get(
            "/api/v1/readings", params={"device": "0123456789abcdef", "quantity": "volume_m3"}
        )
        assert readings.status_code == 503
        assert readings.headers["Retry-After"] == "5"
        assert "unavailable" in readings.json()["detail"]
    state.dispose()

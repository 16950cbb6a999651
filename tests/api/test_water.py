"""/api/v1/water/sectors: balance over a period and RPQS indicators of a year, from the registry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.deps import Caller, get_caller
from api.main import create_app
from api.services import Services
from core.reading import Reading
from tests.api.conftest import operator_app

SECTOR = "caudry-centre"  # sample registry: 42.5 km, one inflow meter, three consumer meters
INFLOW = "24e1241260a30001"
CONSUMERS = ("d8c3fb0000a10001", "d8c3fb0000a10002", "d8c3fb0000a10003")


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    with TestClient(operator_app(services)) as c:
        yield c


def _daily(services: Services, first: datetime, days: int) -> None:
    """Inflow 72 m³/day, each consumer 12 m³/day, read every day at 00:00 UTC."""
    readings = []
    for d in range(days + 1):
        t = first + timedelta(days=d)
        readings.append(Reading(t, INFLOW, "volume_m3", 150_000.0 + 72.0 * d))
        readings += [
            Reading(t, c, "volume_m3", 10.0 * k + 12.0 * d) for k, c in enumerate(CONSUMERS)
        ]
    services.store.write(readings)


def test_balance_of_a_period(api: TestClient, services: Services) -> None:
    _daily(services, datetime(2026, 9, 25, tzinfo=UTC), 20)
    body = api.get(
        f"/api/v1/water/sectors/{SECTOR}/balance",
        params={"start": "2026-10-02T00:00:00+02:00", "end": "2026-10-04T12:00:00+02:00"},
    ).json()
    # 60 hours: inflow 180 m³, consumption 3 × 30 m³.
    assert body["inflow_m3"] == pytest.approx(180.0)
    assert body["consumption_m3"] == pytest.approx(90.0)
    assert body["non_revenue_m3"] == pytest.approx(90.0)
    assert body["non_revenue_share"] == pytest.approx(0.5)
    assert body["consumer_meters"] == {"meters": 3, "complete": 3, "partial": 0, "missing": 0}
    assert body["inflow_meters"]["complete"] == 1
    assert body["tenant"] == "ca-caudresis"


def test_rpqs_of_a_whole_year(api: TestClient, services: Services) -> None:
    _daily(services, datetime(2024, 12, 25, tzinfo=UTC), 380)
    body = api.get(f"/api/v1/water/sectors/{SECTOR}/rpqs", params={"year": 2025}).json()
    assert body["partial_year"] is False and body["days"] == 365
    assert body["start"] == "2024-12-31T23:00:00Z"
    assert body["volumes"]["produced_m3"] == pytest.approx(72 * 365)
    assert body["volumes"]["billed_m3"] == pytest.approx(36 * 365)
    assert body["rendement_pct"] == pytest.approx(50.0)
    per_km_day = 36 * 365 / (365 * 42.5)
    assert body["ilvnc_m3_km_day"] == pytest.approx(per_km_day)
    assert body["ilp_m3_km_day"] == pytest.approx(per_km_day)
    assert body["ilc_m3_km_day"] == pytest.approx(per_km_day)
    assert body["decret_2012_97"]["threshold_pct"] == pytest.approx(65 + per_km_day / 5)
    assert body["decret_2012_97"]["action_plan_due"] is True
    assert (body["volumes"]["unmetered_m3"], body["volumes"]["service_m3"]) == (0.0, 0.0)


def test_rpqs_counts_the_services_unmetered_and_service_volumes(
    api: TestClient, services: Services
) -> None:
    _daily(services, datetime(2024, 12, 25, tzinfo=UTC), 380)
    body = api.get(
        f"/api/v1/water/sectors/{SECTOR}/rpqs",
        params={"year": 2025, "unmetered_m3": 1825, "service_m3": 365},
    ).json()
    volumes = body["volumes"]
    assert (volumes["unmetered_m3"], volumes["service_m3"]) == (1825.0, 365.0)
    # Produced 72 × 365 = 26,280 m³, billed 36 × 365 = 13,140 m³, nothing exported, L = 42.5 km:
    # authorised = 13,140 + 1,825 + 365 = 15,330 m³, and 365 × 42.5 = 15,512.5 km·days.
    assert volumes["authorised_m3"] == pytest.approx(15_330.0)
    assert volumes["distributed_m3"] == pytest.approx(26_280.0)
    assert body["rendement_pct"] == pytest.approx(58.333_333)  # 15,330 / 26,280 × 100
    assert body["ilvnc_m3_km_day"] == pytest.approx(0.847_059)  # 13,140 / 15,512.5: unchanged
    assert body["ilp_m3_km_day"] == pytest.approx(0.705_882)  # (26,280 − 15,330) / 15,512.5
    assert body["ilc_m3_km_day"] == pytest.approx(0.988_235)  # 15,330 / 15,512.5
    decret = body["decret_2012_97"]
    assert decret["threshold_pct"] == pytest.approx(65.197_647)  # 65 + 0.988235 / 5
    assert decret["action_plan_due"] is True  # 58.3 % < 65.2 %


@pytest.mark.parametrize(
    "params",
    [
        {"unmetered_m3": -1},
        {"service_m3": -0.5},
        {"unmetered_m3": "nan"},
        {"service_m3": "inf"},
        {"service_m3": "beaucoup"},
    ],
)
def test_rpqs_volumes_must_be_finite_and_not_negative(
    api: TestClient, params: dict[str, object]
) -> None:
    response = api.get(f"/api/v1/water/sectors/{SECTOR}/rpqs", params={"year": 2025, **params})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_rpqs_of_the_current_year_is_partial(api: TestClient, services: Services) -> None:
    body = api.get(f"/api/v1/water/sectors/{SECTOR}/rpqs", params={"year": 2026}).json()
    now = services.clock.now()
    assert body["partial_year"] is True
    assert body["end"] == now.isoformat().replace("+00:00", "Z")
    elapsed = (now - datetime(2025, 12, 31, 23, tzinfo=UTC)) / timedelta(days=1)
    assert body["days"] == pytest.approx(elapsed)
    assert body["rendement_pct"] is None  # no data: nothing entered the network
    assert body["inflow_meters"]["missing"] == 1


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/water/sectors/nowhere/balance", {}, 404),
        ("/api/v1/water/sectors/nowhere/rpqs", {"year": 2025}, 404),
        (
            f"/api/v1/water/sectors/{SECTOR}/balance",
            {"start": "2026-10-04T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
            422,
        ),
        (
            f"/api/v1/water/sectors/{SECTOR}/balance",
            {"start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            422,
        ),
        (f"/api/v1/water/sectors/{SECTOR}/balance", {"start": "2026-10-02T00:00:00"}, 422),
        (f"/api/v1/water/sectors/{SECTOR}/rpqs", {"year": 2027}, 422),
        (f"/api/v1/water/sectors/{SECTOR}/rpqs", {}, 422),
    ],
)
def test_unknown_sectors_and_bad_periods(
    api: TestClient, path: str, params: dict[str, object], status: int
) -> None:
    assert api.get(path, params=params).status_code == status


def test_a_caller_sees_only_its_tenants_sectors(services: Services) -> None:
    app = create_app(services)
    app.dependency_overrides[get_caller] = lambda: Caller("caudry", frozenset({"caudry"}))
    with TestClient(app) as c:
        assert c.get(f"/api/v1/water/sectors/{SECTOR}/balance").status_code == 404
    app.dependency_overrides[get_caller] = lambda: Caller("ca", frozenset({"ca-caudresis"}))
    with TestClient(app) as c:
        assert c.get(f"/api/v1/water/sectors/{SECTOR}/balance").status_code == 200

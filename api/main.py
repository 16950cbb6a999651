"""The FastAPI application factory: it only assembles routers, handlers and middleware."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api import access, errors, telemetry
from api.errors import FORBIDDEN, UNAUTHORIZED
from api.hub_screen import HubScreens
from api.json_bodies import JsonBodiesOnly
from api.keyring import KeyRing
from api.part_metrics import PartsCollector
from api.routes import (
    alerts,
    devices,
    health,
    hub_screen,
    hubs,
    kpis,
    metrics,
    parking,
    readings,
    water,
)
from api.services import Services


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Vigie",
        version="0.1.0",
        summary="Telemetry of public buildings, water networks and carpool areas",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.services = services
    app.state.screens = HubScreens(services)
    errors.install(app)
    # Inside the telemetry middleware (added later, so outer): refusals are counted too.
    app.add_middleware(JsonBodiesOnly)
    telemetry.install(app, services.metrics)
    services.metrics.register(PartsCollector(lambda: services.parts, services.clock))
    # Every router with its access policy (api/access.py): a router added without one is
    # caught by tests/api/test_isolation.py.
    app.state.keys = KeyRing(services.state, services.clock, access.KEY_TTL)
    keyed = {**UNAUTHORIZED, **FORBIDDEN}
    for router, policy in (
        (health.router, access.OPERATIONS),
        (metrics.router, access.OPERATIONS),
        (devices.router, access.DEVICES),
        (readings.router, access.READINGS),
        (alerts.router, access.ALERTS),
        (water.router, access.WATER),
        (kpis.router, access.KPIS),
        (hubs.router, access.HUBS),
        (hub_screen.router, access.HUB_SCREENS),
        (parking.router, access.PARKING),
    ):
        public = policy.public >= {r.path for r in router.routes}  # type: ignore[attr-defined]
        app.include_router(
            router, dependencies=[Depends(policy)], responses={} if public else keyed
        )
    return app

"""The FastAPI application factory: it only assembles routers, handlers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from api import access, errors, telemetry
from api.audit_log import AuditLog
from api.errors import FORBIDDEN, TOO_MANY, UNAUTHORIZED
from api.hub_screen import HubScreens
from api.json_bodies import JsonBodiesOnly
from api.keyring import KeyRing
from api.part_metrics import PartsCollector
from api.pseudonyms import Pseudonyms
from api.rate_limit import TokenBuckets
from api.routes import (
    alerts,
    audit,
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
from api.security_headers import SecurityHeaders
from api.services import Services


class _App(FastAPI):
    """FastAPI with the security headers outermost: Starlette answers an unhandled error from
    its outermost middleware, which no ``add_middleware`` can wrap, and a 500 needs them too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The parking board's worker process lives as long as the app serves.
        if services.parking is not None:
            services.parking.start()
        try:
            yield
        finally:
            if services.parking is not None:
                services.parking.close()

    app = _App(
        lifespan=lifespan,
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
    app.add_middleware(AuditLog)  # a 415 never reaches a policy: nothing changed, no entry
    if services.api.cors_origins:  # screens served from another origin read the feeds
        app.add_middleware(
            CORSMiddleware,
            allow_origins=services.api.cors_origins,
            allow_methods=["GET"],
            allow_headers=["Authorization", "X-API-Key"],
        )
    telemetry.install(app, services.metrics)
    services.metrics.register(PartsCollector(lambda: services.parts, services.wall))
    # Every router with its access policy (api/access.py): a router added without one is
    # caught by tests/api/test_isolation.py.
    app.state.keys = KeyRing(services.state, services.wall, access.KEY_TTL)
    key = services.api.pseudonym_key
    app.state.pseudonyms = Pseudonyms(key.get_secret_value().encode() if key else None)
    app.state.public_limits = TokenBuckets(
        services.api.public_rate_per_s, services.api.public_burst, services.wall
    )
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
        (audit.router, access.AUDIT),
    ):
        paths = {r.path for r in router.routes}  # type: ignore[attr-defined]
        responses = {} if policy.public >= paths else dict(keyed)
        if policy.public & paths:
            responses.update(TOO_MANY)
        app.include_router(router, dependencies=[Depends(policy)], responses=responses)
    return app

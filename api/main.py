"""The FastAPI application factory: it only assembles routers, handlers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, telemetry
from api.hub_screen import HubScreens
from api.json_bodies import JsonBodiesOnly
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

    app = FastAPI(
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
    telemetry.install(app, services.metrics)
    services.metrics.register(PartsCollector(lambda: services.parts, services.wall))
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(devices.router)
    app.include_router(readings.router)
    app.include_router(alerts.router)
    app.include_router(water.router)
    app.include_router(kpis.router)
    app.include_router(hubs.router)
    app.include_router(hub_screen.router)
    app.include_router(parking.router)
    return app

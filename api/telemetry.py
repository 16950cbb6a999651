"""HTTP metrics: requests and latency per route template, on the app's own Prometheus registry."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


def install(app: FastAPI, registry: CollectorRegistry) -> None:
    requests = Counter(
        "vigie_http_requests_total",
        "HTTP requests by method, route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "vigie_http_request_seconds",
        "HTTP request duration by route template",
        ["route"],
        registry=registry,
    )

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The template (/api/v1/alerts/{id}), not the path: label sets stay bounded.
        template = getattr(route, "path", "unmatched")
        requests.labels(request.method, template, str(response.status_code)).inc()
        latency.labels(template).observe(time.perf_counter() - started)
        return response

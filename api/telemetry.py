"""HTTP metrics: requests and latency per route template, on the app's own Prometheus registry."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _Measure:
    """Pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs a task and a stream copy
    per request, which the hub screens' request rates notice)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self._app, self._requests, self._latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response starts is a server error

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            # The template (/api/v1/alerts/{id}), not the path: label sets stay bounded.
            template = getattr(scope.get("route"), "path", "unmatched")
            self._requests.labels(scope["method"], template, str(status)).inc()
            self._latency.labels(template).observe(time.perf_counter() - started)


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
    app.add_middleware(_Measure, requests=requests, latency=latency)

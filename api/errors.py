"""Problem responses: store outages become 503 with a Retry-After, never a 500 with a traceback;
refusals the routes raise themselves have one documented shape per status code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from core.timeseries import StoreError, StoreUnavailable

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """Why a request was refused (400, 401, 403, 404, 409, 415, 502, 503)."""

    detail: str


def _documented(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "description": description}}


# ``responses=`` of the routes: every status a route can answer is in the OpenAPI document.
UNAUTHORIZED = _documented(401, "No API key, or one unknown or revoked")
TOO_MANY = _documented(429, "Too many requests from this address; retry after Retry-After")
UNREADABLE = _documented(400, "The body could not be read as JSON text (e.g. not UTF-8)")
FORBIDDEN = _documented(403, "The credentials given do not open this resource")
NOT_FOUND = _documented(404, "No such resource, or not one the caller may see")
CONFLICT = _documented(409, "The action does not fit the resource's state")
NOT_JSON = _documented(415, "State-changing requests must be sent as application/json")
STORE_DOWN = {
    **_documented(502, "The time-series store refused the query"),
    **_documented(503, "The time-series store is unavailable; retry after Retry-After seconds"),
}


def invalid(
    loc: tuple[str, ...], message: str, kind: str = "value_error", **context: Any
) -> RequestValidationError:
    """A 422 in the same shape as FastAPI's own validation errors (the documented
    ``HTTPValidationError``), for the checks a route makes itself; ``context`` names the limit
    that was crossed, e.g. ``max_points=100000``."""
    error: dict[str, Any] = {"loc": loc, "msg": message, "type": kind}
    if context:
        error["ctx"] = context
    return RequestValidationError([error])


def install(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the log, never to the client: it may name files, queries, secrets.
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(
            status_code=503,
            content={"detail": f"time-series store unavailable: {exc}"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StoreError)
    async def _refused(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(status_code=502, content={"detail": f"time-series store error: {exc}"})

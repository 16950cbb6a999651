"""Problem responses: store outages become 503 with a Retry-After, never a 500 with a traceback."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.timeseries import StoreError, StoreUnavailable


def install(app: FastAPI) -> None:
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

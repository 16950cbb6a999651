"""``/health``: can this process reach its stores, and are its parts (ingest, analytics) working?

200 when every store answers and every part is healthy; 503 otherwise — a store unreachable, or
ingest down (no broker) or stuck (a batch not durable for too long), or analytics failing — with
each check's reason and each part's numbers, so a supervisor restarts and an operator reads why.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from core.health import Fact, PartState
from core.timeseries import StoreError, StoreUnavailable

router = APIRouter(tags=["operations"])


class Check(BaseModel):
    ok: bool
    detail: str


class PartOut(BaseModel):
    ok: bool
    state: PartState
    detail: str
    facts: dict[str, Fact]


class Health(BaseModel):
    status: str
    checks: dict[str, Check]
    parts: dict[str, PartOut]


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "A store or a part is not healthy"}},
)
def health(services: ServicesDep, response: Response) -> Health:
    store, state = services.store, services.state
    checks: dict[str, Check] = {}
    try:
        store.ping()
        checks["timeseries"] = Check(ok=True, detail=type(store).__name__)
    except (StoreUnavailable, StoreError) as exc:
        checks["timeseries"] = Check(ok=False, detail=str(exc))
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["state"] = Check(ok=True, detail=state.engine.dialect.name)
    except SQLAlchemyError as exc:
        checks["state"] = Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    now = services.wall.now()
    parts = {}
    for part in services.parts:
        s = part.status(now)
        parts[s.name] = PartOut(ok=s.ok, state=s.state, detail=s.detail, facts=dict(s.facts))
    ok = all(c.ok for c in checks.values()) and all(p.ok for p in parts.values())
    response.status_code = 200 if ok else 503
    return Health(status="ok" if ok else "unavailable", checks=checks, parts=parts)

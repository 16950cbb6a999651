"""``/health``: can this process reach its stores? 200 when all answer, 503 otherwise."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import StateDep, StoreDep
from core.timeseries import StoreError, StoreUnavailable

router = APIRouter(tags=["operations"])


class Check(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    status: str
    checks: dict[str, Check]


@router.get("/health", response_model=Health)
def health(store: StoreDep, state: StateDep, response: Response) -> Health:
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
    ok = all(c.ok for c in checks.values())
    response.status_code = 200 if ok else 503
    return Health(status="ok" if ok else "unavailable", checks=checks)

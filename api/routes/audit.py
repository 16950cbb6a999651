"""``/api/v1/audit``: who changed what through the API, when and from where (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from api.deps import CallerDep, StateDep
from api.params import Instant, Offset
from api.routes import API_V1
from core.csv_cells import safe_cell
from core.state.audit import audit_page

router = APIRouter(prefix=API_V1, tags=["audit"])

MAX_CSV_ROWS = 100_000
SinceQ = Annotated[Instant | None, Query(description="Entries at or after this instant")]


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    key_id: int | None
    actor: str
    tenant: str | None
    method: str
    path: str
    status: int
    client_ip: str | None


class AuditPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditEntryOut]


@router.get("/audit", response_model=AuditPage)
def audit(
    state: StateDep,
    caller: CallerDep,
    since: SinceQ = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Changes made with the keys of the caller's tenants, newest first."""
    with state.session() as session:
        total, rows = audit_page(session, caller.tenants, since, limit, offset)
        items = [AuditEntryOut.model_validate(r) for r in rows]
    return AuditPage(total=total, limit=limit, offset=offset, items=items)


CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/audit.csv", response_class=Response, responses=CSV)
def audit_csv(state: StateDep, caller: CallerDep, since: SinceQ = None) -> Response:
    """The same entries as CSV (UTF-8 with a byte-order mark, times in ISO 8601 UTC), at most
    the latest 100,000."""
    with state.session() as session:
        _, rows = audit_page(session, caller.tenants, since, MAX_CSV_ROWS, 0)
        items = [AuditEntryOut.model_validate(r) for r in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(AuditEntryOut.model_fields)
    writer.writerow(columns)
    for item in items:
        values = item.model_dump()
        values["at"] = item.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow([safe_cell(values[c]) for c in columns])
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )

"""``/api/v1/alerts``: list (JSON or CSV), one alert with its history and evidence series, and
the operator actions: acknowledge, resolve (fixed or false alarm) with a comment, snooze until a
time, lift a false alarm or snooze, assign."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field

from analytics.alerts.desk import AlertDesk
from analytics.alerts.errors import AlertConflict, AlertNotFound
from analytics.alerts.evidence import read_evidence
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, AlertView, alert_events, get_alert, list_alerts
from analytics.findings import Severity
from api.deps import Caller, CallerDep, ClockDep, PseudonymsDep, StateDep, StoreDep, ZoneDep
from api.errors import CONFLICT, NOT_FOUND, NOT_JSON, STORE_DOWN, UNREADABLE, invalid
from api.params import AlertIdPath, Instant, Offset
from api.pseudonyms import masked_alerts
from api.routes import API_V1
from api.scoping import HOUSEHOLD_READERS, household_devices
from core.csv_cells import safe_cell
from core.state.alerts import Resolution
from core.state.store import StateStore

router = APIRouter(prefix=API_V1, tags=["alerts"])

MAX_CSV_ROWS = 100_000


class EstimatesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    flow_lph: float | None
    volume_m3: float | None
    cost_eur: float | None


class AlertOut(BaseModel):
    """An alert as the API shows it: built from the engine's ``AlertView`` by attribute."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    title: str = Field(validation_alias=AliasChoices("title_fr", "title"))
    severity: Severity
    status: AlertStatus
    tenant: str
    subject_kind: str
    subject: str
    start: datetime
    last_seen: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None = Field(
        description="auto (the condition cleared), fixed, false_alarm, snoozed; manual: closed "
        "by hand before resolutions had kinds"
    )
    suppressed_until: datetime | None = Field(
        description="A snooze's end: until then findings on this subject and type open no alert"
    )
    suppression_ended_at: datetime | None = Field(
        description="When a false alarm or snooze stopped holding back findings (cleared, "
        "worsened, expired or lifted by hand)"
    )
    assignee: str | None
    escalation_level: int
    estimates: EstimatesOut
    evidence: dict[str, Any]


class AlertPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AlertOut]


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: str | None
    comment: str | None
    details: dict[str, Any]


class PointOut(BaseModel):
    time: datetime
    value: float | None


class EvidenceSeriesOut(BaseModel):
    device: str
    quantity: str
    channel: str | None
    unit: str | None
    start: datetime | None
    end: datetime | None
    every: str | None
    points: list[PointOut]
    error: str | None


class AlertDetail(AlertOut):
    events: list[EventOut]
    series: list[EvidenceSeriesOut]


class AckIn(BaseModel):
    comment: str | None = Field(None, description="Optional note, e.g. who is on it")


class ResolveIn(BaseModel):
    comment: str = Field(min_length=1, description="Why it is closed: repair, false alarm, ...")
    resolution: Literal["fixed", "false_alarm"] = Field(
        "fixed",
        description="fixed: dealt with, a later finding opens a new alert; false_alarm: findings "
        "on the same subject and type open no alert until the condition has cleared once",
    )


class SnoozeIn(BaseModel):
    until: AwareDatetime = Field(description="Until when findings open no alert (at most a year)")
    comment: str = Field(min_length=1, description="Why, e.g. works planned on Thursday")


class LiftIn(BaseModel):
    comment: str | None = Field(None, description="Optional note for the history")


class AssignIn(BaseModel):
    assignee: str | None = Field(description="Who handles it; null: nobody")


def _out(a: AlertView) -> AlertOut:
    return AlertOut.model_validate(a)


TenantQ = Annotated[str | None, Query(description="Tenant code")]
TypeQ = Annotated[
    list[str] | None, Query(alias="type", description="Alert type, e.g. burst (repeatable)")
]
SeverityQ = Annotated[list[Severity] | None, Query(description="info, warning, critical")]
StatusQ = Annotated[list[AlertStatus] | None, Query(description="open, acknowledged, resolved")]
SinceQ = Annotated[Instant | None, Query(description="Seen at or after this instant")]
UntilQ = Annotated[Instant | None, Query(description="Started before this instant")]


def _filter(
    caller: CallerDep,
    tenant: TenantQ = None,
    type_: TypeQ = None,
    severity: SeverityQ = None,
    status: StatusQ = None,
    since: SinceQ = None,
    until: UntilQ = None,
) -> AlertFilter:
    """The list's query parameters, within the tenants the caller may see (JSON and CSV alike)."""
    tenants: set[str] | None = None if tenant is None else {tenant}
    if caller.tenants is not None:
        tenants = set(caller.tenants) if tenants is None else tenants & caller.tenants
    return AlertFilter(
        tenants=tenants,
        types=type_ or None,
        severities=severity or None,
        statuses=status or None,
        since=since,
        until=until,
    )


FilterDep = Annotated[AlertFilter, Depends(_filter)]


@router.get("/alerts", response_model=AlertPage)
def alerts(
    state: StateDep,
    where: FilterDep,
    caller: CallerDep,
    pseudonyms: PseudonymsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> AlertPage:
    """Alerts, most recently opened first."""
    total, page = list_alerts(state, where, limit=limit, offset=offset)
    page = masked_alerts(page, caller, state, pseudonyms)
    return AlertPage(total=total, limit=limit, offset=offset, items=[_out(a) for a in page])


CSV_COLUMNS: list[tuple[str, Callable[[AlertView], object]]] = [
    ("id", lambda a: a.id),
    ("type", lambda a: a.type),
    ("titre", lambda a: a.title_fr),
    ("severity", lambda a: a.severity.value),
    ("status", lambda a: a.status.value),
    ("tenant", lambda a: a.tenant),
    ("subject_kind", lambda a: a.subject_kind.value),
    ("subject", lambda a: a.subject),
    ("start", lambda a: a.start),
    ("last_seen", lambda a: a.last_seen),
    ("opened_at", lambda a: a.opened_at),
    ("acknowledged_at", lambda a: a.acknowledged_at),
    ("acknowledged_by", lambda a: a.acknowledged_by),
    ("resolved_at", lambda a: a.resolved_at),
    ("resolved_by", lambda a: a.resolved_by),
    ("resolution", lambda a: a.resolution),
    ("assignee", lambda a: a.assignee),
    ("escalation_level", lambda a: a.escalation_level),
    ("flow_lph", lambda a: a.estimates.flow_lph),
    ("volume_m3", lambda a: a.estimates.volume_m3),
    ("cost_eur", lambda a: a.estimates.cost_eur),
    ("suppressed_until", lambda a: a.suppressed_until),
    ("suppression_ended_at", lambda a: a.suppression_ended_at),
]


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return safe_cell(value)  # text a spreadsheet would run as a formula is neutralised


@router.get(
    "/alerts.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def alerts_csv(
    state: StateDep, where: FilterDep, caller: CallerDep, pseudonyms: PseudonymsDep
) -> Response:
    """The same list as CSV (UTF-8 with a byte-order mark, comma-separated, times in ISO 8601
    UTC). Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
    carriage return) start with a single quote; numbers are written as numbers."""
    total, page = list_alerts(state, where, limit=MAX_CSV_ROWS)
    if total > MAX_CSV_ROWS:
        raise invalid(
            ("query",),
            f"{total} alerts: narrow the filters to {MAX_CSV_ROWS} or fewer",
            max_rows=MAX_CSV_ROWS,
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for a in masked_alerts(page, caller, state, pseudonyms):
        writer.writerow([_cell(get(a)) for _, get in CSV_COLUMNS])
    # The BOM tells Excel the file is UTF-8; without it, it reads Windows-1252 and garbles
    # accents ("abonnÃ©"). Other CSV readers skip it (Python's "utf-8-sig", pandas, LibreOffice).
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="alertes.csv"'},
    )


def _visible(state: StateStore, caller: Caller, alert_id: int) -> AlertView:
    try:
        alert = get_alert(state, alert_id)
    except AlertNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if caller.tenants is not None and alert.tenant not in caller.tenants:
        raise HTTPException(404, f"no alert #{alert_id}")
    return alert


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses={**NOT_FOUND, **STORE_DOWN})
def alert(
    alert_id: AlertIdPath,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    zone: ZoneDep,
    pseudonyms: PseudonymsDep,
) -> AlertDetail:
    """One alert, its history, and the series its evidence names (read from the store)."""
    a = _visible(state, caller, alert_id)
    events = [
        EventOut(at=e.at, kind=e.kind, actor=e.actor, comment=e.comment, details=e.details)
        for e in alert_events(state, alert_id)
    ]
    series = [
        EvidenceSeriesOut(
            device=s.device,
            quantity=s.quantity,
            channel=s.channel,
            unit=s.unit,
            start=s.start,
            end=s.end,
            every=s.every,
            points=[PointOut(time=t, value=v) for t, v in s.points],
            error=s.error,
        )
        for s in read_evidence(a.evidence, store, a.start, a.resolved_at or clock.now(), zone)
    ]
    if caller.role not in HOUSEHOLD_READERS:  # a home's consumption is not theirs to read
        private = household_devices(state, [s.device for s in series])
        series = [s for s in series if s.device not in private]
    [a] = masked_alerts([a], caller, state, pseudonyms)
    return AlertDetail(**_out(a).model_dump(), events=events, series=series)


def _act(
    state: StateStore, caller: Caller, alert_id: int, action: Callable[[], AlertView]
) -> AlertOut:
    _visible(state, caller, alert_id)
    try:
        return _out(action())
    except AlertNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except AlertConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise invalid(("body",), str(exc)) from None


ACTION_RESPONSES = {**UNREADABLE, **NOT_FOUND, **CONFLICT, **NOT_JSON}


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, responses=ACTION_RESPONSES)
def acknowledge(
    alert_id: AlertIdPath,
    state: StateDep,
    clock: ClockDep,
    caller: CallerDep,
    body: AckIn | None = None,
) -> AlertOut:
    """Someone is on it: escalation stops. 409 when the alert is already resolved."""
    comment = body.comment if body else None
    desk = AlertDesk(state, clock)
    return _act(state, caller, alert_id, lambda: desk.acknowledge(alert_id, caller.name, comment))


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut, responses=ACTION_RESPONSES)
def resolve(
    alert_id: AlertIdPath, body: ResolveIn, state: StateDep, clock: ClockDep, caller: CallerDep
) -> AlertOut:
    """Close by hand, with a comment (422 without one): ``fixed``, or ``false_alarm`` to hold
    back findings on the same subject and type until the condition has cleared once."""
    desk = AlertDesk(state, clock)
    resolution = Resolution(body.resolution)
    return _act(
        state,
        caller,
        alert_id,
        lambda: desk.resolve(alert_id, caller.name, body.comment, resolution),
    )


@router.post("/alerts/{alert_id}/snooze", response_model=AlertOut, responses=ACTION_RESPONSES)
def snooze(
    alert_id: AlertIdPath, body: SnoozeIn, state: StateDep, clock: ClockDep, caller: CallerDep
) -> AlertOut:
    """Close until a time: findings on the same subject and type open no alert until then, or
    until the condition clears or gets worse. 422 for a time past or more than a year ahead."""
    desk = AlertDesk(state, clock)
    return _act(
        state,
        caller,
        alert_id,
        lambda: desk.snooze(alert_id, caller.name, body.until, body.comment),
    )


@router.post("/alerts/{alert_id}/lift", response_model=AlertOut, responses=ACTION_RESPONSES)
def lift(
    alert_id: AlertIdPath,
    state: StateDep,
    clock: ClockDep,
    caller: CallerDep,
    body: LiftIn | None = None,
) -> AlertOut:
    """End a false alarm or snooze now: the next finding opens a new alert. 409 when the alert
    holds nothing back."""
    desk = AlertDesk(state, clock)
    comment = body.comment if body else None
    return _act(state, caller, alert_id, lambda: desk.lift(alert_id, caller.name, comment))


@router.post("/alerts/{alert_id}/assign", response_model=AlertOut, responses=ACTION_RESPONSES)
def assign(
    alert_id: AlertIdPath, body: AssignIn, state: StateDep, clock: ClockDep, caller: CallerDep
) -> AlertOut:
    """Give the alert to someone (or to nobody with null)."""
    desk = AlertDesk(state, clock)
    return _act(state, caller, alert_id, lambda: desk.assign(alert_id, body.assignee, caller.name))

"""``/api/v1/parking``: carpool-area availability as JSON, DATEX II, NGSI-LD, and the areas'
static description as the national base's CSV (BNLC)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from analytics.parking.history import occupancy_history
from api.deps import ServicesDep
from api.errors import NOT_FOUND, STORE_DOWN, invalid
from api.feeds import bnlc, datex, ngsi_ld
from api.params import Instant
from api.parking_board import OCCUPIED, AreaView, ParkingBoard
from api.parking_json import AREAS_JSON, AreaOut, area_out, areas_json
from api.routes import API_V1
from api.services import Services
from core.timeseries import Selection

router = APIRouter(prefix=f"{API_V1}/parking", tags=["parking"])

IdLieu = Annotated[
    str, Path(pattern=r"^([013-9]\d|2[AB1-9])\d{3}-C-\d{3}$", description="BNLC id_lieu")
]
MAX_HISTORY_POINTS = 5_000


class SpaceOut(BaseModel):
    code: str
    pmr: bool
    state: Literal["free", "occupied", "unknown"]
    reason: str | None
    last_change: datetime | None
    last_seen: datetime | None


class ForecastOut(BaseModel):
    horizon_min: int
    at: datetime
    free: float  # expected free spaces among those known now


class AreaDetailOut(AreaOut):
    spaces: list[SpaceOut]
    # Empty when not live or with less than a week of history to learn from.
    forecast: list[ForecastOut]


class HistoryPointOut(BaseModel):
    time: datetime
    free: int
    occupied: int
    unknown: int


def _board(services: Services) -> ParkingBoard:
    assert services.parking is not None
    return services.parking


def _views(services: Services) -> list[tuple[AreaView, bool]]:
    return _board(services).live_views(_max_age(services))


def _one(services: Services, id_lieu: str) -> tuple[AreaView, bool]:
    found = _board(services).live_view(id_lieu, _max_age(services))
    if found is None:
        raise HTTPException(404, f"no carpool area {id_lieu!r}")
    return found


def _max_age(services: Services) -> timedelta:
    return timedelta(seconds=services.hub.parking_max_age_s)


@router.get(
    "/areas",
    response_model=list[AreaOut],
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **STORE_DOWN},
)
async def list_areas(services: ServicesDep) -> Response:
    """Every area's availability (counts only when live)."""

    board = _board(services)
    # Polled by every screen and feed reader: on the event loop while the board answers at once
    # (a snapshot is at hand, its list serialized by the worker), in the thread pool when it
    # must compute one.
    if board.ready():
        body = board.derived(AREAS_JSON, _max_age(services), areas_json)
    else:
        body = await run_in_threadpool(board.derived, AREAS_JSON, _max_age(services), areas_json)
    return Response(body, media_type="application/json")


@router.get("/areas/{id_lieu}", responses={**NOT_FOUND, **STORE_DOWN})
def get_area(id_lieu: IdLieu, services: ServicesDep) -> AreaDetailOut:
    """One area with each space's state, last change and why it is unknown."""
    view, live = _one(services, id_lieu)
    spaces = []
    for space in view.info.spaces:
        status = view.availability.spaces.get(space.code)
        spaces.append(
            SpaceOut(
                code=space.code,
                pmr=space.pmr,
                state=status.state.value if status else "unknown",
                reason=status.reason.value if status and status.reason else None,
                last_change=status.last_change if status else None,
                last_seen=status.last_seen if status else None,
            )
        )
    forecast = [
        ForecastOut(horizon_min=p.horizon_min, at=p.at, free=round(p.free, 1))
        for p in (view.availability.forecast if live else ())
    ]
    return AreaDetailOut(**area_out(view, live).model_dump(), spaces=spaces, forecast=forecast)


@router.get("/areas/{id_lieu}/history", responses={**NOT_FOUND, **STORE_DOWN})
def area_history(
    id_lieu: IdLieu,
    services: ServicesDep,
    start: Annotated[Instant, Query(description="From (ISO 8601 with an offset)")],
    end: Annotated[Instant, Query(description="To, excluded")],
    step_min: Annotated[int, Query(ge=1, le=1440, description="Minutes between points")] = 15,
) -> list[HistoryPointOut]:
    """Free, occupied and unknown spaces at each step, as a screen would have shown them."""
    if end <= start:
        raise invalid(("query", "end"), "end must be after start")
    step = timedelta(minutes=step_min)
    if (end - start) / step > MAX_HISTORY_POINTS:
        raise invalid(("query", "step_min"), "too many points", max_points=MAX_HISTORY_POINTS)
    view, _ = _one(services, id_lieu)
    settings = _board(services).settings
    devices = [s.device for s in view.info.spaces if s.device]
    if not devices:
        return []
    reach = max(settings.silent_after(d.codec_id, d.parameters) for d in devices)
    selection = Selection.of(OCCUPIED, [d.dev_eui for d in devices])
    readings = list(services.store.read(selection, start - reach, end).readings())
    points = occupancy_history(view.info, view.info.spaces, readings, start, end, step, settings)
    return [
        HistoryPointOut(time=p.time, free=p.free, occupied=p.occupied, unknown=p.unknown)
        for p in points
    ]


@router.get(
    "/datex",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **STORE_DOWN},
    summary="DATEX II v3 ParkingStatusPublication",
)
def datex_status(services: ServicesDep) -> Response:
    body = datex.parking_status_publication(_views(services), services.clock.now())
    return Response(body, media_type="application/xml")


@router.get(
    "/ngsi-ld/areas",
    response_class=Response,
    responses={200: {"content": {ngsi_ld.MEDIA_TYPE: {}}}, **STORE_DOWN},
    summary="NGSI-LD OffStreetParking entities (Smart Data Models)",
)
def ngsi_areas(services: ServicesDep) -> Response:
    return Response(json.dumps(ngsi_ld.entities(_views(services))), media_type=ngsi_ld.MEDIA_TYPE)


@router.get(
    "/ngsi-ld/areas/{id_lieu}/spots",
    response_class=Response,
    responses={200: {"content": {ngsi_ld.MEDIA_TYPE: {}}}, **NOT_FOUND, **STORE_DOWN},
    summary="NGSI-LD ParkingSpot entities of one area (Smart Data Models)",
)
def ngsi_spots(id_lieu: IdLieu, services: ServicesDep) -> Response:
    view, _ = _one(services, id_lieu)
    return Response(json.dumps(ngsi_ld.parking_spots(view)), media_type=ngsi_ld.MEDIA_TYPE)


@router.get(
    "/bnlc.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **STORE_DOWN},
    summary="The areas in the national carpool places base's CSV format",
)
def bnlc_export(services: ServicesDep) -> Response:
    body = bnlc.bnlc_csv([view.info for view, _ in _views(services)])
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lieux-covoiturage.csv"'},
    )

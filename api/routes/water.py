"""``/api/v1/water/sectors``: a sector's water balance over a period and its RPQS indicators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from analytics.water.balance import Coverage, SectorBalance, sector_balance
from analytics.water.rpqs import rpqs_indicators, volumes_from_balance
from api.deps import CallerDep, ClockDep, StateDep, StoreDep, ZoneDep
from api.errors import NOT_FOUND, STORE_DOWN, invalid
from api.params import Instant
from api.routes import API_V1
from core.state.models import Device, SectorMeter, WaterSector
from core.state.store import StateStore
from core.state.vocabulary import DeviceRole, MeterDirection
from core.timeseries import TimeSeriesStore

router = APIRouter(prefix=f"{API_V1}/water", tags=["water"])

DEFAULT_SPAN = timedelta(days=7)
MAX_SPAN = timedelta(days=400)


class CoverageOut(BaseModel):
    meters: int
    complete: int
    partial: int
    missing: int


class BalanceOut(BaseModel):
    sector: str
    tenant: str
    start: datetime
    end: datetime
    inflow_m3: float
    outflow_m3: float
    input_m3: float
    consumption_m3: float
    non_revenue_m3: float
    non_revenue_share: float | None
    inflow_meters: CoverageOut
    outflow_meters: CoverageOut
    consumer_meters: CoverageOut


class VolumesOut(BaseModel):
    produced_m3: float
    imported_m3: float
    exported_m3: float
    billed_m3: float
    unmetered_m3: float
    service_m3: float
    distributed_m3: float
    authorised_m3: float


class DecretOut(BaseModel):
    threshold_pct: float
    action_plan_due: bool | None


class RpqsOut(BaseModel):
    sector: str
    tenant: str
    year: int
    start: datetime
    end: datetime
    partial_year: bool
    days: float
    network_length_km: float | None
    volumes: VolumesOut
    rendement_pct: float | None
    ilvnc_m3_km_day: float | None
    ilp_m3_km_day: float | None
    ilc_m3_km_day: float | None
    decret_2012_97: DecretOut | None
    inflow_meters: CoverageOut
    consumer_meters: CoverageOut


@dataclass(frozen=True)
class _Sector:
    code: str
    tenant: str
    network_length_km: float | None
    inflow: list[str]
    outflow: list[str]
    consumers: list[str]


def _sector(state: StateStore, code: str, tenants: frozenset[str] | None) -> _Sector:
    """The sector and its meters, or 404 when it is unknown or outside the caller's tenants."""
    with state.session() as session:
        s = (
            session.scalars(
                select(WaterSector)
                .where(WaterSector.code == code)
                .options(
                    joinedload(WaterSector.tenant),
                    joinedload(WaterSector.meter_links).joinedload(SectorMeter.device),
                )
            )
            .unique()
            .one_or_none()
        )
        if s is None or (tenants is not None and s.tenant.code not in tenants):
            raise HTTPException(404, f"no water sector {code!r} in the registry")
        inflow = sorted(d.dev_eui for d in s.meters(MeterDirection.INFLOW))
        outflow = sorted(d.dev_eui for d in s.meters(MeterDirection.OUTFLOW))
        boundary = set(inflow) | set(outflow)
        consumers = session.scalars(
            select(Device.dev_eui).where(
                Device.sector_id == s.id, Device.role == DeviceRole.WATER_METER
            )
        ).all()
        return _Sector(
            code=s.code,
            tenant=s.tenant.code,
            network_length_km=s.network_length_km,
            inflow=inflow,
            outflow=outflow,
            consumers=sorted(d for d in consumers if d not in boundary),
        )


def _coverage(c: Coverage) -> CoverageOut:
    return CoverageOut(meters=c.meters, complete=c.complete, partial=c.partial, missing=c.missing)


def _balance(
    store: TimeSeriesStore, sector: _Sector, start: datetime, end: datetime
) -> SectorBalance:
    return sector_balance(store, start, end, sector.inflow, sector.outflow, sector.consumers)


@router.get(
    "/sectors/{code}/balance", response_model=BalanceOut, responses={**NOT_FOUND, **STORE_DOWN}
)
def balance(
    code: str,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    start: Annotated[Instant | None, Query(description="Inclusive; default end − 7 days")] = None,
    end: Annotated[Instant | None, Query(description="Exclusive; default now")] = None,
) -> BalanceOut:
    sector = _sector(state, code, caller.tenants)
    end = end or clock.now()
    start = start or end - DEFAULT_SPAN
    if end <= start:
        raise invalid(("query", "end"), "end must be after start")
    if end - start > MAX_SPAN:
        raise invalid(
            ("query", "start"),
            f"the period may not exceed {MAX_SPAN.days} days",
            max_span_days=MAX_SPAN.days,
        )
    b = _balance(store, sector, start, end)
    return BalanceOut(
        sector=sector.code,
        tenant=sector.tenant,
        start=start,
        end=end,
        inflow_m3=b.inflow_m3,
        outflow_m3=b.outflow_m3,
        input_m3=b.input_m3,
        consumption_m3=b.consumption_m3,
        non_revenue_m3=b.non_revenue_m3,
        non_revenue_share=b.non_revenue_share,
        inflow_meters=_coverage(b.inflow_coverage),
        outflow_meters=_coverage(b.outflow_coverage),
        consumer_meters=_coverage(b.consumer_coverage),
    )


@router.get("/sectors/{code}/rpqs", response_model=RpqsOut, responses={**NOT_FOUND, **STORE_DOWN})
def rpqs(
    code: str,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    territory_zone: ZoneDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="Calendar year (local)")],
    unmetered_m3: Annotated[
        float,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="V consommé sans comptage (fire hydrants, street cleaning), m³ over"
            " the year (its elapsed part for the current year); default 0",
        ),
    ] = 0.0,
    service_m3: Annotated[
        float,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="V de service du réseau (mains flushing, reservoir cleaning), m³ over"
            " the year (its elapsed part for the current year); default 0",
        ),
    ] = 0.0,
) -> RpqsOut:
    """P104.3, P105.3, P106.3 and the décret 2012-97 check of a sector over a calendar year.

    The meters give V produit + V importé (inflow), V exporté (outflow) and V comptabilisé
    (consumer meters); V sans comptage and V de service are the service's own figures.
    """
    sector = _sector(state, code, caller.tenants)
    zone = ZoneInfo(territory_zone)
    start = datetime.combine(date(year, 1, 1), time(), zone).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), zone).astimezone(UTC)
    now = clock.now()
    if start >= now:
        raise invalid(("query", "year"), f"year {year} has not started")
    partial = end > now
    end = min(end, now)
    # A whole year counts 365 days, as the RPQS formulas do; a year in progress its elapsed days.
    days = (end - start) / timedelta(days=1) if partial else 365.0
    b = _balance(store, sector, start, end)
    v = volumes_from_balance(
        b, sector.network_length_km, days, unmetered_m3=unmetered_m3, service_m3=service_m3
    )
    ind = rpqs_indicators(v)
    return RpqsOut(
        sector=sector.code,
        tenant=sector.tenant,
        year=year,
        start=start,
        end=end,
        partial_year=partial,
        days=days,
        network_length_km=sector.network_length_km,
        volumes=VolumesOut(
            produced_m3=v.produced_m3,
            imported_m3=v.imported_m3,
            exported_m3=v.exported_m3,
            billed_m3=v.billed_m3,
            unmetered_m3=v.unmetered_m3,
            service_m3=v.service_m3,
            distributed_m3=v.distributed_m3,
            authorised_m3=v.authorised_m3,
        ),
        rendement_pct=ind.rendement_pct,
        ilvnc_m3_km_day=ind.ilvnc_m3_km_day,
        ilp_m3_km_day=ind.ilp_m3_km_day,
        ilc_m3_km_day=ind.ilc_m3_km_day,
        decret_2012_97=None
        if ind.decret is None
        else DecretOut(
            threshold_pct=ind.decret.threshold_pct, action_plan_due=ind.decret.action_plan_due
        ),
        inflow_meters=_coverage(b.inflow_coverage),
        consumer_meters=_coverage(b.consumer_coverage),
    )

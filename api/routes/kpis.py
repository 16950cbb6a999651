"""``/api/v1/kpis``: energy and sobriety KPIs of a building or of a tenant's portfolio over a
calendar year, as JSON, CSV, the OPERAT annual CSV, and the HTML sobriety report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from analytics.kpi.building import BuildingYear
from analytics.kpi.comfort import Comfort
from analytics.kpi.inventory import building_info, tenant_scope
from analytics.kpi.operat import operat_csv
from analytics.kpi.portfolio import BuildingReport, PortfolioYear, building_report, portfolio_year
from analytics.kpi.report import render_report
from analytics.kpi.savings import Savings, rank_savings
from analytics.kpi.targets import Baseline
from api.deps import CallerDep, ClockDep, KpiSettingsDep, StateDep, StoreDep
from api.errors import NOT_FOUND, STORE_DOWN, invalid
from api.routes import API_V1
from core.calendar import FrenchCalendar
from core.csv_cells import safe_cell
from core.state.vocabulary import EnergyCarrier

router = APIRouter(prefix=f"{API_V1}/kpis", tags=["kpis"])

CALENDAR = FrenchCalendar()
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}}
}
YearQuery = Annotated[
    int, Query(ge=2010, le=2100, description="Calendar year, Europe/Paris (2010 or later)")
]
TenantQuery = Annotated[
    str,
    Query(min_length=1, max_length=64, description="Tenant code: its buildings and its communes'"),
]
CodePath = Annotated[str, Path(min_length=1, max_length=64, description="Building code")]


class BuildingOut(BaseModel):
    code: str
    name: str
    tenant: str
    activity_category: str | None
    floor_area_m2: float | None
    operat_id: str | None


class CarrierOut(BaseModel):
    carrier: str
    energy_kwh: float
    heating_kwh: float
    co2e_kg: float | None
    cost_eur: float | None
    meters: list[str]
    coverage: float
    resets: int
    gap_share: float


class MonthOut(BaseModel):
    month: date
    elapsed: bool
    energy_kwh: float
    by_carrier_kwh: dict[str, float]
    heating_kwh: float
    heating_corrected_kwh: float | None
    degree_days_meteo: float | None
    degree_days_costic: float | None
    co2e_kg: float | None
    cost_eur: float | None
    baseload_share: float | None
    coverage: float


class ComfortOut(BaseModel):
    occupied_heating_hours: int
    measured_hours: int
    hours_above: int
    share_above: float | None
    mean_c: float | None


class BaselineOut(BaseModel):
    year: int
    energy_kwh: float
    degree_days: float | None
    source: str


class TrajectoryOut(BaseModel):
    subject: bool
    reference: BaselineOut | None
    adjusted_kwh: float | None
    climate_adjusted: bool
    change: float | None
    targets_kwh: dict[str, float]
    expected_kwh: float | None
    on_track: bool | None
    gap_2030_kwh: float | None
    absolute_target_kwh_m2: float | None
    absolute_gap_kwh_m2: float | None


class SobrietyOut(BaseModel):
    baseline: BaselineOut | None
    change: float | None
    change_adjusted: float | None
    target_change: float
    met: bool | None


class SavingsOut(BaseModel):
    rank: int
    own_baseline_kwh: float | None
    own_kwh: float | None
    own_eur: float | None
    peer_median_kwh_m2: float | None
    peer_count: int
    peers_kwh: float | None
    peers_eur: float | None
    national_kwh_m2: float | None
    national_kwh: float | None
    national_eur: float | None
    best_kwh: float | None
    best_eur: float | None
    best_basis: str | None


class NoteOut(BaseModel):
    code: str
    subject: str | None
    value: float | None


class BuildingKpisOut(BaseModel):
    building: BuildingOut
    year: int
    start: datetime
    end: datetime
    partial: bool
    energy_kwh: float
    energy_kwh_m2: float | None
    previous_energy_kwh: float | None
    heating_kwh: float
    heating_corrected_kwh: float | None
    degree_days_meteo: float | None
    degree_days_costic: float | None
    co2e_kg: float | None
    cost_eur: float | None
    baseload_share: float | None
    coverage: float
    carriers: list[CarrierOut]
    months: list[MonthOut]
    comfort: ComfortOut | None
    trajectory: TrajectoryOut
    sobriety: SobrietyOut
    savings: SavingsOut | None
    notes: list[NoteOut]


class PortfolioOut(BaseModel):
    tenant: str
    tenant_name: str
    tenants: list[str]
    year: int
    partial: bool
    energy_kwh: float
    previous_energy_kwh: float
    by_carrier_kwh: dict[str, float]
    buildings: list[BuildingKpisOut]


def _baseline(b: Baseline | None) -> BaselineOut | None:
    return None if b is None else BaselineOut(**vars_of(b))


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _comfort(c: Comfort | None) -> ComfortOut | None:
    if c is None:
        return None
    return ComfortOut(**vars_of(c), share_above=c.share_above)


def _savings(s: Savings | None) -> SavingsOut | None:
    if s is None:
        return None
    return SavingsOut(
        rank=s.rank,
        own_baseline_kwh=s.own.baseline_kwh if s.own else None,
        own_kwh=s.own_kwh,
        own_eur=s.eur(s.own_kwh),
        peer_median_kwh_m2=s.peer_median_kwh_m2,
        peer_count=s.peer_count,
        peers_kwh=s.peers_kwh,
        peers_eur=s.eur(s.peers_kwh),
        national_kwh_m2=s.national_kwh_m2,
        national_kwh=s.national_kwh,
        national_eur=s.eur(s.national_kwh),
        best_kwh=s.best_kwh,
        best_eur=s.best_eur,
        best_basis=s.best_basis,
    )


def _out(r: BuildingReport) -> BuildingKpisOut:
    y, t, s = r.current, r.trajectory, r.sobriety
    b = y.building
    return BuildingKpisOut(
        building=BuildingOut(
            code=b.code,
            name=b.name,
            tenant=b.tenant,
            activity_category=b.activity_category,
            floor_area_m2=b.floor_area_m2,
            operat_id=b.operat_id,
        ),
        year=y.year,
        start=y.start,
        end=y.end,
        partial=y.partial,
        energy_kwh=y.energy_kwh,
        energy_kwh_m2=y.energy_kwh_m2,
        previous_energy_kwh=r.previous.energy_kwh if r.previous else None,
        heating_kwh=y.heating_kwh,
        heating_corrected_kwh=y.heating_corrected_kwh,
        degree_days_meteo=y.degree_days_meteo,
        degree_days_costic=y.degree_days_costic,
        co2e_kg=y.co2e_kg,
        cost_eur=y.cost_eur,
        baseload_share=y.baseload_share,
        coverage=y.coverage,
        carriers=[CarrierOut(**{**vars_of(c), "meters": list(c.meters)}) for c in y.carriers],
        months=[MonthOut(**vars_of(m)) for m in y.months],
        comfort=_comfort(r.comfort),
        trajectory=TrajectoryOut(
            **{
                **vars_of(t),
                "reference": _baseline(t.reference),
                "targets_kwh": {str(k): v for k, v in t.targets_kwh.items()},
            }
        ),
        sobriety=SobrietyOut(**{**vars_of(s), "baseline": _baseline(s.baseline)}),
        savings=_savings(r.savings),
        notes=[NoteOut(**vars_of(n)) for n in y.notes],
    )


def _year_error(exc: ValueError) -> Exception:
    return invalid(("query", "year"), str(exc))


def _building(
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
    code: str,
    year: int,
) -> BuildingReport:
    info = building_info(state, code)
    if info is None or (caller.tenants is not None and info.tenant not in caller.tenants):
        raise HTTPException(404, f"no building {code!r} in the registry")
    try:
        report = building_report(store, info, year, clock.now(), kpi, CALENDAR)
    except ValueError as exc:
        raise _year_error(exc) from None
    # Alone, a building has its own baseline and the national reference; peers need the
    # portfolio (/kpis/portfolio).
    [savings] = rank_savings(
        [report.current],
        {info.code: report.previous} if report.previous else {},
        kpi.reference_kwh_m2,
    )
    return replace(report, savings=savings)


def _portfolio(
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
    tenant: str,
    year: int,
) -> PortfolioYear:
    visible = caller.tenants is None or tenant in caller.tenants
    if not visible or tenant_scope(state, tenant) is None:
        raise HTTPException(404, f"no tenant {tenant!r} in the registry")
    try:
        return portfolio_year(
            store, state, tenant, year, clock.now(), kpi, CALENDAR, within=caller.tenants
        )
    except ValueError as exc:
        raise _year_error(exc) from None


def _csv(
    columns: Iterable[tuple[str, Callable[[Any], object]]], rows: Iterable[Any], name: str
) -> Response:
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c for c, _ in columns])
    for row in rows:
        writer.writerow([safe_cell(get(row)) for _, get in columns])
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


MONTH_COLUMNS: list[tuple[str, Callable[[Any], object]]] = [
    ("month", lambda m: m.month.isoformat()),
    ("elapsed", lambda m: m.elapsed),
    ("energy_kwh", lambda m: m.energy_kwh),
    *[(f"{c.value}_kwh", lambda m, c=c: m.by_carrier_kwh.get(c.value)) for c in EnergyCarrier],
    ("heating_kwh", lambda m: m.heating_kwh),
    ("heating_corrected_kwh", lambda m: m.heating_corrected_kwh),
    ("degree_days_meteo", lambda m: m.degree_days_meteo),
    ("degree_days_costic", lambda m: m.degree_days_costic),
    ("co2e_kg", lambda m: m.co2e_kg),
    ("cost_eur", lambda m: m.cost_eur),
    ("baseload_share", lambda m: m.baseload_share),
    ("coverage", lambda m: m.coverage),
]


def _change(r: BuildingReport) -> float | None:
    before = r.previous
    if before is None or before.energy_kwh <= 0:
        return None
    return r.current.energy_kwh / before.energy_kwh - 1


def _y(get: Callable[[BuildingYear], object]) -> Callable[[BuildingReport], object]:
    return lambda r: get(r.current)


PORTFOLIO_COLUMNS: list[tuple[str, Callable[[BuildingReport], object]]] = [
    ("rank", lambda r: r.savings.rank if r.savings else None),
    ("building", lambda r: r.code),
    ("name", _y(lambda y: y.building.name)),
    ("tenant", _y(lambda y: y.building.tenant)),
    ("activity_category", _y(lambda y: y.building.activity_category)),
    ("floor_area_m2", _y(lambda y: y.building.floor_area_m2)),
    ("energy_kwh", _y(lambda y: y.energy_kwh)),
    ("energy_kwh_m2", _y(lambda y: y.energy_kwh_m2)),
    ("previous_energy_kwh", lambda r: r.previous.energy_kwh if r.previous else None),
    ("change", _change),
    ("heating_corrected_kwh", _y(lambda y: y.heating_corrected_kwh)),
    ("degree_days_costic", _y(lambda y: y.degree_days_costic)),
    ("co2e_kg", _y(lambda y: y.co2e_kg)),
    ("cost_eur", _y(lambda y: y.cost_eur)),
    ("baseload_share", _y(lambda y: y.baseload_share)),
    ("coverage", _y(lambda y: y.coverage)),
    ("comfort_share_above", lambda r: r.comfort.share_above if r.comfort else None),
    ("own_kwh", lambda r: r.savings.own_kwh if r.savings else None),
    ("peers_kwh", lambda r: r.savings.peers_kwh if r.savings else None),
    ("national_kwh", lambda r: r.savings.national_kwh if r.savings else None),
    ("best_kwh", lambda r: r.savings.best_kwh if r.savings else None),
    ("best_eur", lambda r: r.savings.best_eur if r.savings else None),
    ("best_basis", lambda r: r.savings.best_basis if r.savings else None),
    ("reference_year", lambda r: r.trajectory.reference.year if r.trajectory.reference else None),
    (
        "reference_energy_kwh",
        lambda r: r.trajectory.reference.energy_kwh if r.trajectory.reference else None,
    ),
    ("decree_adjusted_kwh", lambda r: r.trajectory.adjusted_kwh),
    ("decree_change", lambda r: r.trajectory.change),
    ("decree_on_track", lambda r: r.trajectory.on_track),
    ("decree_gap_2030_kwh", lambda r: r.trajectory.gap_2030_kwh),
    ("sobriety_change", lambda r: r.sobriety.change),
    ("sobriety_met", lambda r: r.sobriety.met),
]


@router.get(
    "/buildings/{code}.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def building_csv(
    code: CodePath,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> Response:
    """The building's months as CSV (UTF-8 with BOM): energy per carrier, heating, degree days,
    CO2e, cost, baseload share, coverage. Text cells that a spreadsheet would run as a formula
    start with a single quote."""
    report = _building(state, store, clock, caller, kpi, code, year)
    return _csv(MONTH_COLUMNS, report.current.months, f"kpi-{code}-{year}.csv")


@router.get(
    "/buildings/{code}",
    response_model=BuildingKpisOut,
    responses={**NOT_FOUND, **STORE_DOWN},
)
def building(
    code: CodePath,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> BuildingKpisOut:
    """A building's year (its elapsed part for the current year): energy per carrier and
    month, kWh/m², degree days by both methods, climate-corrected heating, CO2e, cost, baseload
    share, setpoint compliance, décret tertiaire trajectory, 2022 sobriety plan, and its savings
    potential against its own last year and the national reference."""
    return _out(_building(state, store, clock, caller, kpi, code, year))


@router.get(
    "/portfolio",
    response_model=PortfolioOut,
    responses={**NOT_FOUND, **STORE_DOWN},
)
def portfolio(
    tenant: TenantQuery,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> PortfolioOut:
    """Every building of a tenant and of its member communes, ranked by savings potential
    (against its own last year, its peers of the same activity and the national reference)."""
    p = _portfolio(state, store, clock, caller, kpi, tenant, year)
    return PortfolioOut(
        tenant=p.tenant,
        tenant_name=p.tenant_name,
        tenants=p.tenants,
        year=p.year,
        partial=p.partial,
        energy_kwh=p.total_kwh(),
        previous_energy_kwh=p.total_kwh(previous=True),
        by_carrier_kwh={c: p.total_kwh(c) for c in p.carriers},
        buildings=[_out(r) for r in p.buildings],
    )


@router.get(
    "/portfolio.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def portfolio_csv(
    tenant: TenantQuery,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> Response:
    """The portfolio as CSV, one ranked row per building."""
    p = _portfolio(state, store, clock, caller, kpi, tenant, year)
    return _csv(PORTFOLIO_COLUMNS, p.buildings, f"kpi-{tenant}-{year}.csv")


@router.get(
    "/operat.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def operat(
    tenant: TenantQuery,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> Response:
    """The year's consumption per building and energy, for the OPERAT declaration (see
    docs/decisions/011-energy-kpis.md for what of ADEME's import format is confirmed)."""
    p = _portfolio(state, store, clock, caller, kpi, tenant, year)
    years = sorted((r.current for r in p.buildings), key=lambda y: y.building.code)
    return Response(
        operat_csv(years),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="operat-{tenant}-{year}.csv"'},
    )


@router.get(
    "/portfolio.html",
    response_class=HTMLResponse,
    responses={**HTML, **NOT_FOUND, **STORE_DOWN},
)
def portfolio_html(
    tenant: TenantQuery,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> HTMLResponse:
    """The sobriety report: one self-contained HTML page, in French, that prints on A4."""
    p = _portfolio(state, store, clock, caller, kpi, tenant, year)
    return HTMLResponse(render_report(p))

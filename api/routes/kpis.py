"""``/api/v1/kpis``: energy and sobriety KPIs of a building or of a tenant's portfolio over a
calendar year, as JSON, CSV, the OPERAT annual CSV, and the HTML sobriety report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.responses import HTMLResponse

from analytics.kpi.inventory import building_info, tenant_scope
from analytics.kpi.operat import operat_csv
from analytics.kpi.portfolio import BuildingReport, PortfolioYear, building_report, portfolio_year
from analytics.kpi.report import render_report
from analytics.kpi.savings import rank_savings
from api.deps import CallerDep, ClockDep, KpiSettingsDep, StateDep, StoreDep
from api.errors import NOT_FOUND, STORE_DOWN, invalid
from api.kpi_bodies import (
    MONTH_COLUMNS,
    PORTFOLIO_COLUMNS,
    BuildingKpisOut,
    PortfolioOut,
    building_out,
)
from api.routes import API_V1
from core.calendar import FrenchCalendar
from core.csv_cells import safe_cell

router = APIRouter(prefix=f"{API_V1}/kpis", tags=["kpis"])

CALENDAR = FrenchCalendar()
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}}
}
YearQuery = Annotated[
    int, Query(ge=2010, le=2100, description="Local calendar year (2010 or later)")
]
TenantQuery = Annotated[
    str,
    Query(min_length=1, max_length=64, description="Tenant code: its buildings and its communes'"),
]
CodePath = Annotated[str, Path(min_length=1, max_length=64, description="Building code")]


def _year_error(exc: ValueError) -> Exception:
    return invalid(("query", "year"), str(exc))


def _building(
    code: CodePath,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> BuildingReport:
    """The building's year as the caller may see it (404 for a building of another tenant)."""
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
    tenant: TenantQuery,
    year: YearQuery,
    state: StateDep,
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    kpi: KpiSettingsDep,
) -> PortfolioYear:
    """The tenant's portfolio as the caller may see it (404 for a tenant out of its reach)."""
    visible = caller.tenants is None or tenant in caller.tenants
    if not visible or tenant_scope(state, tenant) is None:
        raise HTTPException(404, f"no tenant {tenant!r} in the registry")
    try:
        return portfolio_year(
            store, state, tenant, year, clock.now(), kpi, CALENDAR, within=caller.tenants
        )
    except ValueError as exc:
        raise _year_error(exc) from None


BuildingDep = Annotated[BuildingReport, Depends(_building)]
PortfolioDep = Annotated[PortfolioYear, Depends(_portfolio)]


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


@router.get(
    "/buildings/{code}.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def building_csv(code: CodePath, year: YearQuery, report: BuildingDep) -> Response:
    """The building's months as CSV (UTF-8 with BOM): energy per carrier, heating, degree days,
    CO2e, cost, baseload share, coverage. Text cells that a spreadsheet would run as a formula
    start with a single quote."""
    return _csv(MONTH_COLUMNS, report.current.months, f"kpi-{code}-{year}.csv")


@router.get(
    "/buildings/{code}",
    response_model=BuildingKpisOut,
    responses={**NOT_FOUND, **STORE_DOWN},
)
def building(report: BuildingDep) -> BuildingKpisOut:
    """A building's year (its elapsed part for the current year): energy per carrier and
    month, kWh/m², degree days by both methods, climate-corrected heating, CO2e, cost, baseload
    share, setpoint compliance, décret tertiaire trajectory, 2022 sobriety plan, and its savings
    potential against its own last year and the national reference."""
    return building_out(report)


@router.get(
    "/portfolio",
    response_model=PortfolioOut,
    responses={**NOT_FOUND, **STORE_DOWN},
)
def portfolio(p: PortfolioDep) -> PortfolioOut:
    """Every building of a tenant and of its member communes, ranked by savings potential
    (against its own last year, its peers of the same activity and the national reference)."""
    return PortfolioOut(
        tenant=p.tenant,
        tenant_name=p.tenant_name,
        tenants=p.tenants,
        year=p.year,
        partial=p.partial,
        energy_kwh=p.total_kwh(),
        previous_energy_kwh=p.total_kwh(previous=True),
        by_carrier_kwh={c: p.total_kwh(c) for c in p.carriers},
        buildings=[building_out(r) for r in p.buildings],
    )


@router.get(
    "/portfolio.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def portfolio_csv(tenant: TenantQuery, year: YearQuery, p: PortfolioDep) -> Response:
    """The portfolio as CSV, one ranked row per building."""
    return _csv(PORTFOLIO_COLUMNS, p.buildings, f"kpi-{tenant}-{year}.csv")


@router.get(
    "/operat.csv",
    response_class=Response,
    responses={**CSV, **NOT_FOUND, **STORE_DOWN},
)
def operat(tenant: TenantQuery, year: YearQuery, p: PortfolioDep) -> Response:
    """The year's consumption per building and energy, for the OPERAT declaration (see
    docs/decisions/011-energy-kpis.md for what of ADEME's import format is confirmed)."""
    years = sorted((r.current for r in p.buildings), key=lambda y: y.building.code)
    return Response(
        operat_csv(years, p.settings.zone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="operat-{tenant}-{year}.csv"'},
    )


@router.get(
    "/portfolio.html",
    response_class=HTMLResponse,
    responses={**HTML, **NOT_FOUND, **STORE_DOWN},
)
def portfolio_html(p: PortfolioDep) -> HTMLResponse:
    """The sobriety report: one self-contained HTML page, in French, that prints on A4."""
    return HTMLResponse(render_report(p))

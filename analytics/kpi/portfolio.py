"""A tenant's buildings over a year, as the sobriety strategy reads them: each building's KPIs,
last year's beside them, setpoint compliance, décret tertiaire trajectory, sobriety plan, and
the savings ranking.

Reference years come from the registry when declared (``reference_energy_kwh``,
``energy_2019_kwh``), else from the store when its meters cover the whole year.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from analytics.kpi.building import BuildingYear, building_year, year_bounds
from analytics.kpi.comfort import Comfort, comfort
from analytics.kpi.inventory import BuildingInfo, portfolio_buildings, tenant_scope
from analytics.kpi.savings import Savings, rank_savings
from analytics.kpi.targets import (
    SOBRIETY_YEAR,
    Baseline,
    Sobriety,
    Trajectory,
    declared,
    metered,
    sobriety,
    trajectory,
)
from core.calendar import FrenchCalendar
from core.config import KpiSettings
from core.state.models import Tenant
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore

FIRST_YEAR = 2010


@dataclass(frozen=True)
class BuildingReport:
    """Everything the report and the API say about one building in one year."""

    current: BuildingYear
    previous: BuildingYear | None
    comfort: Comfort | None
    comfort_previous: Comfort | None
    trajectory: Trajectory
    sobriety: Sobriety
    savings: Savings | None = None

    @property
    def code(self) -> str:
        return self.current.building.code


@dataclass(frozen=True)
class PortfolioYear:
    tenant: str
    tenant_name: str
    tenants: list[str]  # the tenant and its member communes
    year: int
    generated_at: datetime
    partial: bool
    buildings: list[BuildingReport]  # ranked: where to act first comes first
    settings: KpiSettings

    def total_kwh(self, carrier: str | None = None, previous: bool = False) -> float:
        years = [b.previous if previous else b.current for b in self.buildings]
        return float(
            sum(
                c.energy_kwh
                for y in years
                if y is not None
                for c in y.carriers
                if carrier is None or c.carrier == carrier
            )
        )

    @property
    def carriers(self) -> list[str]:
        return sorted({c.carrier for b in self.buildings for c in b.current.carriers})


class _Years:
    """Building-years computed once each (a reference year may be last year)."""

    def __init__(self, compute: Callable[[int], BuildingYear]) -> None:
        self._compute = compute
        self._done: dict[int, BuildingYear] = {}

    def get(self, year: int) -> BuildingYear:
        if year not in self._done:
            self._done[year] = self._compute(year)
        return self._done[year]


def building_report(
    store: TimeSeriesStore,
    building: BuildingInfo,
    year: int,
    now: datetime,
    settings: KpiSettings,
    calendar: FrenchCalendar,
) -> BuildingReport:
    """One building's year; raises ValueError when the year has not started."""
    years = _Years(lambda y: building_year(store, building, y, now, settings, baseload=False))
    current = building_year(store, building, year, now, settings)
    previous = years.get(year - 1) if year - 1 >= FIRST_YEAR else None

    def past(y: int | None, energy: float | None, dju: float | None) -> Baseline | None:
        found = declared(y, energy, dju)
        if found is None and y is not None and FIRST_YEAR <= y < year:
            found = metered(previous if y == year - 1 and previous else years.get(y))
        return found

    reference = past(
        building.reference_year, building.reference_energy_kwh, building.reference_degree_days
    )
    baseline_2019 = past(SOBRIETY_YEAR, building.energy_2019_kwh, building.degree_days_2019)
    return BuildingReport(
        current=current,
        previous=previous,
        comfort=comfort(store, building, current.start, current.end, settings, calendar),
        comfort_previous=None
        if previous is None
        else comfort(store, building, previous.start, previous.end, settings, calendar),
        trajectory=trajectory(current, reference),
        sobriety=sobriety(current, baseline_2019),
    )


def tenant_name(state: StateStore, code: str) -> str:
    with state.session() as session:
        name = session.scalar(select(Tenant.name).where(Tenant.code == code))
        return str(name) if name is not None else code


def portfolio_year(
    store: TimeSeriesStore,
    state: StateStore,
    tenant: str,
    year: int,
    now: datetime,
    settings: KpiSettings,
    calendar: FrenchCalendar | None = None,
    within: Collection[str] | None = None,
) -> PortfolioYear:
    """The tenant's portfolio for ``year``, only the buildings of the ``within`` tenants when
    given; raises LookupError for an unknown tenant, ValueError for a year not started."""
    scope = tenant_scope(state, tenant)
    if scope is None:
        raise LookupError(f"no tenant {tenant!r} in the registry")
    _, _, partial = year_bounds(year, now, settings.zone)
    calendar = calendar or FrenchCalendar()
    reports = [
        building_report(store, b, year, now, settings, calendar)
        for b in portfolio_buildings(state, tenant)
        if within is None or b.tenant in within
    ]
    ranking = rank_savings(
        [r.current for r in reports],
        {r.code: r.previous for r in reports if r.previous is not None},
        settings.reference_kwh_m2,
    )
    by_code = {r.code: r for r in reports}
    ranked = [replace(by_code[s.building], savings=s) for s in ranking]
    return PortfolioYear(
        tenant=tenant,
        tenant_name=tenant_name(state, tenant),
        tenants=scope,
        year=year,
        generated_at=now,
        partial=partial,
        buildings=ranked,
        settings=settings,
    )

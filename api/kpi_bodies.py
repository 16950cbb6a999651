"""Response bodies of ``/api/v1/kpis``: KPI records as JSON models and as CSV columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from analytics.kpi.building import BuildingYear
from analytics.kpi.comfort import Comfort
from analytics.kpi.portfolio import BuildingReport
from analytics.kpi.savings import Savings
from analytics.kpi.targets import Baseline
from core.state.vocabulary import EnergyCarrier


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
    return None if b is None else BaselineOut(**_fields(b))


def _fields(obj: Any) -> dict[str, Any]:
    """The fields of a slotted dataclass, by name."""
    return {name: getattr(obj, name) for name in obj.__slots__}


def _comfort(c: Comfort | None) -> ComfortOut | None:
    if c is None:
        return None
    return ComfortOut(**_fields(c), share_above=c.share_above)


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


def building_out(r: BuildingReport) -> BuildingKpisOut:
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
        carriers=[CarrierOut(**{**_fields(c), "meters": list(c.meters)}) for c in y.carriers],
        months=[MonthOut(**_fields(m)) for m in y.months],
        comfort=_comfort(r.comfort),
        trajectory=TrajectoryOut(
            **{
                **_fields(t),
                "reference": _baseline(t.reference),
                "targets_kwh": {str(k): v for k, v in t.targets_kwh.items()},
            }
        ),
        sobriety=SobrietyOut(**{**_fields(s), "baseline": _baseline(s.baseline)}),
        savings=_savings(r.savings),
        notes=[NoteOut(**_fields(n)) for n in y.notes],
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

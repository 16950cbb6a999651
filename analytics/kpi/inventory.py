"""What the KPIs need to know from the registry: buildings, their meters by carrier, their indoor
climate sensors, and the probe that gives their outdoor temperature.

- A meter is a device of the building with role ``energy_meter`` or ``gas_meter``, unless its
  parameter ``submeter`` is true (its energy is already on a main meter: counting it would count
  twice). Its carrier is its ``carrier`` parameter, else gas for a gas meter and electricity for
  an energy meter; the share of its energy that heats the building is ``heating_share``, else 1
  for fuels and district heating and 0 for electricity and district cooling. A gas meter that
  counts m³ converts with its ``kwh_per_m3``.
- The outdoor temperature comes from the devices whose ``outdoor_temperature`` parameter is set
  (true: their readings without a channel; a channel name: that channel), nearest first: on the
  building, on its site, of its tenant, then anywhere in its territory (the agglomeration and its
  communes).
- A portfolio is the buildings of a tenant and, for an agglomeration, of its member communes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from analytics.kpi.degree_days import OutdoorProbe
from core.state.models import Building, Device, Site, Tenant
from core.state.store import StateStore
from core.state.vocabulary import DeviceRole, EnergyCarrier

METER_ROLES = (DeviceRole.ENERGY_METER.value, DeviceRole.GAS_METER.value)
SCOPES = ("building", "site", "tenant", "territory")
NOT_HEATING = (EnergyCarrier.ELECTRICITY.value, EnergyCarrier.DISTRICT_COOLING.value)


@dataclass(frozen=True, slots=True)
class Meter:
    """An energy meter whose consumption counts in its building's totals."""

    device: str
    name: str | None
    carrier: str
    heating_share: float
    kwh_per_m3: float | None  # for gas meters that count volume


@dataclass(frozen=True, slots=True)
class BuildingInfo:
    """A building as the KPIs see it."""

    code: str
    name: str
    tenant: str
    tenant_name: str
    site: str
    activity_category: str | None
    floor_area_m2: float | None
    energy_carriers: tuple[str, ...]
    holiday_zone: str | None
    schedule: dict[str, list[list[str]]] | None
    operat_id: str | None
    reference_year: int | None
    reference_energy_kwh: float | None
    reference_degree_days: float | None
    energy_2019_kwh: float | None
    degree_days_2019: float | None
    absolute_target_kwh_m2: float | None
    meters: tuple[Meter, ...] = ()
    submeters: tuple[str, ...] = ()
    climate: tuple[str, ...] = ()  # indoor sensors (readings without a channel)
    outdoor: tuple[OutdoorProbe, ...] = ()
    outdoor_scope: str | None = None  # building, site, tenant or territory
    territory: str = ""  # root tenant (the agglomeration, or the commune itself)


def _probe(device: Device) -> OutdoorProbe | None:
    flag = (device.parameters or {}).get("outdoor_temperature")
    if flag is True:
        return OutdoorProbe(device.dev_eui, None)
    if isinstance(flag, str) and flag:
        return OutdoorProbe(device.dev_eui, flag)
    return None


def _meter(device: Device) -> Meter:
    params: dict[str, Any] = device.parameters or {}
    default = "gas" if device.role == DeviceRole.GAS_METER else "electricity"
    carrier = str(params.get("carrier") or default)
    share = params.get("heating_share")
    if share is None:
        share = 0.0 if carrier in NOT_HEATING else 1.0
    per_m3 = params.get("kwh_per_m3")
    return Meter(
        device.dev_eui,
        device.name,
        carrier,
        float(share),
        None if per_m3 is None else float(per_m3),
    )


def _root(tenant: Tenant) -> Tenant:
    return tenant.parent if tenant.parent is not None else tenant


def _info(
    building: Building, devices: list[Device], probes: list[tuple[Device, Tenant]]
) -> BuildingInfo:
    site: Site = building.site
    tenant: Tenant = site.tenant
    mine = [d for d in devices if d.building_id == building.id]
    meters, submeters = [], []
    for d in sorted(mine, key=lambda d: d.dev_eui):
        if d.role not in METER_ROLES:
            continue
        if (d.parameters or {}).get("submeter"):
            submeters.append(d.dev_eui)
        else:
            meters.append(_meter(d))
    climate = sorted(
        d.dev_eui
        for d in mine
        if d.role == DeviceRole.CLIMATE
        and (d.parameters or {}).get("outdoor_temperature") is not True
    )
    root = _root(tenant)

    def scope(d: Device, t: Tenant) -> int:
        """How near a probe is: 0 on the building, 1 on its site, 2 its tenant's, 3 in its
        territory, 4 elsewhere."""
        if d.building_id == building.id:
            return 0
        if d.site_id == site.id or (d.building is not None and d.building.site_id == site.id):
            return 1
        if t.id == tenant.id:
            return 2
        return 3 if _root(t).id == root.id else 4

    near = [(scope(d, t), p) for d, t in probes if (p := _probe(d)) is not None]
    best = min((s for s, _ in near), default=4)
    outdoor = sorted((p for s, p in near if s == best), key=lambda p: (p.device, p.channel or ""))
    scope_name = SCOPES[best] if outdoor and best < 4 else None
    if scope_name is None:
        outdoor = []
    return BuildingInfo(
        code=building.code,
        name=building.name,
        tenant=tenant.code,
        tenant_name=tenant.name,
        site=site.code,
        activity_category=building.activity_category,
        floor_area_m2=building.floor_area_m2,
        energy_carriers=tuple(building.energy_carriers or ()),
        holiday_zone=building.holiday_zone,
        schedule=building.schedule,
        operat_id=building.operat_id,
        reference_year=building.reference_year,
        reference_energy_kwh=building.reference_energy_kwh,
        reference_degree_days=building.reference_degree_days,
        energy_2019_kwh=building.energy_2019_kwh,
        degree_days_2019=building.degree_days_2019,
        absolute_target_kwh_m2=building.absolute_target_kwh_m2,
        meters=tuple(meters),
        submeters=tuple(submeters),
        climate=tuple(climate),
        outdoor=tuple(outdoor),
        outdoor_scope=scope_name,
        territory=root.code,
    )


def _load(session: Session, buildings: Iterable[Building]) -> list[BuildingInfo]:
    buildings = list(buildings)
    if not buildings:
        return []
    devices = list(
        session.scalars(
            select(Device)
            .where(Device.building_id.in_([b.id for b in buildings]))
            .options(joinedload(Device.building))
        )
    )
    # Only devices with the parameter: a territory has 100,000 water meters.
    flagged = Device.parameters["outdoor_temperature"].as_string().is_not(None)
    probes = [
        (d, d.tenant)
        for d in session.scalars(
            select(Device)
            .where(flagged)
            .options(
                joinedload(Device.tenant).joinedload(Tenant.parent), joinedload(Device.building)
            )
        )
        if _probe(d) is not None
    ]
    return [_info(b, devices, probes) for b in buildings]


def _query() -> Any:
    return select(Building).options(
        joinedload(Building.site).joinedload(Site.tenant).joinedload(Tenant.parent)
    )


def building_info(state: StateStore, code: str) -> BuildingInfo | None:
    """One building, or None when the registry has no such code."""
    with state.session() as session:
        found = session.scalars(_query().where(Building.code == code)).unique().one_or_none()
        return None if found is None else _load(session, [found])[0]


def tenant_scope(state: StateStore, tenant: str) -> list[str] | None:
    """The tenant and its member communes, or None when the tenant is unknown."""
    with state.session() as session:
        found = session.scalars(select(Tenant).where(Tenant.code == tenant)).one_or_none()
        if found is None:
            return None
        return [found.code, *sorted(m.code for m in found.members)]


def portfolio_buildings(state: StateStore, tenant: str) -> list[BuildingInfo]:
    """The buildings of a tenant and of its member communes, by code."""
    scope = tenant_scope(state, tenant) or []
    with state.session() as session:
        found = (
            session.scalars(
                _query().join(Building.site).join(Site.tenant).where(Tenant.code.in_(scope))
            )
            .unique()
            .all()
        )
        return _load(session, sorted(found, key=lambda b: b.code))

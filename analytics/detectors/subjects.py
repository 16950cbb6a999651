"""What detectors watch, read from the registry: household and building water meters, sector
inflow meters, river and groundwater level stations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from analytics.detectors.base import Subject
from analytics.findings import SubjectKind
from core.state.models import Device, Tenant
from core.state.store import StateStore

_Pick = Callable[[Device], Subject | None]


@dataclass(frozen=True)
class DevicesByRole:
    """Subjects made from the registry's devices of some roles, one per device kept."""

    name: str
    roles: tuple[str, ...]
    pick: _Pick

    def load(self, state: StateStore, tenant: str | None = None) -> list[Subject]:
        query = select(Device).where(Device.role.in_(self.roles))
        if tenant is not None:
            query = query.where(Device.tenant.has(Tenant.code == tenant))
        with state.session() as s:
            devices: Sequence[Device] = s.scalars(
                query.order_by(Device.dev_eui).options(
                    joinedload(Device.tenant),
                    joinedload(Device.building),
                    joinedload(Device.sector),
                    joinedload(Device.site),
                )
            ).all()
            return [subject for d in devices if (subject := self.pick(d)) is not None]


def _household(d: Device) -> Subject | None:
    if d.building is not None or d.sector is None:
        return None
    return Subject(d.tenant.code, SubjectKind.DEVICE, d.dev_eui, (d.dev_eui,), d.parameters or {})


def _building(d: Device) -> Subject | None:
    if d.building is None:
        return None
    code = d.building.code
    return Subject(d.tenant.code, SubjectKind.BUILDING, code, (d.dev_eui,), d.parameters or {})


def _sector(d: Device) -> Subject | None:
    if d.sector is None:
        return None
    code = d.sector.code
    return Subject(d.tenant.code, SubjectKind.SECTOR, code, (d.dev_eui,), d.parameters or {})


def _station(d: Device) -> Subject | None:
    params = d.parameters or {}
    if "vigilance_m" not in params:
        return None  # a level sensor without thresholds is stored, not watched
    code = str(params.get("station") or (d.site.code if d.site else d.dev_eui))
    return Subject(d.tenant.code, SubjectKind.STATION, code, (d.dev_eui,), params)


HOUSEHOLD_METERS = DevicesByRole("household_meters", ("water_meter",), _household)
BUILDING_WATER_METERS = DevicesByRole("building_water_meters", ("water_meter",), _building)
SECTOR_INFLOWS = DevicesByRole("sector_inflows", ("sector_inflow",), _sector)
LEVEL_STATIONS = DevicesByRole("level_stations", ("level",), _station)

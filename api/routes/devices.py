"""``/api/v1/devices``: the registry's devices, filtered and paged, with their latest readings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from api.deps import CallerDep, PseudonymsDep, StateDep, StoreDep
from api.errors import FORBIDDEN, NOT_FOUND, STORE_DOWN
from api.params import Offset
from api.routes import API_V1
from api.scoping import HOUSEHOLD_READERS, is_household
from core.state.models import Device, Tenant

router = APIRouter(prefix=f"{API_V1}/devices", tags=["devices"])


class DeviceOut(BaseModel):
    dev_eui: str
    name: str | None
    tenant: str
    codec_id: str
    model: str | None
    role: str
    site: str | None
    building: str | None
    area: str | None
    sector: str | None
    parameters: dict[str, Any]
    last_join_at: datetime | None


class DevicePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DeviceOut]


class LatestOut(BaseModel):
    quantity: str
    channel: str | None
    time: datetime
    value: float


class DeviceDetail(DeviceOut):
    latest: list[LatestOut]


def _out(d: Device) -> DeviceOut:
    return DeviceOut(
        dev_eui=d.dev_eui,
        name=d.name,
        tenant=d.tenant.code,
        codec_id=d.codec_id,
        model=d.model,
        role=d.role,
        site=d.site.code if d.site else None,
        building=d.building.code if d.building else None,
        area=d.area.id_lieu if d.area else None,
        sector=d.sector.code if d.sector else None,
        parameters=d.parameters or {},
        last_join_at=d.last_join_at,
    )


_LOADS = (
    joinedload(Device.tenant),
    joinedload(Device.site),
    joinedload(Device.building),
    joinedload(Device.area),
    joinedload(Device.sector),
)


@router.get("", response_model=DevicePage)
def list_devices(
    state: StateDep,
    caller: CallerDep,
    pseudonyms: PseudonymsDep,
    tenant: Annotated[str | None, Query(description="Tenant code")] = None,
    role: Annotated[str | None, Query(description="e.g. water_meter, parking_space")] = None,
    codec_id: Annotated[str | None, Query(description="e.g. axioma/qalcosonic-w1")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> DevicePage:
    query = select(Device).join(Device.tenant)
    if tenant is not None:
        query = query.where(Tenant.code == tenant)
    if caller.tenants is not None:
        query = query.where(Tenant.code.in_(caller.tenants))
    if role is not None:
        query = query.where(Device.role == role)
    if codec_id is not None:
        query = query.where(Device.codec_id == codec_id)
    with state.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.options(*_LOADS).order_by(Device.dev_eui).limit(limit).offset(offset)
        ).all()
        items = [_out(d) for d in rows]
        if caller.role not in HOUSEHOLD_READERS:  # whose home: pseudonymous ids, no names
            for item, d in zip(items, rows, strict=True):
                if is_household(d.role, d.building_id):
                    item.dev_eui, item.name = pseudonyms.of(d.dev_eui), None
    return DevicePage(total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/{dev_eui}", response_model=DeviceDetail, responses={**FORBIDDEN, **NOT_FOUND, **STORE_DOWN}
)
def device(dev_eui: str, state: StateDep, store: StoreDep, caller: CallerDep) -> DeviceDetail:
    with state.session() as session:
        d = session.scalars(
            select(Device).where(Device.dev_eui == dev_eui.lower()).options(*_LOADS)
        ).one_or_none()
        if d is None or (caller.tenants is not None and d.tenant.code not in caller.tenants):
            raise HTTPException(404, f"no device {dev_eui!r} in the registry")
        if is_household(d.role, d.building_id) and caller.role not in HOUSEHOLD_READERS:
            raise HTTPException(403, "household meters are personal data: a water key reads them")
        out = _out(d)
    latest = [
        LatestOut(quantity=r.quantity, channel=r.channel, time=r.time, value=r.value)
        for r in sorted(
            store.latest(devices=[out.dev_eui]), key=lambda r: (r.quantity, r.channel or "")
        )
    ]
    return DeviceDetail(**out.model_dump(), latest=latest)

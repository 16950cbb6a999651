"""Objects as a caller may see them: 404 outside its tenants, 403 for what its role may not read."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select

from api.keyring import Caller
from core.state.api_keys import Role
from core.state.models import Device, Tenant
from core.state.store import StateStore
from core.state.vocabulary import DeviceRole

# Household water meters are personal data (consumption of a home): only these roles read them.
HOUSEHOLD_READERS = frozenset({Role.ADMIN, Role.WATER})


def is_household(role: str, building_id: int | None) -> bool:
    """A water meter of no public building counts a home's (or a business's) consumption."""
    return role == DeviceRole.WATER_METER and building_id is None


def visible_device(state: StateStore, caller: Caller, dev_eui: str) -> None:
    """404 for a device unknown or of another tenant (a key always has tenants); 403 for a
    household meter when the caller's role may not read personal data."""
    with state.session() as session:
        row = session.execute(
            select(Tenant.code, Device.role, Device.building_id)
            .join(Device.tenant)
            .where(Device.dev_eui == dev_eui.lower())
        ).one_or_none()
    if caller.tenants is None and row is None:
        return  # the operator of every tenant reads unregistered devices' series too
    if row is None or (caller.tenants is not None and row[0] not in caller.tenants):
        raise HTTPException(404, f"no device {dev_eui!r} in the registry")
    if is_household(row[1], row[2]) and caller.role not in HOUSEHOLD_READERS:
        raise HTTPException(403, "household meters are personal data: a water key reads them")


def household_devices(state: StateStore, dev_euis: list[str]) -> set[str]:
    """Which of these DevEUIs are household water meters."""
    if not dev_euis:
        return set()
    with state.session() as session:
        rows = session.execute(
            select(Device.dev_eui, Device.role, Device.building_id).where(
                Device.dev_eui.in_([d.lower() for d in dev_euis])
            )
        ).all()
    return {eui for eui, role, building in rows if is_household(role, building)}

"""Reads the registry back out of the database as validated rows, the inverse of the writer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, select

from core.state.models import HubArea, SectorMeter
from core.state.registry_rows import ROW_MODELS, SECTIONS, RegistryRow
from core.state.registry_tables import KIND_TABLES, id_to_key
from core.state.vocabulary import MeterDirection


def registry_rows(connection: Connection) -> dict[str, list[RegistryRow]]:
    """Every registry row, per kind in write order, sorted by natural key."""
    keys = {kind: id_to_key(connection, kind) for kind in SECTIONS}
    links = _links(connection, keys)
    rows: dict[str, list[RegistryRow]] = {}
    for kind in SECTIONS:
        spec = KIND_TABLES[kind]
        model = ROW_MODELS[kind]
        foreign_keys = spec.foreign_keys(model.references)
        fields = set(model.model_fields)
        query = select(spec.table).order_by(spec.table.c[spec.key])
        rows[kind] = []
        for record in connection.execute(query).mappings():
            data: dict[str, Any] = {name: record[name] for name in fields if name in record}
            for name, column in foreign_keys.items():
                target = record[column]
                data[name] = None if target is None else keys[model.references[name]][target]
            for name in spec.links:
                data[name] = links[(kind, name)].get(record["id"], [])
            rows[kind].append(model.model_validate(data))
    return rows


def _links(
    connection: Connection, keys: dict[str, dict[int, str]]
) -> dict[tuple[str, str], dict[int, list[str]]]:
    """Association lists: sector boundary meters by direction, hub areas in screen order."""
    links: dict[tuple[str, str], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    meters = SectorMeter.__table__
    query = select(meters.c.sector_id, meters.c.device_id, meters.c.direction)
    for sector_id, device_id, direction in connection.execute(query):
        field = "inflow" if direction == MeterDirection.INFLOW else "outflow"
        links[("sectors", field)][sector_id].append(keys["devices"][device_id])
    for by_owner in (links[("sectors", "inflow")], links[("sectors", "outflow")]):
        for devices in by_owner.values():
            devices.sort()
    hub_areas: Table = HubArea.__table__  # type: ignore[assignment]
    ordered = select(hub_areas.c.hub_id, hub_areas.c.area_id).order_by(
        hub_areas.c.hub_id, hub_areas.c.position
    )
    for hub_id, area_id in connection.execute(ordered):
        links[("hubs", "areas")][hub_id].append(keys["areas"][area_id])
    return links

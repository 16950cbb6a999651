"""Where each kind of registry row lives: its table, natural-key column and foreign keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, select

from core.state.models import (
    Building,
    Device,
    Hub,
    ParkingArea,
    ParkingSpace,
    Site,
    Tenant,
    WaterSector,
)


@dataclass(frozen=True, slots=True)
class KindTable:
    """The table of one kind; reference fields not listed in ``links`` are ``<field>_id`` FKs."""

    table: Table
    key: str
    links: tuple[str, ...] = ()  # list-valued references kept in association tables

    def foreign_keys(self, references: dict[str, str]) -> dict[str, str]:
        """Row field -> FK column, for the single-valued references."""
        return {field: f"{field}_id" for field in references if field not in self.links}


def _table(model: type[object]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


KIND_TABLES: dict[str, KindTable] = {
    "tenants": KindTable(_table(Tenant), "code"),
    "sites": KindTable(_table(Site), "code"),
    "buildings": KindTable(_table(Building), "code"),
    "sectors": KindTable(_table(WaterSector), "code", links=("inflow", "outflow")),
    "areas": KindTable(_table(ParkingArea), "id_lieu"),
    "devices": KindTable(_table(Device), "dev_eui"),
    "spaces": KindTable(_table(ParkingSpace), "code"),
    "hubs": KindTable(_table(Hub), "code", links=("areas",)),
}


def key_to_id(connection: Connection, kind: str) -> dict[str, int]:
    """Natural key -> surrogate id of every row of a kind."""
    spec = KIND_TABLES[kind]
    query = select(spec.table.c[spec.key], spec.table.c.id)
    return {key: row_id for key, row_id in connection.execute(query)}


def id_to_key(connection: Connection, kind: str) -> dict[int, str]:
    return {row_id: key for key, row_id in key_to_id(connection, kind).items()}

"""Writes validated registry rows: batched upserts by natural key, then association lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from core.state.models import HubArea, ParkingSpace, SectorMeter
from core.state.registry_rows import SECTIONS, DeviceRow, HubRow, RegistryRow, SectorRow, TenantRow
from core.state.registry_tables import KIND_TABLES, key_to_id
from core.state.vocabulary import MeterDirection, TenantKind

_T = TypeVar("_T")

# Rows per INSERT statement; SQLAlchemy further pages them under the driver's parameter limit.
BATCH_SIZE = 5000


@dataclass(slots=True)
class Outcome:
    """Natural keys of one kind that an import inserted, updated, or left as they were."""

    inserted: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)


class RegistryWriter:
    """Upserts rows kind by kind on one connection, inside the caller's transaction."""

    def __init__(
        self, connection: Connection, existing: dict[str, set[str]], now: datetime
    ) -> None:
        self._connection = connection
        self._existing = existing  # natural keys present before the import, per kind
        self._now = now
        self._ids: dict[str, dict[str, int]] = {}

    def write(self, rows: dict[str, list[RegistryRow]]) -> dict[str, Outcome]:
        outcomes = {kind: Outcome() for kind in SECTIONS if rows.get(kind)}
        for kind in SECTIONS:
            batch = rows.get(kind)
            if not batch:
                continue
            if kind == "tenants":
                # Parents first: only agglomerations are parents, and they have none themselves.
                parents = [r for r in batch if _is_agglomeration(r)]
                self._upsert(kind, parents, outcomes[kind])
                self._upsert(kind, [r for r in batch if not _is_agglomeration(r)], outcomes[kind])
            else:
                if kind == "spaces":
                    outcomes[kind].updated |= self._release_moved_sensors(batch)
                self._upsert(kind, batch, outcomes[kind])
        # Association lists last: sectors point at devices written after them.
        if rows.get("sectors"):
            self._sync_sector_meters(rows["sectors"], outcomes["sectors"])
        if rows.get("hubs"):
            self._sync_hub_areas(rows["hubs"], outcomes["hubs"])
        for kind, outcome in outcomes.items():
            keys = {row.key for row in rows[kind]}
            outcome.updated -= outcome.inserted
            outcome.unchanged = keys - outcome.inserted - outcome.updated
        return outcomes

    def _id_map(self, kind: str) -> dict[str, int]:
        if kind not in self._ids:
            self._ids[kind] = key_to_id(self._connection, kind)
        return self._ids[kind]

    def _columns(self, row: RegistryRow) -> dict[str, Any]:
        spec = KIND_TABLES[row.section]
        exclude = set(row.references) | {"parameters"}
        data = row.model_dump(mode="json", exclude=exclude)
        for name, fk_column in spec.foreign_keys(row.references).items():
            value = getattr(row, name)
            data[fk_column] = None if value is None else self._id_map(row.references[name])[value]
        if isinstance(row, DeviceRow):
            data["parameters"] = row.parameters.as_dict()
        data["created_at"] = data["updated_at"] = self._now
        return data

    def _upsert(self, kind: str, rows: Sequence[RegistryRow], outcome: Outcome) -> None:
        if not rows:
            return
        spec = KIND_TABLES[kind]
        existing = self._existing.get(kind, set())
        for chunk in _chunks(rows, BATCH_SIZE):
            values = [self._columns(row) for row in chunk]
            touched = _upsert(self._connection, spec.table, spec.key, values)
            for key in touched:
                (outcome.updated if key in existing else outcome.inserted).add(key)
        self._ids.pop(kind, None)  # new rows have ids now

    def _release_moved_sensors(self, spaces: Sequence[RegistryRow]) -> set[str]:
        """Unbind sensors from imported spaces that change sensor, so a swap between two
        spaces does not trip the one-space-per-sensor constraint halfway through the batch."""
        table: Table = ParkingSpace.__table__  # type: ignore[assignment]
        devices = self._id_map("devices")
        wanted = {row.key: getattr(row, "device", None) for row in spaces}
        current = self._connection.execute(
            select(table.c.code, table.c.device_id).where(table.c.device_id.is_not(None))
        )
        moved = [
            code
            for code, device_id in current
            if code in wanted and devices.get(wanted[code] or "") != device_id
        ]
        for chunk in _chunks(moved, BATCH_SIZE):
            self._connection.execute(
                update(table)
                .where(table.c.code.in_(chunk))
                .values(device_id=None, updated_at=self._now)
            )
        return set(moved)

    def _sync_sector_meters(self, sectors: Sequence[RegistryRow], outcome: Outcome) -> None:
        sector_ids = self._id_map("sectors")
        device_ids = self._id_map("devices")
        wanted: dict[int, set[tuple[int, str]]] = {}
        for row in sectors:
            assert isinstance(row, SectorRow)
            links = {(device_ids[d], MeterDirection.INFLOW.value) for d in row.inflow}
            links |= {(device_ids[d], MeterDirection.OUTFLOW.value) for d in row.outflow}
            wanted[sector_ids[row.code]] = links
        table = SectorMeter.__table__
        current: dict[int, set[tuple[int, str]]] = defaultdict(set)
        for ids in _chunks(list(wanted), BATCH_SIZE):
            query = select(table.c.sector_id, table.c.device_id, table.c.direction)
            for sector_id, device_id, direction in self._connection.execute(
                query.where(table.c.sector_id.in_(ids))
            ):
                current[sector_id].add((device_id, direction))
        codes = {sector_id: code for code, sector_id in sector_ids.items()}
        changed = [sector_id for sector_id, links in wanted.items() if links != current[sector_id]]
        self._replace_links(table, "sector_id", changed)
        rows = [
            {"sector_id": s, "device_id": d, "direction": direction}
            for s in changed
            for d, direction in sorted(wanted[s])
        ]
        self._insert(table, rows)
        outcome.updated |= {codes[s] for s in changed}

    def _sync_hub_areas(self, hubs: Sequence[RegistryRow], outcome: Outcome) -> None:
        hub_ids = self._id_map("hubs")
        area_ids = self._id_map("areas")
        wanted: dict[int, list[int]] = {}
        for row in hubs:
            assert isinstance(row, HubRow)
            wanted[hub_ids[row.code]] = [area_ids[a] for a in row.areas]
        table = HubArea.__table__
        current: dict[int, list[int]] = defaultdict(list)
        query = select(table.c.hub_id, table.c.area_id).order_by(table.c.hub_id, table.c.position)
        for hub_id, area_id in self._connection.execute(
            query.where(table.c.hub_id.in_(list(wanted)))
        ):
            current[hub_id].append(area_id)
        codes = {hub_id: code for code, hub_id in hub_ids.items()}
        changed = [hub_id for hub_id, areas in wanted.items() if areas != current[hub_id]]
        self._replace_links(table, "hub_id", changed)
        rows = [
            {"hub_id": h, "area_id": a, "position": position}
            for h in changed
            for position, a in enumerate(wanted[h])
        ]
        self._insert(table, rows)
        outcome.updated |= {codes[h] for h in changed}

    def _replace_links(self, table: Any, owner: str, owner_ids: list[int]) -> None:
        for chunk in _chunks(owner_ids, BATCH_SIZE):
            self._connection.execute(delete(table).where(table.c[owner].in_(chunk)))

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for chunk in _chunks(rows, BATCH_SIZE):
            self._connection.execute(insert(table), chunk)


def _is_agglomeration(row: RegistryRow) -> bool:
    return isinstance(row, TenantRow) and row.kind is TenantKind.AGGLOMERATION


def _upsert(
    connection: Connection, table: Table, key: str, rows: list[dict[str, Any]]
) -> Sequence[str]:
    """INSERT ... ON CONFLICT (key) DO UPDATE, only where a value differs; returns the keys
    actually written, so unchanged rows keep their updated_at and are counted as such."""
    columns = list(rows[0])
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # Multi-row VALUES, paged by SQLAlchemy under SQLite's bound-parameter limit.
        statement = _on_conflict(sqlite.insert(table), table, key, columns)
        return connection.execute(statement, rows).scalars().all()
    if dialect == "postgresql":
        # The whole batch as one jsonb parameter expanded server-side: psycopg's client-side
        # parsing of a VALUES list with tens of thousands of placeholders is the bottleneck.
        typed = [column(name, table.c[name].type) for name in columns]
        records = (
            func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
            .table_valued(*typed)
            .render_derived(name="batch", with_types=True)
        )
        insert_ = postgresql.insert(table).from_select(
            columns, select(*(records.c[name] for name in columns))
        )
        statement = _on_conflict(insert_, table, key, columns)
        payload = [{k: _json_ready(v) for k, v in row.items()} for row in rows]
        return connection.execute(statement, {"rows": payload}).scalars().all()
    raise NotImplementedError(f"registry upserts support SQLite and PostgreSQL, not {dialect}")


def _on_conflict(statement: Any, table: Table, key: str, columns: list[str]) -> Any:
    excluded = statement.excluded
    compared = [c for c in columns if c not in (key, "created_at", "updated_at")]
    return statement.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={c: excluded[c] for c in [*compared, "updated_at"]},
        where=or_(*(table.c[c].is_distinct_from(excluded[c]) for c in compared)),
    ).returning(table.c[key])


def _json_ready(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

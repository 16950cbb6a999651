"""Registry bulk import and export: YAML or CSV files <-> the state store, all-or-nothing.

Kinds (YAML sections, CSV file stems), in the order they are written: ``tenants``, ``sites``,
``buildings``, ``sectors``, ``areas``, ``devices``, ``spaces``, ``hubs``. Rows refer to one another
by natural key: ``code``, ``dev_eui`` (devices), ``id_lieu`` (carpool areas, BNLC). A reference may
point at a row of the same import or at one already in the registry.

YAML: one document, a mapping from kind to a list of mappings::

    devices:
      - dev_eui: 70B3D5E75E001234          # any case, ``-``/``:`` separators dropped
        tenant: ca-caudresis
        building: caudry-ecole-jaures
        codec_id: axioma/qalcosonic-w1
        role: water_meter
        parameters: {heartbeat_s: 86400}
    buildings:
      - code: caudry-ecole-jaures
        site: caudry-jaures
        name: École Jean-Jaurès
        energy_carriers: [electricity, gas]
        schedule: {mon: ["08:00-12:00", "13:30-17:00"], sat: [["09:00", "12:00"]]}

Scalars follow YAML 1.2: ``18:00`` stays text, ``no`` is not false, ``0123`` is not octal.
Schedules may also be written ``mon: [["08:00", "12:00"]]``, the shape stored in the database.

CSV: one kind per file, named by ``kind=`` or by the file stem (``devices.csv``, ``device.csv``,
``devices-caudry.csv``); a directory imports every CSV in it as one registry. Header row = field
names (any case); line 1 is the header. Comma, semicolon or tab separated (detected from the
header), UTF-8 (BOM accepted) or Windows-1252. Empty cell = no value. Decimal commas (``12,5``)
and oui/non are accepted. Structured fields are flattened the way a spreadsheet user writes them:

- lists (``energy_carriers``, sector ``inflow``/``outflow`` DevEUIs, hub ``areas`` in screen
  order) are one cell of words separated by spaces, commas or semicolons;
- a building's schedule is seven columns ``mon`` .. ``sun``, each ``08:00-12:00 13:30-17:00``
  (empty = closed that day; all seven empty = schedule unknown);
- every devices.csv column that is not a device field is a device parameter (``pulse_weight``,
  ``index_offset``, ``reference_height_m``, ``heartbeat_s``, ``continuous_use``, ...), read as a
  number or true/false when it looks like one; a ``parameters`` column may also hold a JSON object
  (for values that are not plain numbers or words). A column spelt almost like a device field
  (``bulding``) is refused as a typo rather than stored as a parameter.

Line breaks typed inside a name or address cell become spaces.

Every row is validated; every error is reported with its file line and nothing is written if
there is any (``RegistryImportError``, whose ``errors`` read like
``devices.csv:7: devices role='thermometer': Input should be 'water_meter', ...``).

Import is an upsert by natural key: re-importing the same file changes nothing (not even
``updated_at``); rows absent from the file are kept, not deleted. Export writes the whole registry
in these formats, and importing the export reproduces the same state.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import Connection, select

from core.clock import Clock, SystemClock
from core.state.models import Building, Device, ParkingSpace, Site, Tenant
from core.state.registry_errors import RegistryImportError, RowError
from core.state.registry_export import registry_rows
from core.state.registry_files import (
    RawRow,
    csv_files,
    read_csv,
    read_yaml,
    section_of,
    write_csv,
    write_yaml,
)
from core.state.registry_rows import (
    ROW_MODELS,
    SECTIONS,
    BuildingRow,
    DeviceRow,
    RegistryRow,
    SpaceRow,
    TenantRow,
)
from core.state.registry_tables import KIND_TABLES
from core.state.registry_writer import RegistryWriter
from core.state.store import StateStore
from core.state.vocabulary import TenantKind

__all__ = [
    "ImportReport",
    "KindCounts",
    "RegistryImportError",
    "RowError",
    "export_registry",
    "import_registry",
]

_YAML_SUFFIXES = (".yaml", ".yml")
_R = TypeVar("_R", bound=RegistryRow)


@dataclass(frozen=True, slots=True)
class KindCounts:
    """What an import did to the rows of one kind."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Counts per kind (in write order) and how long the whole import took."""

    counts: dict[str, KindCounts]
    elapsed_s: float
    sources: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return sum(c.total for c in self.counts.values())

    @property
    def changed(self) -> bool:
        return any(c.inserted or c.updated for c in self.counts.values())

    def __str__(self) -> str:
        parts = [
            f"{kind}: {c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]
        return f"{self.rows} rows in {self.elapsed_s:.2f} s ({'; '.join(parts) or 'empty'})"


@dataclass(frozen=True, slots=True)
class _Located:
    raw: RawRow
    row: RegistryRow


def import_registry(
    store: StateStore, path: str | Path, kind: str | None = None, *, clock: Clock | None = None
) -> ImportReport:
    """Import a YAML registry, a CSV of one kind, or a directory of CSVs, in one transaction."""
    started = time.perf_counter()
    path = Path(path)
    raw_rows, errors, sources = _read(path, kind)
    located = _validate(raw_rows, errors)
    now = (clock or SystemClock()).now()
    with store.session() as session:
        connection = session.connection()
        existing = _existing_keys(connection, located)
        errors.extend(_check_references(connection, located, existing))
        if errors:
            raise RegistryImportError(errors)
        rows = {section: [item.row for item in items] for section, items in located.items()}
        outcomes = RegistryWriter(connection, existing, now).write(rows)
    counts = {
        section: KindCounts(len(o.inserted), len(o.updated), len(o.unchanged))
        for section, o in outcomes.items()
    }
    return ImportReport(counts, time.perf_counter() - started, sources)


def _read(path: Path, kind: str | None) -> tuple[list[RawRow], list[RowError], tuple[str, ...]]:
    if kind is not None and kind not in ROW_MODELS:
        raise RegistryImportError(
            [
                RowError(
                    path.name, 1, None, f"unknown kind {kind!r}: kinds are {', '.join(SECTIONS)}"
                )
            ]
        )
    if path.is_dir():
        files = list(csv_files(path))
    elif path.suffix.lower() in _YAML_SUFFIXES:
        rows, errors = read_yaml(path)
        return rows, errors, (path.name,)
    elif path.suffix.lower() == ".csv":
        files = [path]
    else:
        raise RegistryImportError(
            [RowError(path.name, 1, None, "expected a .yaml/.yml file, a .csv file or a directory")]
        )
    rows, errors = [], []
    for file in files:
        section = kind or section_of(file)
        if section is None:
            reason = (
                "cannot tell the kind from the file name: name it <kind>.csv, kinds are "
                + ", ".join(SECTIONS)
            )
            errors.append(RowError(file.name, 1, None, reason))
            continue
        file_rows, file_errors = read_csv(file, section)
        rows.extend(file_rows)
        errors.extend(file_errors)
    return rows, errors, tuple(file.name for file in files)


def _validate(raw_rows: list[RawRow], errors: list[RowError]) -> dict[str, list[_Located]]:
    """Row models for the valid rows, in write order; errors for the others and duplicates."""
    located: dict[str, list[_Located]] = defaultdict(list)
    seen: dict[tuple[str, str], RawRow] = {}
    for raw in raw_rows:
        try:
            row = ROW_MODELS[raw.kind].model_validate(raw.data)
        except ValidationError as exc:
            errors.extend(_row_errors(raw, exc))
            continue
        first = seen.setdefault((raw.kind, row.key), raw)
        if first is not raw:
            where = (
                f"line {first.line}"
                if first.source == raw.source
                else f"{first.source}:{first.line}"
            )
            errors.append(
                RowError(
                    raw.source,
                    raw.line,
                    raw.kind,
                    f"duplicate, already on {where}",
                    row.key_field,
                    row.key,
                )
            )
            continue
        located[raw.kind].append(_Located(raw, row))
    return {kind: located[kind] for kind in SECTIONS if kind in located}


def _row_errors(raw: RawRow, exc: ValidationError) -> list[RowError]:
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        reason = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        if error["type"] == "missing":
            reason, value = "required field is missing", None
        elif error["type"] == "extra_forbidden":
            reason = "unknown field"
        elif field is None:
            value = None  # a whole-row rule: the message names the fields involved
        errors.append(RowError(raw.source, raw.line, raw.kind, reason, field, value))
    return errors


def _existing_keys(
    connection: Connection, located: dict[str, list[_Located]]
) -> dict[str, set[str]]:
    """Natural keys already in the registry, for the kinds imported or referenced."""
    wanted = set(located)
    for kind in located:
        wanted |= set(ROW_MODELS[kind].references.values())
    existing = {}
    for kind in wanted:
        spec = KIND_TABLES[kind]
        existing[kind] = set(connection.execute(select(spec.table.c[spec.key])).scalars())
    return existing


def _check_references(
    connection: Connection, located: dict[str, list[_Located]], existing: dict[str, set[str]]
) -> list[RowError]:
    known = {
        kind: keys | {item.row.key for item in located.get(kind, [])}
        for kind, keys in existing.items()
    }
    errors = []
    for kind, items in located.items():
        references = ROW_MODELS[kind].references
        for item in items:
            for field, target in references.items():
                for key in item.row.referenced_keys(field):
                    if key not in known[target]:
                        reason = (
                            f"unknown {target[:-1]}: neither in this import nor in the registry"
                        )
                        errors.append(_error(item, reason, field, key))
    errors.extend(_check_parents(connection, located))
    errors.extend(_check_building_sites(connection, located))
    errors.extend(_check_sensor_bindings(connection, located))
    return errors


def _error(item: _Located, reason: str, field: str | None = None, value: Any = None) -> RowError:
    return RowError(item.raw.source, item.raw.line, item.raw.kind, reason, field, value)


def _typed(located: dict[str, list[_Located]], model: type[_R]) -> list[tuple[_Located, _R]]:
    return [
        (item, item.row) for item in located.get(model.section, []) if isinstance(item.row, model)
    ]


def _check_parents(connection: Connection, located: dict[str, list[_Located]]) -> list[RowError]:
    """Only agglomerations have members (the parent may be in the import or already stored)."""
    tenants = _typed(located, TenantRow)
    if not any(row.parent for _, row in tenants):
        return []
    kinds: dict[str, str] = dict(connection.execute(select(Tenant.code, Tenant.kind)).all())
    kinds.update({row.code: row.kind.value for _, row in tenants})
    errors = []
    for item, row in tenants:
        parent_kind = kinds.get(row.parent or "", TenantKind.AGGLOMERATION)
        if parent_kind != TenantKind.AGGLOMERATION:
            reason = f"the parent must be an agglomeration, not a {parent_kind}"
            errors.append(_error(item, reason, "parent", row.parent))
    return errors


def _check_building_sites(
    connection: Connection, located: dict[str, list[_Located]]
) -> list[RowError]:
    """A device given both a site and a building: the building must stand on that site."""
    devices = [(item, row) for item, row in _typed(located, DeviceRow) if row.site and row.building]
    if not devices:
        return []
    query = select(Building.code, Site.code).join(Site, Building.site_id == Site.id)
    site_of: dict[str, str] = dict(connection.execute(query).all())
    site_of.update({row.code: row.site for _, row in _typed(located, BuildingRow)})
    errors = []
    for item, row in devices:
        building_site = site_of.get(row.building or "")
        if building_site is not None and building_site != row.site:
            reason = f"building {row.building!r} is on site {building_site!r}"
            errors.append(_error(item, reason, "site", row.site))
    return errors


def _check_sensor_bindings(
    connection: Connection, located: dict[str, list[_Located]]
) -> list[RowError]:
    """A sensor watches one space: not two in the import, nor one the import leaves in place."""
    spaces = _typed(located, SpaceRow)
    if not any(row.device for _, row in spaces):
        return []
    imported = {row.code for _, row in spaces}
    query = select(Device.dev_eui, ParkingSpace.code).join(
        ParkingSpace, ParkingSpace.device_id == Device.id
    )
    holder = {eui: code for eui, code in connection.execute(query) if code not in imported}
    errors = []
    for item, row in spaces:
        if row.device is None:
            continue
        first = holder.setdefault(row.device, row.code)
        if first != row.code:
            reason = f"sensor already watches space {first!r}"
            errors.append(_error(item, reason, "device", row.device))
    return errors


def export_registry(store: StateStore, path: str | Path) -> list[Path]:
    """Write the whole registry as one YAML file (``.yaml``/``.yml``) or, for any other path, as
    a directory of ``<kind>.csv`` files; ``import_registry`` reads either back to the same state."""
    path = Path(path)
    with store.engine.connect() as connection:
        sections = _dump(connection)
    if path.suffix.lower() in _YAML_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_yaml(path, sections, "Vigie registry (core.state.registry_io.export_registry)")
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, rows in sections.items():
        if rows:
            target = path / f"{kind}.csv"
            write_csv(target, kind, rows)
            written.append(target)
    return written


def _dump(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    return {kind: [_shape(row) for row in rows] for kind, rows in registry_rows(connection).items()}


def _shape(row: RegistryRow) -> dict[str, Any]:
    """A row as it is written in a file: no empty values."""
    data = row.model_dump(mode="json", exclude_none=True, exclude={"parameters"})
    if isinstance(row, DeviceRow) and row.parameters.as_dict():
        data["parameters"] = row.parameters.as_dict()
    return {name: value for name, value in data.items() if value != []}

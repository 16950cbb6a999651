"""Territory files: a YAML description of a territory, loaded and expanded into ``Territory``.

A territory file holds, besides its ``name`` and ``climate`` normals, the registry rows of its
``tenants``, ``sites`` and ``hubs`` as ``vigie registry import`` reads them, and simulation
entities that carry their registry fields beside their model parameters:

- ``buildings``: registry fields + ``kind``, ``heating``, ``setpoint_c``, ``sector`` and
  ``devices: [{codec, role, count, parameters, period_s, name}]``;
- ``sectors``: ``code, tenant, name, network_length_km, background_loss_m3h``, an ``inflow`` device
  spec (with its ``site``) and ``households: {count, codec, tenant, persons_mean}``;
- ``stations``: ``code, tenant, site, name, river, reference_height_m, base_level_m,
  vigilance: {yellow, orange, red}, codec``;
- ``areas``: the BNLC fields + ``spaces`` (sensors, one per space), ``nbre_pmr``,
  ``commuter_share``, ``codec``.

Expansion generates the households and the spaces, and gives every device a DevEUI derived from
the territory name and the entity (BLAKE2b, behind a per-vendor prefix), so the same file always
gives the same devices. Errors name the entry's line and the field.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.state.registry_files import Yaml12Loader
from core.state.registry_rows import AreaRow, BuildingRow, HubRow, SiteRow, TenantRow
from core.state.vocabulary import DeviceRole
from ingest.codecs.registry import CODECS
from simulator.territory import (
    Area,
    Building,
    BuildingKind,
    Climate,
    Household,
    Sector,
    SimDevice,
    Space,
    Station,
    Territory,
)

SAMPLE_TERRITORY = Path(__file__).parent / "data" / "caudresis.yaml"

# OUI-like prefixes of the vendors' DevEUIs (real ones, so the registry looks like the field).
VENDOR_PREFIX = {
    "axioma": "d8c3fb",
    "milesight-iot": "24e124",
    "dragino": "a84041",
    "elsys": "a81758",
    "adeunis": "0018b2",
    "nwave": "70b3d5",
    "netvox": "00137a",
    "decentlab": "70b3d5",
    "bosch": "fcd6bd",
    "quandify": "70b3d5",
}

# Reporting period by codec (the vendor's default) else by role, in seconds. A heartbeat for the
# devices that also report on change (parking spaces, leak probes).
CODEC_PERIOD_S = {
    "axioma/qalcosonic-w1": 86_400,  # one daily frame carrying the hourly history
    "nwave/nps405": 86_400,  # daily heartbeat + every change
    "nwave/nps310sm": 86_400,
    "bosch/tps110": 3_600,
    "adeunis/tic-cbe-linky-mono": 600,
    "dragino/lwl02": 7_200,
    "dragino/ldds75": 900,
}
ROLE_PERIOD_S = {
    DeviceRole.WATER_METER: 86_400,
    DeviceRole.SECTOR_INFLOW: 900,
    DeviceRole.SECTOR_OUTFLOW: 900,
    DeviceRole.ENERGY_METER: 900,
    DeviceRole.GAS_METER: 900,
    DeviceRole.CLIMATE: 600,
    DeviceRole.PARKING_SPACE: 86_400,
    DeviceRole.LEVEL: 900,
    DeviceRole.LEAK_PROBE: 7_200,
}
# Registry parameters pulse counters need, by role (the file may override them).
PULSE_CODECS = frozenset({"milesight-iot/em300-di", "adeunis/pulse", "netvox/r718h"})
PULSE_DEFAULTS: dict[str, dict[str, Any]] = {
    DeviceRole.SECTOR_INFLOW: {"pulse_quantity": "volume_m3", "pulse_weight": 0.1},
    DeviceRole.WATER_METER: {"pulse_quantity": "volume_m3", "pulse_weight": 0.001},
    DeviceRole.ENERGY_METER: {"pulse_quantity": "energy_kwh", "pulse_weight": 0.01},
    DeviceRole.GAS_METER: {"pulse_quantity": "energy_kwh", "pulse_weight": 0.1},
}


class TerritoryFileError(ValueError):
    """A territory file that cannot be loaded; ``errors`` read ``file:line: where: reason``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _LineLoader(Yaml12Loader):
    """The registry's YAML 1.2-like loader, also recording each mapping's line as ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSpec(_Spec):
    codec: str
    role: DeviceRole
    count: int = Field(1, ge=1)
    parameters: dict[str, Any] = {}
    period_s: int | None = Field(None, gt=0)
    name: str | None = None
    site: str | None = None  # sector inflow meters stand on a site

    @field_validator("codec")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value not in CODECS:
            raise ValueError(f"unknown codec {value!r}: the library has {', '.join(CODECS)}")
        return value


class BuildingSpec(_Spec):
    registry_fields: ClassVar[tuple[str, ...]] = tuple(BuildingRow.model_fields)
    model_config = ConfigDict(extra="allow", frozen=True)

    kind: BuildingKind
    heating: str
    setpoint_c: float = Field(19.0, ge=5, le=30)
    sector: str | None = None
    devices: list[DeviceSpec] = []


class HouseholdSpec(_Spec):
    count: int = Field(ge=0)
    codec: str
    tenant: str
    persons_mean: float = Field(2.2, gt=0, le=8)
    period_s: int | None = Field(None, gt=0)


class SectorSpec(_Spec):
    code: str
    tenant: str
    name: str
    network_length_km: float = Field(gt=0)
    background_loss_m3h: float = Field(ge=0)
    inflow: DeviceSpec
    households: HouseholdSpec


class Vigilance(_Spec):
    yellow: float
    orange: float
    red: float


class StationSpec(_Spec):
    code: str
    tenant: str
    site: str
    name: str
    river: str
    reference_height_m: float = Field(gt=0)
    base_level_m: float
    vigilance: Vigilance
    codec: str
    period_s: int | None = Field(None, gt=0)


class AreaSpec(_Spec):
    model_config = ConfigDict(extra="allow", frozen=True)

    spaces: int = Field(ge=1)
    commuter_share: float = Field(ge=0, le=1)
    codec: str
    period_s: int | None = Field(None, gt=0)


class ClimateSpec(_Spec):
    annual_mean_c: float
    annual_amplitude_c: float
    daily_amplitude_c: float
    coldest_day_of_year: int = Field(ge=1, le=366)


def dev_eui(territory: str, key: str, codec_id: str) -> str:
    """A stable DevEUI: the vendor's prefix, then a BLAKE2b digest of territory and entity."""
    prefix = VENDOR_PREFIX.get(codec_id.split("/")[0], "")
    digest = hashlib.blake2b(f"{territory}/{key}".encode(), digest_size=8).hexdigest()
    return prefix + digest[len(prefix) :]


def default_period_s(codec_id: str, role: str) -> int:
    return CODEC_PERIOD_S.get(codec_id, ROLE_PERIOD_S.get(DeviceRole(role), 900))


class _Builder:
    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.name = name
        self.errors: list[str] = []

    def fail(self, line: int, where: str, reason: str) -> None:
        self.errors.append(f"{self.source}:{line}: {where}: {reason}")

    def validate(self, model: type[BaseModel], data: Mapping[str, Any], where: str) -> Any:
        line = int(data.get("__line__", 0))
        clean = _strip(data)
        try:
            return model.model_validate(clean)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = ".".join(str(p) for p in error["loc"])
                self.fail(
                    line, f"{where} {field}".strip(), error["msg"].removeprefix("Value error, ")
                )
            return None

    def device(
        self, spec: DeviceSpec | HouseholdSpec | StationSpec | AreaSpec, key: str, **where: Any
    ) -> SimDevice:
        codec_id = spec.codec
        role = where.pop("role")
        params: dict[str, Any] = {}
        if codec_id in PULSE_CODECS:
            params.update(PULSE_DEFAULTS.get(role, {}))
        params.update(getattr(spec, "parameters", {}))
        period = spec.period_s or default_period_s(codec_id, role)
        params["heartbeat_s"] = period
        return SimDevice(
            dev_eui=dev_eui(self.name, key, codec_id),
            codec_id=codec_id,
            role=str(role),
            period_s=period,
            parameters=params,
            **where,
        )


def _strip(value: Any) -> Any:
    """Without the loader's ``__line__`` marks, at every depth."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _items(doc: Mapping[str, Any], section: str, builder: _Builder) -> list[dict[str, Any]]:
    items = doc.get(section) or []
    if not isinstance(items, list):
        builder.fail(int(doc.get("__line__", 1)), section, "expected a list of entries")
        return []
    return [i for i in items if isinstance(i, dict)]


def _rows(
    doc: Mapping[str, Any], section: str, model: type[BaseModel], b: _Builder
) -> tuple[dict[str, Any], ...]:
    rows = []
    for item in _items(doc, section, b):
        if b.validate(model, item, section) is not None:
            rows.append(_strip(item))
    return tuple(rows)


def load_territory(path: str | Path = SAMPLE_TERRITORY) -> Territory:
    """Load, validate and expand a territory file; raises ``TerritoryFileError``."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise TerritoryFileError([f"{path.name}:{line}: invalid YAML: {exc.problem}"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise TerritoryFileError([f"{path.name}:1: expected a mapping with a 'name'"])
    return build_territory(doc, path.name)


def build_territory(doc: Mapping[str, Any], source: str = "<territory>") -> Territory:
    b = _Builder(source, str(doc["name"]))
    climate = b.validate(ClimateSpec, doc.get("climate") or {}, "climate")
    tenants = _rows(doc, "tenants", TenantRow, b)
    sites = _rows(doc, "sites", SiteRow, b)
    hubs = _rows(doc, "hubs", HubRow, b)
    site_tenant = {str(s["code"]): str(s["tenant"]) for s in sites}
    buildings = [_building(b, item, site_tenant) for item in _items(doc, "buildings", b)]
    sectors = [_sector(b, item) for item in _items(doc, "sectors", b)]
    stations = [_station(b, item) for item in _items(doc, "stations", b)]
    areas = [_area(b, item) for item in _items(doc, "areas", b)]
    if b.errors:
        raise TerritoryFileError(b.errors)
    territory = Territory(
        name=b.name,
        climate=Climate(**climate.model_dump()),
        tenants=tenants,
        sites=sites,
        buildings=tuple(x for x in buildings if x is not None),
        sectors=tuple(x for x in sectors if x is not None),
        stations=tuple(x for x in stations if x is not None),
        areas=tuple(x for x in areas if x is not None),
        hubs=hubs,
    )
    euis = [d.dev_eui for d in territory.devices()]
    if len(set(euis)) != len(euis):
        raise TerritoryFileError([f"{source}: two devices got the same DevEUI: rename an entity"])
    return territory


# The building registry fields the simulation only passes through to the registry it writes.
REFERENCE_FIELDS = frozenset(
    {
        "operat_id",
        "reference_year",
        "reference_energy_kwh",
        "reference_degree_days",
        "energy_2019_kwh",
        "degree_days_2019",
        "absolute_target_kwh_m2",
    }
)


def _building(b: _Builder, item: dict[str, Any], site_tenant: dict[str, str]) -> Building | None:
    line = item.get("__line__", 0)
    where = f"buildings {item.get('code', '?')}"
    spec = b.validate(BuildingSpec, item, where)
    registry = {k: v for k, v in item.items() if k in BuildingSpec.registry_fields}
    row = b.validate(BuildingRow, {**registry, "__line__": line}, where)
    if spec is None or row is None:
        return None
    extra = set(spec.model_extra or {}) - set(BuildingSpec.registry_fields)
    if extra:
        b.fail(line, where, f"unknown field(s) {', '.join(sorted(extra))}")
        return None
    tenant = site_tenant.get(row.site)
    if tenant is None:
        b.fail(line, f"{where} site", f"unknown site {row.site!r}")
        return None
    devices: list[SimDevice] = []
    for spec_device in spec.devices:
        for i in range(spec_device.count):
            label = spec_device.name or spec_device.role.value.replace("_", " ")
            suffix = f" {i + 1}" if spec_device.count > 1 else ""
            devices.append(
                b.device(
                    spec_device,
                    f"{row.code}/{spec_device.role}/{spec_device.codec}/{i}",
                    role=spec_device.role,
                    tenant=tenant,
                    name=f"{label}{suffix}, {row.name}"[:200],
                    subject=row.code,
                    building=row.code,
                    sector=spec.sector if spec_device.role is DeviceRole.WATER_METER else None,
                    channel=str(i + 1),
                )
            )
    schedule = {day: [tuple(r) for r in ranges] for day, ranges in (row.schedule or {}).items()}
    return Building(
        code=row.code,
        site=row.site,
        tenant=tenant,
        name=row.name,
        kind=spec.kind,
        floor_area_m2=float(row.floor_area_m2 or 0),
        activity_category=row.activity_category or spec.kind.value,
        energy_carriers=tuple(str(c) for c in row.energy_carriers),
        heating=spec.heating,
        holiday_zone=str(row.holiday_zone or "B"),
        schedule=schedule,
        setpoint_c=spec.setpoint_c,
        devices=tuple(devices),
        sector=spec.sector,
        references=row.model_dump(include=REFERENCE_FIELDS, exclude_none=True),
    )


def _sector(b: _Builder, item: dict[str, Any]) -> Sector | None:
    spec = b.validate(SectorSpec, item, f"sectors {item.get('code', '?')}")
    if spec is None:
        return None
    inflow = b.device(
        spec.inflow,
        f"{spec.code}/inflow",
        role=spec.inflow.role,
        tenant=spec.tenant,
        name=(spec.inflow.name or f"Débitmètre d'entrée, {spec.name}")[:200],
        subject=spec.code,
        site=spec.inflow.site,
        sector=spec.code,
    )
    rng = random.Random(f"{b.name}/{spec.code}/households")
    households = []
    hh = spec.households
    for n in range(hh.count):
        persons = _persons(rng, hh.persons_mean)
        hid = f"{spec.code}-h{n + 1:04d}"
        meter = b.device(
            hh,
            hid,
            role=DeviceRole.WATER_METER,
            tenant=hh.tenant,
            name=f"Compteur abonné {n + 1:04d}, {spec.name}"[:200],
            subject=hid,
            sector=spec.code,
        )
        households.append(Household(hid, spec.code, persons, meter))
    return Sector(
        spec.code,
        spec.tenant,
        spec.name,
        spec.network_length_km,
        spec.background_loss_m3h,
        inflow,
        tuple(households),
    )


def _persons(rng: random.Random, mean: float) -> int:
    """1–6 persons, shifted Poisson around ``mean`` (INSEE: 2.2 persons per household)."""
    lam, k, p = mean - 1, 0, rng.random()
    term = cumulative = 2.718281828459045**-lam
    while cumulative < p and k < 5:
        k += 1
        term *= lam / k
        cumulative += term
    return 1 + k


def _station(b: _Builder, item: dict[str, Any]) -> Station | None:
    spec = b.validate(StationSpec, item, f"stations {item.get('code', '?')}")
    if spec is None:
        return None
    if spec.codec not in CODECS:
        b.fail(
            item.get("__line__", 0), f"stations {spec.code} codec", f"unknown codec {spec.codec!r}"
        )
        return None
    device = b.device(
        spec,
        spec.code,
        role=DeviceRole.LEVEL,
        tenant=spec.tenant,
        name=f"Niveau, {spec.name}"[:200],
        subject=spec.code,
        site=spec.site,
    )
    device.parameters["reference_height_m"] = spec.reference_height_m
    # Analytics reads the vigilance thresholds from the registry, next to the reference height.
    device.parameters["vigilance_m"] = spec.vigilance.model_dump()
    device.parameters["station"] = spec.code  # the station's code names its alerts
    return Station(
        spec.code,
        spec.tenant,
        spec.name,
        spec.river,
        spec.reference_height_m,
        spec.base_level_m,
        spec.vigilance.model_dump(),
        device,
    )


def _area(b: _Builder, item: dict[str, Any]) -> Area | None:
    where = f"areas {item.get('id_lieu', '?')}"
    spec = b.validate(AreaSpec, item, where)
    fields = {k: v for k, v in item.items() if k in AreaRow.model_fields or k == "__line__"}
    fields.setdefault("nbre_pl", item.get("spaces"))
    row = b.validate(AreaRow, fields, where)
    if spec is None or row is None:
        return None
    if spec.codec not in CODECS:
        b.fail(item.get("__line__", 0), f"{where} codec", f"unknown codec {spec.codec!r}")
        return None
    if row.nbre_pl != spec.spaces:
        b.fail(item.get("__line__", 0), where, "nbre_pl must equal spaces (one sensor a space)")
        return None
    spaces = []
    for n in range(spec.spaces):
        code = f"{row.id_lieu}-P{n + 1:02d}"
        device = b.device(
            spec,
            code,
            role=DeviceRole.PARKING_SPACE,
            tenant=row.tenant,
            name=f"Place {n + 1:02d}, {row.nom_lieu}"[:200],
            subject=code,
            area=row.id_lieu,
        )
        spaces.append(Space(code, row.id_lieu, n < row.nbre_pmr, device))
    return Area(
        row.id_lieu,
        row.tenant,
        row.nom_lieu,
        row.insee,
        str(row.type),
        row.xlong,
        row.ylat,
        row.nbre_pmr,
        spec.commuter_share,
        tuple(spaces),
    )


# -- the registry file ---------------------------------------------------------------------------


def _device_row(d: SimDevice) -> dict[str, Any]:
    row: dict[str, Any] = {
        "dev_eui": d.dev_eui,
        "tenant": d.tenant,
        "name": d.name,
        "codec_id": d.codec_id,
        "role": d.role,
    }
    for key in ("site", "building", "area", "sector"):
        value = getattr(d, key)
        if value is not None:
            row[key] = value
    row["parameters"] = dict(d.parameters)
    return row


def registry_document(territory: Territory) -> dict[str, list[dict[str, Any]]]:
    """The registry of the territory, as ``vigie registry import`` reads it (YAML sections)."""
    buildings = []
    for bl in territory.buildings:
        row: dict[str, Any] = {
            "code": bl.code,
            "site": bl.site,
            "name": bl.name,
            "floor_area_m2": bl.floor_area_m2,
            "activity_category": bl.activity_category,
            "energy_carriers": list(bl.energy_carriers),
            "holiday_zone": bl.holiday_zone,
        }
        if bl.schedule:
            row["schedule"] = {
                day: [f"{a}-{z}" for a, z in ranges] for day, ranges in bl.schedule.items()
            }
        row.update(bl.references)
        buildings.append(row)
    sectors = [
        {
            "code": s.code,
            "tenant": s.tenant,
            "name": s.name,
            "network_length_km": s.network_length_km,
            "inflow": [s.inflow.dev_eui],
        }
        for s in territory.sectors
    ]
    areas = [
        {
            "id_lieu": a.id_lieu,
            "tenant": a.tenant,
            "nom_lieu": a.nom_lieu,
            "insee": a.insee,
            "type": a.type,
            "xlong": a.xlong,
            "ylat": a.ylat,
            "nbre_pl": len(a.spaces),
            "nbre_pmr": a.nbre_pmr,
            "ouvert": True,
        }
        for a in territory.areas
    ]
    spaces = [
        {"code": sp.code, "area": sp.area, "device": sp.device.dev_eui, "pmr": sp.pmr}
        for a in territory.areas
        for sp in a.spaces
    ]
    return {
        "tenants": [dict(t) for t in territory.tenants],
        "sites": [dict(s) for s in territory.sites],
        "buildings": buildings,
        "sectors": sectors,
        "areas": areas,
        "devices": [_device_row(d) for d in territory.devices()],
        "spaces": spaces,
        "hubs": [dict(h) for h in territory.hubs],
    }


def write_registry(territory: Territory, path: str | Path) -> Path:
    """Write the territory's registry as one YAML file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Registry of the simulated territory {territory.name!r} (vigie simulate).\n"
    body = yaml.safe_dump(
        registry_document(territory), allow_unicode=True, sort_keys=False, width=100
    )
    path.write_text(header + body, encoding="utf-8")
    return path

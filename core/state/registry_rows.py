"""Validated row schemas of the registry files, one pydantic model per kind of entity."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from core.state.registry_fields import (
    Address,
    Amount,
    Carriers,
    Code,
    CodecId,
    Count,
    DevEui,
    DevEuiList,
    Flag,
    GtfsStopList,
    IdLieu,
    IdLieuList,
    Insee,
    Latitude,
    Longitude,
    Name,
    OutdoorProbe,
    PlaceType,
    Positive,
    Real,
    ReferenceYear,
    Schedule,
    Slug,
    Zone,
    number,
)
from core.state.vocabulary import DeviceRole, EnergyCarrier, TenantKind


class RegistryRow(BaseModel):
    """Common behaviour of the rows: strict field set, and how rows point at one another."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    # The section (YAML key, CSV file stem) of this kind of row, its natural key, and its
    # references (field -> section); a reference field holds one key or a list of keys.
    section: ClassVar[str]
    key_field: ClassVar[str] = "code"
    references: ClassVar[dict[str, str]] = {}

    @property
    def key(self) -> str:
        value: str = getattr(self, self.key_field)
        return value

    def referenced_keys(self, field: str) -> list[str]:
        value = getattr(self, field)
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]


class TenantRow(RegistryRow):
    """A commune (with its INSEE code and agglomeration) or an agglomeration."""

    section: ClassVar[str] = "tenants"
    references: ClassVar[dict[str, str]] = {"parent": "tenants"}

    code: Code
    name: Name
    kind: TenantKind
    insee: Insee | None = None
    parent: Code | None = None

    @model_validator(mode="after")
    def _hierarchy(self) -> TenantRow:
        if self.kind is TenantKind.COMMUNE and self.insee is None:
            raise ValueError("a commune needs its INSEE code (insee)")
        if self.kind is TenantKind.AGGLOMERATION and self.parent is not None:
            raise ValueError(f"parent={self.parent!r}: only a commune has a parent")
        if self.parent == self.code:
            raise ValueError(f"parent={self.parent!r}: a tenant cannot be its own parent")
        return self


class SiteRow(RegistryRow):
    """A site of a tenant; coordinates in WGS84 decimal degrees."""

    section: ClassVar[str] = "sites"
    references: ClassVar[dict[str, str]] = {"tenant": "tenants"}

    code: Code
    tenant: Code
    name: Name
    insee: Insee | None = None
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    @model_validator(mode="after")
    def _both_coordinates(self) -> SiteRow:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return self


class BuildingRow(RegistryRow):
    """A building: floor area, activity, energy carriers, holiday zone, weekly hours, and its
    décret tertiaire and sobriety-plan references (see ``core.state.models.Building``)."""

    section: ClassVar[str] = "buildings"
    references: ClassVar[dict[str, str]] = {"site": "sites"}

    code: Code
    site: Code
    name: Name
    floor_area_m2: Positive | None = None
    activity_category: Slug | None = None
    energy_carriers: Carriers = []
    holiday_zone: Zone | None = None
    schedule: Schedule = None
    operat_id: Code | None = None
    reference_year: ReferenceYear | None = None
    reference_energy_kwh: Amount | None = None
    reference_degree_days: Positive | None = None
    energy_2019_kwh: Amount | None = None
    degree_days_2019: Positive | None = None
    absolute_target_kwh_m2: Positive | None = None

    @field_validator("energy_carriers")
    @classmethod
    def _distinct_carriers(cls, value: list[EnergyCarrier]) -> list[EnergyCarrier]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _reference_needs_its_year(self) -> BuildingRow:
        given = [
            name
            for name in ("reference_energy_kwh", "reference_degree_days")
            if getattr(self, name) is not None
        ]
        if given and self.reference_year is None:
            raise ValueError(f"{', '.join(given)} without reference_year: give the year too")
        return self


def _json_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list):
        for item in value:
            _json_value(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} must be text")
            _json_value(item, where)
        return
    raise ValueError(f"{where}: {value!r} is not a JSON value")


class DeviceParameters(BaseModel):
    """Per-device settings; the known ones are typed, others are kept as given (JSON values)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    pulse_weight: Positive | None = None  # m³ or kWh per pulse
    index_offset: Real | None = None  # register value when the pulse counter read 0
    reference_height_m: Real | None = None  # level sensors: height of the sensor face
    heartbeat_s: Annotated[int, BeforeValidator(number), Field(gt=0)] | None = None
    # Building water meters: the building's normal use never stops (a pool), so the
    # continuous-flow leak rule does not judge it; false: always judged (see
    # analytics/water/building.py). Absent: learned from the meter's own nights.
    continuous_use: Flag | None = None
    # Energy meters (see analytics/kpi/): the carrier it counts (default: gas for a gas_meter,
    # electricity for an energy_meter), the share of its energy that heats the building
    # (default 1 for fuels and district heating, 0 for electricity), whether it is a sub-meter
    # already counted by a main meter, and the kWh of a cubic metre for gas meters counting m³.
    carrier: EnergyCarrier | None = None
    heating_share: Annotated[float, BeforeValidator(number), Field(ge=0, le=1)] | None = None
    submeter: Flag | None = None
    kwh_per_m3: Positive | None = None
    # This device measures the outdoor air: true for its readings without a channel, or the
    # channel that does (``ext`` for an external probe).
    outdoor_temperature: OutdoorProbe | None = None

    @model_validator(mode="after")
    def _extras_are_json(self) -> DeviceParameters:
        for key, value in (self.model_extra or {}).items():
            _json_value(value, key)
        return self

    def as_dict(self) -> dict[str, Any]:
        # JSON mode: a carrier is stored and exported as its text, not as an enum member.
        return {k: v for k, v in self.model_dump(mode="json").items() if v is not None}


class DeviceRow(RegistryRow):
    """A device, keyed by DevEUI, with what it is attached to and its parameters."""

    section: ClassVar[str] = "devices"
    key_field: ClassVar[str] = "dev_eui"
    references: ClassVar[dict[str, str]] = {
        "tenant": "tenants",
        "site": "sites",
        "building": "buildings",
        "area": "areas",
        "sector": "sectors",
    }

    dev_eui: DevEui
    tenant: Code
    name: Name | None = None
    codec_id: CodecId
    model: Name | None = None
    role: DeviceRole
    site: Code | None = None
    building: Code | None = None
    area: IdLieu | None = None
    sector: Code | None = None
    parameters: DeviceParameters = DeviceParameters()


class SectorRow(RegistryRow):
    """A water sector, its network length and its boundary meters (DevEUIs)."""

    section: ClassVar[str] = "sectors"
    references: ClassVar[dict[str, str]] = {
        "tenant": "tenants",
        "inflow": "devices",
        "outflow": "devices",
    }

    code: Code
    tenant: Code
    name: Name
    network_length_km: Positive | None = None
    inflow: DevEuiList = []
    outflow: DevEuiList = []

    @model_validator(mode="after")
    def _distinct_meters(self) -> SectorRow:
        meters = self.inflow + self.outflow
        repeated = sorted({m for m in meters if meters.count(m) > 1})
        if repeated:
            raise ValueError(f"meter(s) listed twice in inflow/outflow: {', '.join(repeated)}")
        return self


class AreaRow(RegistryRow):
    """A carpool area with the BNLC fields, keyed by id_lieu."""

    section: ClassVar[str] = "areas"
    key_field: ClassVar[str] = "id_lieu"
    references: ClassVar[dict[str, str]] = {"tenant": "tenants"}

    id_lieu: IdLieu
    tenant: Code
    nom_lieu: Name
    insee: Insee
    type: PlaceType
    xlong: Longitude
    ylat: Latitude
    nbre_pl: Count
    nbre_pmr: Count = 0
    ouvert: Flag = True

    @model_validator(mode="after")
    def _pmr_within_capacity(self) -> AreaRow:
        if self.nbre_pmr > self.nbre_pl:
            raise ValueError(
                f"nbre_pmr={self.nbre_pmr} exceeds the capacity nbre_pl={self.nbre_pl}"
            )
        return self


class SpaceRow(RegistryRow):
    """A space of a carpool area and the sensor watching it, if any."""

    section: ClassVar[str] = "spaces"
    references: ClassVar[dict[str, str]] = {"area": "areas", "device": "devices"}

    code: Code
    area: IdLieu
    device: DevEui | None = None
    pmr: Flag = False


class HubRow(RegistryRow):
    """A transit hub and the carpool areas its screen shows, in screen order."""

    section: ClassVar[str] = "hubs"
    references: ClassVar[dict[str, str]] = {"tenant": "tenants", "areas": "areas"}

    code: Code
    tenant: Code
    name: Name
    areas: IdLieuList = []
    stops: GtfsStopList = []  # GTFS stop or station ids whose departures the screen shows

    @field_validator("areas")
    @classmethod
    def _distinct_areas(cls, value: list[str]) -> list[str]:
        repeated = sorted({a for a in value if value.count(a) > 1})
        if repeated:
            raise ValueError(f"area(s) listed twice: {', '.join(repeated)}")
        return value


# In dependency order: a kind only references kinds before it, except sector boundary meters
# (sectors -> devices), which are written after the devices.
ROW_MODELS: dict[str, type[RegistryRow]] = {
    model.section: model
    for model in (TenantRow, SiteRow, BuildingRow, SectorRow, AreaRow, DeviceRow, SpaceRow, HubRow)
}
SECTIONS: tuple[str, ...] = tuple(ROW_MODELS)

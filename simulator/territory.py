"""The simulated territory: communes, buildings, water sectors, river stations, carpool areas.

A territory file (YAML) describes each entity once, with its simulation parameters beside its
registry fields, and the devices that watch it; ``simulator.territory_file`` loads and expands it
(generated households, deterministic DevEUIs) and exports the registry ``vigie registry import``
takes. These dataclasses are what the physical models and the engine work from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class BuildingKind(StrEnum):
    SCHOOL = "school"
    TOWN_HALL = "town_hall"
    GYM = "gym"
    POOL = "pool"
    MEDIA_LIBRARY = "media_library"
    OFFICES = "offices"


@dataclass(frozen=True, slots=True)
class SimDevice:
    """One sensor: its registry identity, what it watches, and how often it reports."""

    dev_eui: str
    codec_id: str
    role: str  # a registry DeviceRole: water_meter, sector_inflow, energy_meter, climate, …
    tenant: str
    name: str
    period_s: int  # reporting period (heartbeat for devices that also report on change)
    subject: str  # building code, household id, sector code, station code or space code
    site: str | None = None
    building: str | None = None
    area: str | None = None  # BNLC id_lieu
    sector: str | None = None
    channel: str | None = None  # e.g. which of a building's climate sensors ("1", "2")
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Building:
    code: str
    site: str
    tenant: str
    name: str
    kind: BuildingKind
    floor_area_m2: float
    activity_category: str
    energy_carriers: tuple[str, ...]
    heating: str  # "gas" or "electricity": the carrier that heats it
    holiday_zone: str  # A, B or C
    schedule: dict[str, list[tuple[str, str]]]  # weekday → opening intervals ("08:00", "18:00")
    setpoint_c: float  # heating setpoint when occupied
    devices: tuple[SimDevice, ...]
    sector: str | None = None  # the water sector it draws from
    # Registry fields the simulation does not use (décret tertiaire and sobriety references,
    # OPERAT id), passed through to the registry it writes.
    references: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Household:
    id: str  # e.g. "caudry-centre-h0042"
    sector: str
    persons: int
    meter: SimDevice


@dataclass(frozen=True, slots=True)
class Sector:
    code: str
    tenant: str
    name: str
    network_length_km: float
    background_loss_m3h: float  # leakage that exists before any injected leak
    inflow: SimDevice
    households: tuple[Household, ...]


@dataclass(frozen=True, slots=True)
class Station:
    """A river or groundwater level station."""

    code: str
    tenant: str
    name: str
    river: str
    reference_height_m: float  # sensor face above the gauge zero: level = reference − distance
    base_level_m: float  # typical low-water level
    vigilance_m: dict[str, float]  # yellow, orange, red thresholds
    device: SimDevice


@dataclass(frozen=True, slots=True)
class Space:
    code: str
    area: str
    pmr: bool
    device: SimDevice


@dataclass(frozen=True, slots=True)
class Area:
    """A carpool area (BNLC fields) and its spaces."""

    id_lieu: str
    tenant: str
    nom_lieu: str
    insee: str
    type: str
    xlong: float
    ylat: float
    nbre_pmr: int
    commuter_share: float  # share of spaces taken by weekday commuters at the morning peak
    spaces: tuple[Space, ...]
    holiday_zone: str = "B"  # school holidays thin out commuting (zone of the académie)


@dataclass(frozen=True, slots=True)
class Climate:
    """Outdoor temperature normals of the territory (Cambrai-Épinoy for the Caudrésis)."""

    annual_mean_c: float
    annual_amplitude_c: float  # half the difference between July and January means
    daily_amplitude_c: float  # half the typical day–night difference
    coldest_day_of_year: int


@dataclass(frozen=True, slots=True)
class Territory:
    name: str
    climate: Climate
    tenants: tuple[dict[str, Any], ...]  # registry rows, as in the registry file
    sites: tuple[dict[str, Any], ...]
    buildings: tuple[Building, ...]
    sectors: tuple[Sector, ...]
    stations: tuple[Station, ...]
    areas: tuple[Area, ...]
    hubs: tuple[dict[str, Any], ...]

    def devices(self) -> list[SimDevice]:
        """Every device of the territory, in a stable order."""
        out = [d for b in self.buildings for d in b.devices]
        for s in self.sectors:
            out.append(s.inflow)
            out.extend(h.meter for h in s.households)
        out.extend(st.device for st in self.stations)
        out.extend(sp.device for a in self.areas for sp in a.spaces)
        return out

"""A small territory for the KPI tests: a registry, and two years of seeded hourly readings.

The readings are what ingest would store: ``energy_kwh`` registers (Linky HC/HP channels, gas
pulse counters already weighted), indoor temperatures, an outdoor probe. Consumption steps are
multiples of 1/8 kWh, so sums are exact in floating point and a test can recompute a total from
the raw readings and compare with ``==``. Injected on purpose: a gas meter replaced (its index
restarts) in March 2025, and an electricity meter silent for two days in June 2025.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.kpi.building import BuildingYear, MonthKpi
from analytics.kpi.inventory import BuildingInfo
from core.config import KpiSettings
from core.reading import Reading
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection, TimeSeriesStore

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
YEAR = 2025
# Local (Europe/Paris) new years in UTC.
START_2024 = datetime(2023, 12, 31, 23, tzinfo=UTC)
START_2026 = datetime(2025, 12, 31, 23, tzinfo=UTC)
GAS_RESET = datetime(2025, 3, 10, 12, tzinfo=UTC)
SILENT = (datetime(2025, 6, 10, tzinfo=UTC), datetime(2025, 6, 12, tzinfo=UTC))

SECOND = timedelta(seconds=1)
OUTDOOR = "a840410000f70001"
SUBMETER = "0018b2000000c199"


@dataclass(frozen=True)
class Site:
    building: str
    area_m2: float
    category: str
    linky: str
    gas: str | None
    climate: str
    scale: float  # how much it uses per m² against the first school
    setpoint_c: float


SITES = (
    Site(
        "ecole-jaures",
        2000,
        "enseignement",
        "0018b2000000c101",
        "24e1241260a31001",
        "24e1241270b41001",
        1.0,
        19.0,
    ),
    Site(
        "ecole-curie",
        1600,
        "enseignement",
        "0018b2000000c102",
        "24e1241260a31002",
        "24e1241270b41002",
        1.3,
        20.5,
    ),
    Site(
        "ecole-ferry",
        1200,
        "enseignement",
        "0018b2000000c103",
        "24e1241260a31003",
        "24e1241270b41003",
        0.9,
        19.0,
    ),
    Site("mairie", 1500, "bureaux", "0018b2000000c104", None, "24e1241270b41004", 1.1, 19.5),
)

REGISTRY = """\
tenants:
  - {code: agglo, name: Agglomération du Val, kind: agglomeration}
  - {code: ville, name: Ville-sur-Selle, kind: commune, insee: "59139", parent: agglo}
sites:
  - {code: s-meteo, tenant: agglo, name: Station météo}
  - {code: s-ecoles, tenant: ville, name: Groupe scolaire}
  - {code: s-mairie, tenant: ville, name: Hôtel de ville}
buildings:
  - code: ecole-jaures
    site: s-ecoles
    name: École Jean-Jaurès
    floor_area_m2: 2000
    activity_category: enseignement
    energy_carriers: [electricity, gas]
    holiday_zone: B
    operat_id: EFA-0001
    reference_year: 2015
    reference_energy_kwh: 420000
    reference_degree_days: 2600
    energy_2019_kwh: 400000
    degree_days_2019: 2480
    schedule: {mon: [08:00-17:00], tue: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
  - code: ecole-curie
    site: s-ecoles
    name: École Marie-Curie
    floor_area_m2: 1600
    activity_category: enseignement
    energy_carriers: [electricity, gas]
    holiday_zone: B
    operat_id: EFA-0002
    reference_year: 2012
    reference_energy_kwh: 300000
    reference_degree_days: 2800
    schedule: {mon: [08:00-17:00], tue: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
  - code: ecole-ferry
    site: s-ecoles
    name: École Jules-Ferry
    floor_area_m2: 1200
    activity_category: enseignement
    energy_carriers: [electricity, gas]
    holiday_zone: B
    schedule: {mon: [08:00-17:00], tue: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
  - code: mairie
    site: s-mairie
    name: Hôtel de ville
    floor_area_m2: 1500
    activity_category: bureaux
    energy_carriers: [electricity]
    holiday_zone: B
    energy_2019_kwh: 210000
    schedule: {mon: [08:30-17:30], tue: [08:30-17:30], wed: [08:30-17:30], thu: [08:30-17:30],
               fri: [08:30-17:30]}
devices:
  - {dev_eui: "a840410000f70001", tenant: agglo, codec_id: dragino/lht65, role: climate,
     site: s-meteo, name: Sonde extérieure, parameters: {outdoor_temperature: ext}}
  - {dev_eui: "0018b2000000c199", tenant: ville, codec_id: adeunis/tic-cbe-linky-mono,
     role: energy_meter, building: ecole-jaures, name: Sous-compteur cuisine,
     parameters: {submeter: true}}
"""


def _devices() -> str:
    lines = []
    for s in SITES:
        lines.append(
            f'  - {{dev_eui: "{s.linky}", tenant: ville, codec_id: adeunis/tic-cbe-linky-mono, '
            f"role: energy_meter, building: {s.building}, name: Linky"
            + (", parameters: {heating_share: 0.5}}" if s.gas is None else "}")
        )
        if s.gas:
            lines.append(
                f'  - {{dev_eui: "{s.gas}", tenant: ville, codec_id: milesight-iot/em300-di, '
                f"role: gas_meter, building: {s.building}, name: Gaz, "
                "parameters: {pulse_weight: 0.125, pulse_quantity: energy_kwh}}"
            )
        lines.append(
            f'  - {{dev_eui: "{s.climate}", tenant: ville, codec_id: milesight-iot/am307, '
            f"role: climate, building: {s.building}, name: Salle}}"
        )
    return "\n".join(lines) + "\n"


def eighths(x: np.ndarray) -> np.ndarray:
    """Round to 1/8: exact in binary floating point."""
    return np.round(np.asarray(x) * 8) / 8


def outdoor_c(hours: np.ndarray) -> np.ndarray:
    """A seeded outdoor temperature, °C, for hours since 2024-01-01 UTC."""
    rng = np.random.default_rng(7)
    day = hours / 24.0
    seasonal = 11.0 - 8.0 * np.cos(2 * math.pi * (day - 15) / 365.25)
    diurnal = -4.0 * np.cos(2 * math.pi * ((hours % 24) - 3) / 24)
    return eighths(seasonal + diurnal + rng.normal(0, 1.5, len(hours)))


def readings() -> list[Reading]:
    """Every reading of the territory, from a week before 2024 to a week after ``NOW``."""
    first = START_2024 - timedelta(days=7)
    n = int((NOW + timedelta(days=7) - first) / timedelta(hours=1))
    hours = np.arange(n)
    times = [first + timedelta(hours=int(h)) for h in hours]
    t_out = outdoor_c(hours + (first - datetime(2024, 1, 1, tzinfo=UTC)) / timedelta(hours=1))
    local = [t.astimezone(PARIS) for t in times]
    local_hour = np.array([t.hour for t in local])
    weekday = np.array([t.weekday() for t in local])
    occupied = (local_hour >= 8) & (local_hour < 17) & (weekday < 5)
    out: list[Reading] = []
    for i, t in enumerate(times):
        out.append(Reading(t, OUTDOOR, "temperature_c", float(t_out[i]), "ext"))
        # The kitchen sub-meter: its energy is already on the school's Linky.
        out.append(Reading(t, SUBMETER, "energy_kwh", 512.0 + 2.0 * i, "base"))
    for k, s in enumerate(SITES):
        rng = np.random.default_rng(100 + k)
        base = s.area_m2 * 0.002 * s.scale
        elec = eighths(base + occupied * s.area_m2 * 0.008 * s.scale + rng.uniform(0, 1, n))
        need = np.maximum(0.0, 16.0 - t_out) * s.area_m2 * 0.0045 * s.scale
        heat = eighths(need + rng.uniform(0, 1, n))
        offpeak = (local_hour >= 22) | (local_hour < 6)
        hc = 4096.0 + np.concatenate([[0.0], np.cumsum(np.where(offpeak, elec, 0.0))[:-1]])
        hp = 9216.0 + np.concatenate([[0.0], np.cumsum(np.where(offpeak, 0.0, elec))[:-1]])
        if s.gas is None:  # electric heating on the Linky
            hp = hp + np.concatenate([[0.0], np.cumsum(heat)[:-1]])
        gas = 65536.0 + np.concatenate([[0.0], np.cumsum(heat)[:-1]])
        if k == 0:  # a new meter from GAS_RESET on: its index starts at 2 kWh
            reset_at = int((GAS_RESET - first) / timedelta(hours=1))
            gas[reset_at:] = gas[reset_at:] - gas[reset_at] + 2.0
        indoor = eighths(np.where(occupied, s.setpoint_c, 16.0) + rng.normal(0, 0.3, n))
        for i, t in enumerate(times):
            if not (k == 0 and SILENT[0] < t < SILENT[1]):
                out.append(Reading(t, s.linky, "energy_kwh", float(hc[i]), "hc"))
                out.append(Reading(t, s.linky, "energy_kwh", float(hp[i]), "hp"))
            if s.gas is not None:
                out.append(Reading(t, s.gas, "energy_kwh", float(gas[i])))
            out.append(Reading(t, s.climate, "temperature_c", float(indoor[i])))
    return out


@pytest.fixture(scope="session")
def kpi_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kpi-registry") / "registry.yaml"
    path.write_text(REGISTRY + _devices(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def kpi_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite series file holding the territory's readings, written once per session."""
    path = tmp_path_factory.mktemp("kpi-series") / "series.sqlite"
    store = SqliteStore(path)
    batch = readings()
    for i in range(0, len(batch), 50_000):
        store.write(batch[i : i + 50_000])
    store.close()
    return path


@pytest.fixture
def kpi_state(tmp_path: Path, kpi_registry: Path) -> Iterator[StateStore]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, kpi_registry)
    yield state
    state.dispose()


@pytest.fixture
def kpi_store(kpi_series: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(kpi_series)
    yield store
    store.close()


@pytest.fixture
def kpi_settings() -> KpiSettings:
    # Cambrai-like monthly normals (illustrative), COSTIC method.
    normals = [420.0, 360.0, 320.0, 220.0, 110.0, 30.0, 8.0, 10.0, 60.0, 180.0, 320.0, 400.0]
    return KpiSettings(degree_day_normals=normals, reference_kwh_m2={"enseignement": 120.0})


def make_info(code: str = "b", **fields: object) -> BuildingInfo:
    """A registry building for pure tests: 2,000 m² of school unless told otherwise."""
    values: dict[str, object] = {
        "code": code,
        "name": code.title(),
        "tenant": "ville",
        "tenant_name": "Ville",
        "site": "s",
        "activity_category": "enseignement",
        "floor_area_m2": 2000.0,
        "energy_carriers": ("electricity", "gas"),
        "holiday_zone": "B",
        "schedule": None,
        "operat_id": None,
        "reference_year": None,
        "reference_energy_kwh": None,
        "reference_degree_days": None,
        "energy_2019_kwh": None,
        "degree_days_2019": None,
        "absolute_target_kwh_m2": None,
    }
    values.update(fields)
    return BuildingInfo(**values)  # type: ignore[arg-type]


def make_month(
    month: int, energy: float, heating: float = 0.0, dju: float | None = None, year: int = YEAR
) -> MonthKpi:
    return MonthKpi(
        month=date(year, month, 1),
        elapsed=True,
        energy_kwh=energy,
        by_carrier_kwh={"gas": heating, "electricity": energy - heating},
        heating_kwh=heating,
        heating_corrected_kwh=None,
        degree_days_meteo=dju,
        degree_days_costic=dju,
        co2e_kg=None,
        cost_eur=None,
        baseload_share=None,
        coverage=1.0,
    )


def make_year(
    info: BuildingInfo,
    energy: float,
    heating: float = 0.0,
    dju: float | None = None,
    year: int = YEAR,
    months: list[MonthKpi] | None = None,
    partial: bool = False,
    coverage: float = 1.0,
    price: float | None = 0.15,
) -> BuildingYear:
    """A building-year with the given totals (and months, when a test needs them)."""
    area = info.floor_area_m2
    return BuildingYear(
        building=info,
        year=year,
        start=datetime(year - 1, 12, 31, 23, tzinfo=UTC),
        end=datetime(year, 12, 31, 23, tzinfo=UTC),
        partial=partial,
        months=months or [],
        carriers=[],
        energy_kwh=energy,
        energy_kwh_m2=energy / area if area else None,
        heating_kwh=heating,
        heating_corrected_kwh=None,
        degree_days_meteo=dju,
        degree_days_costic=dju,
        co2e_kg=None,
        cost_eur=None if price is None else energy * price,
        baseload_share=None,
        coverage=coverage,
    )


def raw_kwh(store: TimeSeriesStore, devices: list[str], start: datetime, end: datetime) -> float:
    """Independent recomputation: the non-negative steps between consecutive raw readings of
    every register of the devices, from the reading at ``start`` to the one at ``end``."""
    series = store.read(Selection.of("energy_kwh", devices=devices), start, end + SECOND)
    total = 0.0
    for i in range(len(series)):
        _, values = series.series(i)
        total += sum(max(b - a, 0.0) for a, b in itertools.pairwise(values.tolist()))
    return total

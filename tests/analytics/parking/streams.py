"""Simulated carpool areas as the ingest would store them: the simulator's parking model drives
the engine, whose radio loses, repeats and delays frames; readings come out in arrival order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from core.calendar import FrenchCalendar
from core.reading import Reading
from simulator.device_faults import FaultRates
from simulator.engine import Engine, EngineConfig
from simulator.parking import STEP, simulate_area
from simulator.territory import Area, SimDevice, Space, Territory
from simulator.truth import FloatArray, Truth
from tests.simulator.conftest import CLIMATE

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday, outside school holidays (zone B)
ID_LIEU = "59139-C-001"
NO_FAULTS = FaultRates(0, 0, 0, 0, 0, 0, 0)
CLEAN = EngineConfig(faults=NO_FAULTS, loss_scale=0.0)
HEARTBEAT_S = {"nwave/nps405": 86_400, "bosch/tps110": 3_600}


@dataclass(frozen=True)
class Registry:
    """Registry-shaped records of a simulated area (what ``area_availability`` reads)."""

    id_lieu: str
    nbre_pl: int
    nbre_pmr: int
    ouvert: bool = True


@dataclass(frozen=True)
class Sensor:
    dev_eui: str
    codec_id: str
    parameters: dict[str, object]


@dataclass(frozen=True)
class Place:
    code: str
    pmr: bool
    device: Sensor | None


@dataclass(frozen=True)
class SimArea:
    area: Registry
    spaces: tuple[Place, ...]
    truth: dict[str, FloatArray]  # space code → occupancy every 5 minutes from START
    readings: tuple[Reading, ...]  # in arrival (publish) order

    def truly_occupied(self, code: str, at: datetime) -> bool:
        return bool(self.truth[code][int((at - START) / STEP)] >= 0.5)


def sim_area(
    spaces: int = 12, days: int = 3, seed: int = 1, config: EngineConfig | None = None
) -> SimArea:
    codecs = ("nwave/nps405", "bosch/tps110")
    places = tuple(
        Space(
            f"p{i:02d}",
            ID_LIEU,
            i == 0,
            SimDevice(
                f"{0x70B3D50000000000 + i:016x}",
                codecs[i % 2],
                "parking_space",
                "t",
                f"Place {i}",
                HEARTBEAT_S[codecs[i % 2]],
                f"p{i:02d}",
                area=ID_LIEU,
            ),
        )
        for i in range(spaces)
    )
    area = Area(ID_LIEU, "t", "Gare", "59139", "Aire de covoiturage", 3.41, 50.12, 1, 0.6, places)
    territory = Territory("t", CLIMATE, (), (), (), (), (), (area,), ())
    occupancy = simulate_area(area, START, days, seed, FrenchCalendar())
    truths = {
        sp.device.dev_eui: Truth(
            START,
            STEP,
            {
                "occupied": occupancy[sp.code],
                "temperature_c": np.full(len(occupancy[sp.code]), 9.0),
            },
            on_change=True,
        )
        for sp in places
    }
    engine = Engine(territory, truths, START, days, seed, config or EngineConfig())
    readings = tuple(
        Reading(e.time, em.device, e.quantity, e.value, e.channel)
        for em in engine
        if em.fate in ("stored", "duplicate")
        for e in em.readings
        if e.quantity == "occupied"
    )
    registry = tuple(
        Place(sp.code, sp.pmr, Sensor(sp.device.dev_eui, sp.device.codec_id, {})) for sp in places
    )
    return SimArea(Registry(ID_LIEU, spaces, 1), registry, occupancy, readings)


def at_steps(days: int, every: timedelta, offset: timedelta) -> list[datetime]:
    """Instants ``offset`` after every ``every`` from the first day's end (sensors all heard)."""
    out = []
    t = START + timedelta(days=1) + offset
    while t < START + timedelta(days=days):
        out.append(t)
        t += every
    return out

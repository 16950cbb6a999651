"""A small hand-built territory: every kind of entity once or twice, and the device models used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.calendar import FrenchCalendar
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

CLIMATE = Climate(
    annual_mean_c=10.5, annual_amplitude_c=7.75, daily_amplitude_c=4.0, coldest_day_of_year=15
)
START = datetime(2024, 1, 1, tzinfo=UTC)
WEEK = ("mon", "tue", "wed", "thu", "fri")


def device(n: int, codec: str, role: str, subject: str, **kw: object) -> SimDevice:
    return SimDevice(f"{n:016x}", codec, role, "t", f"d{n}", 3600, subject, **kw)  # type: ignore[arg-type]


def school(code: str = "sch", n: int = 100) -> Building:
    devices = (
        device(n + 1, "adeunis/tic-cbe-linky-mono", "energy_meter", code, building=code),
        device(
            n + 2,
            "milesight-iot/em300-di",
            "gas_meter",
            code,
            building=code,
            parameters={"pulse_quantity": "volume_m3", "pulse_weight": 0.01},
        ),
        device(n + 3, "milesight-iot/am307", "climate", code, building=code, channel="1"),
        device(n + 4, "elsys/ers-co2", "climate", code, building=code, channel="2"),
        device(n + 5, "axioma/qalcosonic-w1", "water_meter", code, building=code),
    )
    return Building(
        code,
        "site",
        "t",
        "École",
        BuildingKind.SCHOOL,
        1500.0,
        "enseignement",
        ("electricity", "gas"),
        "gas",
        "B",
        {d: [("08:30", "16:30")] for d in WEEK},
        19.0,
        devices,
        sector="s1",
    )


def pool(code: str = "pool", n: int = 200) -> Building:
    devices = (
        device(
            n + 1,
            "adeunis/pulse",
            "energy_meter",
            code,
            building=code,
            parameters={"pulse_quantity": "energy_kwh", "pulse_weight": 1.0},
        ),
        device(n + 2, "decentlab/dl-iam", "climate", code, building=code),
        device(n + 3, "dragino/lwl02", "leak_probe", code, building=code),
        device(n + 4, "netvox/r718n3", "energy_meter", code, building=code),
    )
    hours = {d: [("10:00", "20:00")] for d in (*WEEK, "sat")}
    return Building(
        code,
        "site",
        "t",
        "Piscine",
        BuildingKind.POOL,
        1000.0,
        "sport",
        ("electricity", "gas"),
        "gas",
        "B",
        hours,
        27.0,
        devices,
        sector="s1",
    )


def territory(households: int = 40, spaces: int = 12) -> Territory:
    hh = tuple(
        Household(
            f"s1-h{i:03d}",
            "s1",
            1 + i % 4,
            device(1000 + i, "axioma/qalcosonic-w1", "water_meter", f"s1-h{i:03d}"),
        )
        for i in range(households)
    )
    inflow = device(
        900,
        "milesight-iot/em300-di",
        "sector_inflow",
        "s1",
        sector="s1",
        parameters={"pulse_quantity": "volume_m3", "pulse_weight": 0.1},
    )
    sector = Sector("s1", "t", "Centre", 8.0, 0.8, inflow, hh)
    station = Station(
        "riv",
        "t",
        "Le Riot",
        "Selle",
        5.0,
        0.8,
        {"yellow": 2.0, "orange": 2.6, "red": 3.2},
        device(950, "dragino/ldds75", "level", "riv"),
    )
    codecs = ("nwave/nps405", "bosch/tps110")
    area = Area(
        "59139-C-001",
        "t",
        "Gare de Caudry",
        "59139",
        "Aire de covoiturage",
        3.41,
        50.12,
        1,
        0.6,
        tuple(
            Space(
                f"p{i}",
                "59139-C-001",
                i == 0,
                device(3000 + i, codecs[i % 2], "parking_space", f"p{i}", area="59139-C-001"),
            )
            for i in range(spaces)
        ),
    )
    return Territory(
        "test", CLIMATE, (), (), (school(), pool()), (sector,), (station,), (area,), ()
    )


@pytest.fixture(scope="session")
def calendar() -> FrenchCalendar:
    return FrenchCalendar()

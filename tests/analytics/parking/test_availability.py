"""An area's counts and status, from registry rows and simulated readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.parking.availability import AreaStatus, area_availability, area_status
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import UnknownReason
from core.reading import Reading
from core.state.models import Device, ParkingArea, ParkingSpace
from tests.analytics.parking.streams import CLEAN, Place, Registry, Sensor, at_steps, sim_area

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SETTINGS = ParkingSettings()


@pytest.mark.parametrize(
    ("free", "unknown", "status"),
    [
        (20, 0, AreaStatus.SPACES_AVAILABLE),
        (3, 0, AreaStatus.SPACES_AVAILABLE),
        (2, 0, AreaStatus.ALMOST_FULL),  # 10 % of 20
        (1, 0, AreaStatus.ALMOST_FULL),
        (0, 0, AreaStatus.FULL),
        (5, 10, AreaStatus.SPACES_AVAILABLE),  # half unknown is still a status
        (5, 11, AreaStatus.UNKNOWN),  # more than half: "données indisponibles"
    ],
)
def test_status_thresholds(free: int, unknown: int, status: AreaStatus) -> None:
    assert area_status(True, 20, free, unknown, SETTINGS) is status


def test_a_closed_area_is_closed_whatever_its_spaces_say() -> None:
    assert area_status(False, 20, 20, 0, SETTINGS) is AreaStatus.CLOSED


def test_thresholds_are_settings() -> None:
    loose = ParkingSettings(almost_full_share=0.25, full_free=1)
    assert area_status(True, 20, 5, 0, loose) is AreaStatus.ALMOST_FULL
    assert area_status(True, 20, 1, 0, loose) is AreaStatus.FULL


def _reading(dev: str, minutes_ago: float, occupied: int) -> Reading:
    return Reading(NOW - timedelta(minutes=minutes_ago), dev, "occupied", occupied)


def test_registry_rows_count_free_occupied_unknown_and_pmr() -> None:
    area = ParkingArea(id_lieu="59139-C-001", nbre_pl=5, nbre_pmr=1, ouvert=True)
    devices = [
        Device(dev_eui=f"70b3d5000000000{i}", codec_id="bosch/tps110", parameters={})
        for i in range(4)
    ]
    spaces = [ParkingSpace(code=f"p{i}", pmr=i == 0, device=d) for i, d in enumerate(devices)]
    readings = [
        _reading(devices[0].dev_eui, 30, 0),  # PMR, free
        _reading(devices[1].dev_eui, 30, 1),
        _reading(devices[2].dev_eui, 30, 0),
        _reading(devices[3].dev_eui, 180, 0),  # silent 3 h > 1.5 × 1 h: unknown
    ]
    a = area_availability(area, spaces, readings, NOW, SETTINGS)
    # The fifth space of nbre_pl has no sensor: unknown as well.
    assert (a.total, a.free, a.occupied, a.unknown, a.pmr_free) == (5, 2, 1, 2, 1)
    assert a.status is AreaStatus.SPACES_AVAILABLE
    assert a.last_update == NOW - timedelta(minutes=30)
    assert a.spaces["p3"].reason is UnknownReason.SILENT
    closed = area_availability(
        ParkingArea(id_lieu="x", nbre_pl=5, nbre_pmr=1, ouvert=False), spaces, readings, NOW
    )
    assert closed.status is AreaStatus.CLOSED


def test_a_space_without_sensor_is_unknown() -> None:
    area = Registry("a", 2, 0)
    spaces = (Place("p0", False, None), Place("p1", False, Sensor("70b3d50000000001", "x", {})))
    a = area_availability(area, spaces, [_reading("70b3d50000000001", 1, 1)], NOW)
    assert a.spaces["p0"].reason is UnknownReason.NO_SENSOR
    assert (a.free, a.occupied, a.unknown) == (0, 1, 1)


def test_simulated_area_counts_match_the_truth_and_fill_on_weekday_mornings() -> None:
    sim = sim_area(spaces=20, days=3, seed=4, config=CLEAN)
    frees = []
    for at in at_steps(3, timedelta(minutes=30), timedelta(minutes=2, seconds=30)):
        a = area_availability(sim.area, sim.spaces, sim.readings, at)
        true_free = sum(not sim.truly_occupied(sp.code, at) for sp in sim.spaces)
        known = a.free + a.occupied
        assert a.free + a.occupied + a.unknown == a.total == 20
        assert abs(a.free - true_free) <= a.unknown  # the unknown spaces are the only doubt
        frees.append((at, a.free, known))
    morning = [f for at, f, _ in frees if at.hour == 10]  # 11:00 in Paris, Tuesday and Wednesday
    night = [f for at, f, _ in frees if at.hour == 2]
    assert max(morning) < min(night)
    assert all(known == 20 for _, _, known in frees)  # every sensor heard within its heartbeat

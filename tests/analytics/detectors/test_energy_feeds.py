"""Buildings and their hours read from the registry and a real (SQLite) store: the KPI tests'
territory, whose gas meter of ecole-jaures is replaced on 10 March 2025 and whose Linky is
silent for two days in June 2025."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.detectors.base import Pass
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.detectors.energy_meter_faults import DETECTOR as METER_FAULTS
from analytics.energy.building_hours import HOUR_NS
from analytics.kpi.register import register_use
from core.series import to_ns
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from tests.analytics.kpi.conftest import GAS_RESET, SILENT, SITES


def test_every_building_with_a_meter_or_a_sensor_is_a_subject(kpi_state: StateStore) -> None:
    subjects = {s.code: s for s in BUILDINGS.load(kpi_state)}
    assert set(subjects) == {s.building for s in SITES}
    jaures = subjects["ecole-jaures"]
    assert jaures.tenant == "ville"
    assert set(jaures.devices) == {SITES[0].linky, SITES[0].gas, SITES[0].climate}


def test_a_buildings_hours_add_up_to_its_registers(
    kpi_state: StateStore, kpi_store: SqliteStore
) -> None:
    subjects = [s for s in BUILDINGS.load(kpi_state) if s.code == "ecole-curie"]
    start, end = datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 1, 20, tzinfo=UTC)
    [b] = BUILDING_HOURS.load(kpi_store, subjects, start, end)
    assert b.n == 14 * 24 and b.hours_ns[0] == to_ns(start)
    assert [(r.device, r.channel, r.carrier) for r in b.registers] == [
        (SITES[1].linky, "hc", "electricity"),
        (SITES[1].linky, "hp", "electricity"),
        (SITES[1].gas, None, "gas"),
    ]
    edges = np.array([to_ns(start), to_ns(end)])
    gas = SITES[1].gas
    assert gas is not None
    series = kpi_store.read(Selection.of("energy_kwh", [gas]), start - timedelta(hours=3), end)
    rise = register_use(*series.series(0), edges).use[0]
    assert np.isclose(np.nansum(b.kwh[2]), rise)
    assert np.isfinite(b.indoor_c).all() and np.isfinite(b.outdoor_c).all()
    # Open Monday, Tuesday, Thursday, Friday 08:00-17:00 local: 9 hours, 4 days a week.
    assert b.occupied.sum() == 2 * 4 * 9
    assert b.heating_season.all()


def test_a_replaced_gas_meter_is_a_reset_read_through_the_store(
    kpi_state: StateStore, kpi_store: SqliteStore
) -> None:
    subjects = [s for s in BUILDINGS.load(kpi_state) if s.code == "ecole-jaures"]
    end = GAS_RESET + timedelta(hours=10)
    start = end - timedelta(days=35)
    data = BUILDING_HOURS.load(kpi_store, subjects, start, end)
    run = Pass(subjects, data, METER_FAULTS.spec.params, start, end, None, {})
    detection = METER_FAULTS.detect(run)
    assert [(f.type, f.subject, f.start) for f in detection.findings] == [
        ("energy_meter_reset", SITES[0].gas, GAS_RESET)
    ]
    assert detection.findings[0].evidence["index_after_kwh"] == 2.0
    assert detection.state["usual_max_kwh_h"]  # kept for the next pass


def test_a_silent_linky_is_not_judged(kpi_state: StateStore, kpi_store: SqliteStore) -> None:
    subjects = [s for s in BUILDINGS.load(kpi_state) if s.code == "ecole-jaures"]
    end = SILENT[1] - timedelta(hours=1)
    data = BUILDING_HOURS.load(kpi_store, subjects, end - timedelta(days=35), end)
    detection = METER_FAULTS.detect(
        Pass(subjects, data, METER_FAULTS.spec.params, end, end, None, {})
    )
    assert detection.findings == []
    assert ("energy_meter_frozen", SITES[0].linky) not in detection.judged
    assert ("energy_meter_frozen", SITES[0].gas) in detection.judged
    assert int(data[0].hours_ns[-1]) + HOUR_NS == to_ns(end)

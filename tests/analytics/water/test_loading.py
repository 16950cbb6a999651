"""Water data from real stores: the registry's meters by use, register matrices, sector inflow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics.water import loading
from analytics.water.loading import (
    SectorMeters,
    register_matrix,
    sector_inflow,
    sector_matrix,
    water_meters,
)
from core.reading import Reading
from core.series import NS, to_ns
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, Paris winter time
LEAKY, GAPPY, SILENT = "d8c3fb0000000001", "d8c3fb0000000002", "d8c3fb0000000003"
INFLOW, OUTFLOW = "24e1240000000001", "24e1240000000002"

REGISTRY = f"""
tenants:
  - {{code: ca, name: Agglomération, kind: agglomeration}}
sites:
  - {{code: ecole, tenant: ca, name: École}}
buildings:
  - {{code: ecole-bat, site: ecole, name: École, floor_area_m2: 900}}
  - {{code: piscine, site: ecole, name: Piscine}}
sectors:
  - {{code: nord, tenant: ca, name: Nord, inflow: ["{INFLOW}"], outflow: ["{OUTFLOW}"]}}
  - {{code: sud, tenant: ca, name: Sud}}
devices:
  - {{dev_eui: "{GAPPY}", tenant: ca, codec_id: axioma/qalcosonic-w1, role: water_meter,
      sector: nord}}
  - {{dev_eui: "{LEAKY}", tenant: ca, codec_id: axioma/qalcosonic-w1, role: water_meter,
      sector: nord}}
  - {{dev_eui: "d8c3fb00000000b1", tenant: ca, codec_id: axioma/qalcosonic-w1,
      role: water_meter, building: ecole-bat, sector: nord}}
  - {{dev_eui: "d8c3fb00000000b2", tenant: ca, codec_id: axioma/qalcosonic-w1,
      role: water_meter, building: piscine, parameters: {{continuous_use: true}}}}
  - {{dev_eui: "d8c3fb00000000f1", tenant: ca, codec_id: axioma/qalcosonic-w1,
      role: water_meter}}
  - {{dev_eui: "a840410000000001", tenant: ca, codec_id: dragino/lht65, role: climate,
      building: ecole-bat}}
  - {{dev_eui: "{INFLOW}", tenant: ca, codec_id: milesight-iot/em300-di, role: sector_inflow}}
  - {{dev_eui: "{OUTFLOW}", tenant: ca, codec_id: milesight-iot/em300-di,
      role: sector_outflow}}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "series.sqlite")
    yield s
    s.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    s.migrate()
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    import_registry(s, registry)
    yield s
    s.dispose()


def _register(
    device: str, first: datetime, every: timedelta, lph: float, n: int, base_m3: float = 120.0
) -> list[Reading]:
    """A register rising ``lph`` litres an hour, read ``n`` times every ``every`` from ``first``."""
    h = every / timedelta(hours=1)
    return [
        Reading(first + k * every, device, "volume_m3", base_m3 + k * h * lph / 1000.0)
        for k in range(n)
    ]


def test_water_meters_sorts_the_registry_by_what_they_meter(state: StateStore) -> None:
    meters = water_meters(state)
    assert meters.households == [LEAKY, GAPPY]  # sorted; no sector and no building: neither
    assert meters.buildings == {"d8c3fb00000000b1": "ecole-bat", "d8c3fb00000000b2": "piscine"}
    assert meters.continuous_use == {"d8c3fb00000000b2": True}  # the school's is learned
    assert meters.sectors == {
        "nord": SectorMeters(inflow=[INFLOW], outflow=[OUTFLOW]),
        "sud": SectorMeters(),
    }


def test_register_matrix_gives_litres_per_hour_in_the_order_of_the_devices(
    store: SqliteStore,
) -> None:
    # Read at minute 17 from the hour before the period to the hour after it: 26 readings.
    first = START - timedelta(minutes=43)
    store.write(_register(LEAKY, first, timedelta(hours=1), 12.0, 26))
    gappy = _register(GAPPY, first, timedelta(hours=1), 0.0, 26)
    store.write([r for k, r in enumerate(gappy) if not 10 <= k <= 13])  # 09:17-12:17 lost
    store.write([Reading(START, LEAKY, "volume_m3", 99_999.0, channel="2")])  # another register

    mh = register_matrix(store, [SILENT, LEAKY, GAPPY], START, START + timedelta(hours=24))

    assert mh.volume_l.shape == (3, 24)
    assert np.isnan(mh.volume_l[0]).all()  # no reading at all
    np.testing.assert_allclose(mh.volume_l[1], 12.0)  # m³ register → litres, every hour known
    unknown = np.flatnonzero(np.isnan(mh.volume_l[2]))
    # Hour h gets the interval h:17 → h+1:17 (midpoint allocation); 08:17 → 13:17 is too long.
    assert unknown.tolist() == [8, 9, 10, 11, 12]
    assert np.nansum(mh.volume_l[2]) == 0.0
    assert mh.axis.local_hour[0] == 1  # Paris, UTC+1
    assert mh.quality.readings.tolist() == [0, 26, 22]


def test_meters_read_in_blocks_give_the_same_matrix(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = START - timedelta(minutes=43)
    store.write(_register(LEAKY, first, timedelta(hours=1), 12.0, 8))
    store.write(_register(GAPPY, first, timedelta(hours=2), 3.0, 4))
    devices, end = [GAPPY, SILENT, LEAKY], START + timedelta(hours=6)
    whole = register_matrix(store, devices, START, end)
    monkeypatch.setattr(loading, "READ_BLOCK", 2)
    blocks = register_matrix(store, devices, START, end)
    np.testing.assert_array_equal(blocks.volume_l, whole.volume_l)
    assert blocks.quality.readings.tolist() == whole.quality.readings.tolist() == [4, 0, 8]
    assert blocks.quality.gaps.tolist() == whole.quality.gaps.tolist() == [3, 0, 0]


def test_the_period_edges_are_covered_by_readings_outside_it(store: SqliteStore) -> None:
    store.write(_register(LEAKY, START - timedelta(minutes=30), timedelta(hours=1), 6.0, 4))
    mh = register_matrix(store, [LEAKY], START, START + timedelta(hours=3))
    np.testing.assert_allclose(mh.volume_l[0], 6.0)


def test_one_inflow_meter_gives_its_own_interval_flows(store: SqliteStore) -> None:
    quarter = timedelta(minutes=15)
    first = START - timedelta(minutes=8)
    inflow = _register(INFLOW, first, quarter, 12_000.0, 4 * 6 + 2, 9e4)
    inflow[20:] = [
        Reading(r.time, r.device, r.quantity, r.value - 80.0) for r in inflow[20:]
    ]  # a counter reset at 04:52: that interval has no flow
    del inflow[5]  # one lost frame: the 30-minute interval is still measured
    del inflow[12:18]  # six more: 02:52-04:37 is too long to tell the night minimum
    store.write(inflow)

    times, flow = sector_inflow(
        store, SectorMeters(inflow=[INFLOW]), START, START + timedelta(hours=6)
    )

    # Interval k runs from reading k to reading k + 1 (the one after the lost frame: 4 → 6).
    kept = [0, 1, 2, 3, 4.5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24]
    expected = [to_ns(first) + int((k + 0.5) * 900) * NS for k in kept]
    assert times.tolist() == expected[1:]  # the first midpoint (23:59:30) is before the period
    np.testing.assert_allclose(flow, 12.0)  # m³/h, as the register says


def test_several_boundary_meters_are_netted_on_a_quarter_hour_grid(store: SqliteStore) -> None:
    quarter = timedelta(minutes=15)
    inflow = _register(INFLOW, START - timedelta(minutes=8), quarter, 12_000.0, 4 * 6 + 2, 9e4)
    del inflow[13:19]  # 02:52-04:37: too long an interval to share out
    store.write(inflow)
    store.write(_register(OUTFLOW, START - timedelta(minutes=3), quarter, 2_000.0, 4 * 6 + 2))
    both = SectorMeters(inflow=[INFLOW], outflow=[OUTFLOW])
    end = START + timedelta(hours=6)

    mh = sector_matrix(store, [both, SectorMeters(inflow=[INFLOW]), SectorMeters()], START, end)
    times, flow = sector_inflow(store, both, START, end)

    assert mh.volume_l.shape == (3, 24)
    unknown = [11, 12, 13, 14, 15, 16, 17, 18]  # the quarters that interval overlaps
    assert np.flatnonzero(np.isnan(mh.volume_l[0])).tolist() == unknown
    np.testing.assert_allclose(np.delete(mh.volume_l[0], unknown), 2_500.0)  # litres a quarter
    np.testing.assert_allclose(np.delete(mh.volume_l[1], unknown), 3_000.0)
    assert np.isnan(mh.volume_l[2]).all()  # no inflow meter: nothing is known
    known = [k for k in range(24) if k not in unknown]
    assert times.tolist() == [to_ns(START) + k * 900 * NS for k in known]
    np.testing.assert_allclose(flow, 10.0)  # m³/h


def test_a_sector_without_an_inflow_meter_has_no_inflow(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="inflow meter"):
        sector_inflow(store, SectorMeters(), START, START + timedelta(hours=1))

"""Ingest fixtures: a small registry in a real state store, real time-series stores, a pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from core.clock import ManualClock
from core.config import IngestSettings, ObjectField
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import TimeSeriesStore
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.spool import Spool

NOW = datetime(2026, 11, 2, 7, 20, tzinfo=UTC)
CLIMATE = "a840414b61866d2c"  # dragino/lht65 in the gym
NS_DECODED = "a840414b61866d2d"  # decoded by the network server, mapped by profile
NO_CODEC = "a840414b61866d2e"  # a model the library does not know
METER = "a840414b61866d2f"  # axioma/qalcosonic-w1: hourly history timed by the meter's clock
UNKNOWN = "ffffffffffff0001"  # not in the registry

REGISTRY = f"""
tenants:
  - {{code: caudry, name: Caudry, kind: commune, insee: "59139"}}
sites:
  - {{code: caudry-gymnase, tenant: caudry, name: "Gymnase \\"Les Tilleuls\\", Caudry"}}
buildings:
  - {{code: caudry-gymnase-salle, site: caudry-gymnase, name: Salle de sport, floor_area_m2: 1450}}
devices:
  - dev_eui: "{CLIMATE}"
    tenant: caudry
    codec_id: dragino/lht65
    role: climate
    building: caudry-gymnase-salle
  - dev_eui: "{NS_DECODED}"
    tenant: caudry
    codec_id: ns/elsys
    role: climate
    building: caudry-gymnase-salle
  - {{dev_eui: "{NO_CODEC}", tenant: caudry, codec_id: acme/thermo-9000, role: climate}}
  - {{dev_eui: "{METER}", tenant: caudry, codec_id: axioma/qalcosonic-w1, role: water_meter}}
"""

OBJECT_FIELDS = {
    "ns/elsys": {
        "temperature": ObjectField(quantity="temperature_c"),
        "vdd": ObjectField(quantity="battery_v", scale=0.001),
        "sensors.co2": ObjectField(quantity="co2_ppm"),
    }
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    store.migrate()
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    import_registry(store, registry)
    yield store
    store.dispose()


@pytest.fixture
def series(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "series.sqlite")
    yield store
    store.close()


PipelineFactory = Callable[..., Pipeline]


@pytest.fixture
def make_pipeline(
    tmp_path: Path, state: StateStore, clock: ManualClock
) -> Iterator[PipelineFactory]:
    spools: list[Spool] = []

    def make(
        store: TimeSeriesStore, registry: CollectorRegistry | None = None, **settings: object
    ) -> Pipeline:
        config = IngestSettings(object_fields=OBJECT_FIELDS, **settings)  # type: ignore[arg-type]
        spool = Spool(tmp_path / f"spool-{len(spools)}.sqlite", config.spool_max_readings)
        spools.append(spool)
        return Pipeline(
            DeviceDirectory(state, clock),
            store,
            state,
            spool,
            clock,
            IngestMetrics(registry or CollectorRegistry()),
            config,
        )

    yield make
    for spool in spools:
        spool.close()

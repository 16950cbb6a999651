"""A small simulated territory for the dashboard tests: the sample's registry, two days of frames
through the real ingest pipeline into a real InfluxDB, and one analytics pass for the alerts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from core.clock import ManualClock
from core.config import IngestSettings
from core.state.dead_letter_store import DeadLetterStore
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Message, Pipeline
from ingest.spool import Spool
from simulator.engine import Engine, EngineConfig, run_physics
from simulator.territory import Territory
from simulator.territory_file import load_territory, write_registry

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAYS = 2
END = START + timedelta(days=DAYS)
NOW = END + timedelta(hours=1)
SEED = 5
# A school, a town hall and the pool of two communes keep the stream (and the test) short.
BUILDINGS = ("caudry-mairie", "caudry-ecole-jaures", "le-cateau-piscine")
HOUSEHOLDS_PER_SECTOR = 12
SPACES_PER_AREA = 8


def small_territory() -> Territory:
    """The sample territory cut down: three buildings, a dozen households per sector, every
    river station, a few spaces per carpool area, no hub screens."""
    t = load_territory()
    buildings = tuple(b for b in t.buildings if b.code in BUILDINGS)
    sectors = tuple(
        dataclasses.replace(s, households=s.households[:HOUSEHOLDS_PER_SECTOR]) for s in t.sectors
    )
    areas = tuple(dataclasses.replace(a, spaces=a.spaces[:SPACES_PER_AREA]) for a in t.areas)
    return dataclasses.replace(t, buildings=buildings, sectors=sectors, areas=areas, hubs=())


def fill(root: Path, store: TimeSeriesStore, state: StateStore) -> Counter[str]:
    """Simulate the territory, ingest its frames into ``store`` and ``state``, run analytics
    once; returns the dead letters by reason."""
    territory = small_territory()
    import_registry(state, write_registry(territory, root / "registry.yaml"))
    clock = ManualClock(NOW)
    settings = IngestSettings(spool_path=root / "spool.sqlite")
    spool = Spool(settings.spool_path, settings.spool_max_readings)
    pipeline = Pipeline(
        DeviceDirectory(state, clock),
        store,
        state,
        spool,
        clock,
        IngestMetrics(CollectorRegistry()),
        settings,
    )
    run = run_physics(territory, START, DAYS, SEED)
    batch: list[Message] = []
    try:
        for e in Engine(territory, run.truths, START, DAYS, SEED, EngineConfig()):
            if e.published:
                batch.append(Message(e.topic, e.payload))
            if len(batch) >= 2000:
                pipeline.handle(batch)
                batch = []
        pipeline.handle(batch)
    finally:
        spool.close()
    return Counter(x.reason for x in DeadLetterStore(state).list(limit=100_000))

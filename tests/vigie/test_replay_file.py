"""Ingesting a replay file through the real pipeline, on the clock of the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from core.clock import ManualClock
from core.config import IngestSettings
from core.series import to_ns
from core.state.dead_letter_store import DeadLetterStore
from core.stores.sqlite import SqliteStore
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.spool import Spool
from simulator.engine import Engine, EngineConfig, run_physics
from simulator.output import Tally, write_replay
from tests.simulator.test_engine import START, Ingest, assert_matches, sample, stored
from vigie.replay_file import arrival_times, ingest_file

WATER_ROLES = frozenset({"water_meter", "sector_inflow"})


def test_a_year_old_replay_is_stored_whole_because_the_clock_follows_the_file(
    tmp_path: Path,
) -> None:
    # START is in January 2025: under the wall clock every frame would be refused as bad_time.
    t = sample()
    run = run_physics(t, START, 2, 5)
    water = {d.dev_eui for d in t.devices() if d.role in WATER_ROLES}
    truths = {eui: x for eui, x in run.truths.items() if eui in water}
    tally = Tally(keep_points=True)
    path = tmp_path / "replay.jsonl"
    sent = write_replay(tally.track(Engine(t, truths, START, 2, 5, EngineConfig())), path)
    store = SqliteStore(tmp_path / "ts.sqlite")
    ing = Ingest(tmp_path, store, START)  # loads the registry into a real state store
    settings = IngestSettings(spool_path=tmp_path / "spool2.sqlite")

    def make(clock: ManualClock) -> Pipeline:
        return Pipeline(
            DeviceDirectory(ing.state, clock),
            store,
            ing.state,
            Spool(settings.spool_path, settings.spool_max_readings),
            clock,
            IngestMetrics(CollectorRegistry()),
            settings,
        )

    try:
        outcome = ingest_file(path, make, batch_size=500)
        assert outcome.messages == sent > 1000
        assert "bad_time" not in outcome.dead_letters
        got = stored(
            store, set(tally.quantities), START - timedelta(days=2), START + timedelta(days=3)
        )
        assert_matches(tally.points, got)
        letters = DeadLetterStore(ing.state).list(limit=100_000)
        assert sorted(x.reason for x in letters) == sorted(tally.letters.elements())
    finally:
        ing.close()
        store.close()


def test_arrival_times_are_each_devices_uplink_publish_times(tmp_path: Path) -> None:
    t = sample()
    run = run_physics(t, START, 2, 5)
    water = {d.dev_eui for d in t.devices() if d.role in WATER_ROLES}
    truths = {eui: x for eui, x in run.truths.items() if eui in water}
    emissions = list(Engine(t, truths, START, 2, 5, EngineConfig(format="mix")))
    path = tmp_path / "replay.jsonl"
    write_replay(iter(emissions), path)
    arrivals = arrival_times(path)
    # Every published uplink with a readable envelope counts, unknown devices included; the
    # broken JSON documents name no device, device-status events are not uplinks.
    expected: dict[str, list[int]] = {}
    for e in emissions:
        if e.published and e.reason != "bad_json" and e.topic.endswith("/up"):
            expected.setdefault(e.device, []).append(to_ns(e.publish_time))
    assert set(arrivals) == set(expected)
    for device, times in arrivals.items():
        assert times.tolist() == sorted(expected[device])

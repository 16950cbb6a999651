"""The engine: deterministic, every frame decodes to what it claims, faults meet the right fate."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from core.clock import ManualClock
from core.config import IngestSettings
from core.state.dead_letter_store import DeadLetterStore
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection, TimeSeriesStore
from ingest import envelopes
from ingest.codecs.registry import CODECS, decode
from ingest.decoding import status_readings
from ingest.directory import DeviceDirectory
from ingest.events import Status, Uplink
from ingest.metrics import IngestMetrics
from ingest.pipeline import Message, Pipeline
from ingest.spool import Spool
from simulator.device_faults import FaultRates
from simulator.engine import Emission, Engine, EngineConfig, run_physics
from simulator.output import Tally
from simulator.territory import Territory
from simulator.territory_file import load_territory, write_registry

START = datetime(2025, 1, 6, tzinfo=UTC)
RADIO = frozenset({"rssi_dbm", "snr_db", "gateway_count", "spreading_factor"})


@cache
def sample() -> Territory:
    return load_territory()


def emissions(days: int = 2, seed: int = 7, fmt: str = "mix") -> list[Emission]:
    t = sample()
    run = run_physics(t, START, days, seed)
    return list(Engine(t, run.truths, START, days, seed, EngineConfig(format=fmt)))  # type: ignore[arg-type]


@cache
def two_days() -> tuple[Emission, ...]:
    return tuple(emissions())


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    a = [(e.publish_time, e.topic, e.payload) for e in emissions(1, 3, "mix")]
    b = [(e.publish_time, e.topic, e.payload) for e in emissions(1, 3, "mix")]
    c = [(e.publish_time, e.topic, e.payload) for e in emissions(1, 4, "mix")]
    assert a == b
    assert a != c


def test_the_stream_is_ordered_by_publish_time_and_has_every_fate() -> None:
    stream = two_days()
    times = [e.publish_time for e in stream]
    assert times == sorted(times)
    fates: Counter[tuple[str, str | None]] = Counter((e.fate, e.reason) for e in stream)
    for fate in [("stored", None), ("lost", None), ("duplicate", None)]:
        assert fates[fate] > 0
    for reason in ("unknown_device", "out_of_range", "truncated", "bad_json"):
        assert fates[("dead_letter", reason)] > 0
    # Some messages arrive after a later frame of another device: out of order.
    frame_times = [e.frame_time for e in stream if e.published]
    assert any(b < a for a, b in itertools.pairwise(frame_times))


def test_every_stored_frame_decodes_to_the_readings_it_claims() -> None:
    devices = {d.dev_eui: d for d in sample().devices()}
    checked = 0
    for e in two_days():
        if e.fate != "stored":
            continue
        event = envelopes.parse(e.topic, e.payload)
        d = devices[e.device]
        params = {k: v for k, v in d.parameters.items() if isinstance(v, int | float)}
        if isinstance(event, Status):
            readings, problems = status_readings(event)
            assert not problems
            claimed_status = {(x.quantity, x.channel, x.time): x.value for x in e.readings}
            assert {(r.quantity, r.channel, r.time): r.value for r in readings} == pytest.approx(
                claimed_status
            )
            continue
        assert isinstance(event, Uplink)
        result = decode(d.codec_id, event.f_port or 0, event.payload, event.time, d.dev_eui, params)
        assert not result.errors
        got = {(r.quantity, r.channel, r.time): r.value for r in result.readings}
        resolution = {f.key: f.resolution for f in CODECS[d.codec_id].fields}
        payload = [x for x in e.readings if x.quantity not in RADIO]
        claimed = {(x.quantity, x.channel, x.time): x.value for x in payload}
        for key, value in got.items():
            name = key[0] + (f":{key[1]}" if key[1] else "")
            assert abs(claimed[key] - value) <= resolution[name] + 1e-9, (d.codec_id, key)
        checked += 1
    assert checked > 10_000


def test_a_status_comes_just_before_its_uplink_with_the_same_deduplication_id() -> None:
    """As ChirpStack does: a DevStatusAns is handled with the uplink's MAC commands, before the
    uplink event is sent, and its event carries the uplink set's deduplicationId."""
    stream = [e for e in two_days() if e.published]
    statuses: Counter[str] = Counter()
    for i, e in enumerate(stream):
        if not e.topic.endswith("/event/status"):
            continue
        status = envelopes.parse(e.topic, e.payload)
        assert isinstance(status, Status)
        up = next(
            u
            for u in stream[i + 1 :]
            if u.device == e.device
            and u.topic.endswith("/event/up")
            and u.frame_time == e.frame_time
        )
        assert up.publish_time == e.publish_time
        if up.reason != "bad_json":
            uplink = envelopes.parse(up.topic, up.payload)
            assert isinstance(uplink, Uplink) and uplink.dedup_id == status.dedup_id
        statuses[e.device] += 1
    uplinks = Counter(e.device for e in stream if e.topic.endswith("/event/up"))
    # A request a day, after an uplink it heard, answered by the next one: 1 to 3 in two days.
    assert all(1 <= statuses[d] <= 3 for d, n in uplinks.items() if n >= 3)


class Ingest:
    """The real pipeline on real SQLite stores, loaded with the territory's registry."""

    def __init__(self, root: Path, store: TimeSeriesStore, now: datetime) -> None:
        self.state = StateStore(f"sqlite:///{root / 'state.sqlite'}")
        self.state.migrate()
        import_registry(self.state, write_registry(sample(), root / "registry.yaml"))
        self.clock = ManualClock(now)
        settings = IngestSettings(spool_path=root / "spool.sqlite")
        self.spool = Spool(settings.spool_path, settings.spool_max_readings)
        self.pipeline = Pipeline(
            DeviceDirectory(self.state, self.clock),
            store,
            self.state,
            self.spool,
            self.clock,
            IngestMetrics(CollectorRegistry()),
            settings,
        )

    def letters(self) -> Counter[str]:
        return Counter(x.reason for x in DeadLetterStore(self.state).list(limit=1_000_000))

    def close(self) -> None:
        self.spool.close()
        self.state.dispose()


def stored(
    store: TimeSeriesStore, quantities: set[str], start: datetime, end: datetime
) -> dict[tuple[str, str, str | None, datetime], float]:
    out = {}
    for q in sorted(quantities):
        for r in store.read(Selection.of(q), start, end).readings():
            out[(r.device, r.quantity, r.channel, r.time)] = r.value
    return out


def assert_matches(
    expected: dict[tuple[str, str, str | None, datetime], float],
    got: dict[tuple[str, str, str | None, datetime], float],
) -> None:
    assert set(got) == set(expected)
    tolerance: dict[str, float] = {}
    for codec in CODECS.values():
        for f in codec.fields:
            q = f.key.partition(":")[0]
            tolerance[q] = max(tolerance.get(q, 0.0), f.resolution)
    for key, value in expected.items():
        assert abs(got[key] - value) <= tolerance.get(key[1], 0.001) + 1e-6, key


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[tuple[Ingest, SqliteStore]]:
    series = SqliteStore(tmp_path / "series.sqlite")
    ing = Ingest(tmp_path, series, START + timedelta(days=2, hours=1))
    yield ing, series
    ing.close()
    series.close()


def test_the_pipeline_stores_what_the_simulator_claims_and_dead_letters_the_faults(
    ingest: tuple[Ingest, SqliteStore],
) -> None:
    ing, series = ingest
    stream = two_days()
    tally = Tally(keep_points=True)
    batch: list[Message] = []
    for e in tally.track(stream):
        if e.published:
            batch.append(Message(e.topic, e.payload))
        if len(batch) >= 2000:
            ing.pipeline.handle(batch)
            batch = []
    ing.pipeline.handle(batch)
    got = stored(
        series, set(tally.quantities), START - timedelta(days=2), START + timedelta(days=3)
    )
    assert_matches(tally.points, got)
    assert ing.letters() == tally.letters


def test_a_broken_json_frame_of_an_unknown_device_is_expected_as_bad_json(
    ingest: tuple[Ingest, SqliteStore],
) -> None:
    """Half a JSON document names no device, so the ingest cannot tell it is unknown."""
    ing, _ = ingest
    t = sample()
    run = run_physics(t, START, 2, 7)
    config = EngineConfig(format="chirpstack-json", faults=FaultRates(bad_json_p=0.2))
    stream = list(Engine(t, run.truths, START, 2, 7, config))
    known = {d.dev_eui for d in t.devices()}
    unknown = Counter(e.reason for e in stream if e.published and e.device not in known)
    assert unknown["bad_json"] > 0 and unknown["unknown_device"] > 0
    tally = Tally()
    batch = [Message(e.topic, e.payload) for e in tally.track(stream) if e.published]
    for k in range(0, len(batch), 2000):
        ing.pipeline.handle(batch[k : k + 2000])
    assert ing.letters() == tally.letters

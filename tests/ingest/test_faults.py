"""Acceptance fault tests of ingest: ≥ 10,000 frames through a real Mosquitto into a real InfluxDB
while something breaks — the store, the ingest process, the broker — and not one frame is lost or
stored twice; fuzzed frames mixed into good ones are dead-lettered, one each, with a reason.

Each test runs its own broker and influxd on free loopback ports. The fleet is 1,000 Dragino LHT65
(4 readings a frame, plus 4 radio readings); uplink k is device k % 1000, fCnt k // 1000 + 1, at
``base + k ms`` — so every (device, time) is distinct, and a stored time names its fCnt. Workers run
on the system clock (the store outage and the broker restart are real, so is their time); the
frames are timed an hour ago, well inside the pipeline's time window.
"""

from __future__ import annotations

import json
import signal
import string
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from core.clock import SystemClock
from core.config import IngestSettings, MqttSettings
from core.series import to_ns
from core.state.dead_letter_store import DeadLetterStore
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from core.timeseries import Selection
from ingest.codecs.registry import codec
from ingest.consumer import SESSION_EXPIRY_S, Consumer, topic_filters
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.spool import Spool
from simulator.envelopes import (
    Frame,
    chirpstack_status,
    chirpstack_status_protobuf,
    chirpstack_topic,
    chirpstack_up_json,
    chirpstack_up_protobuf,
)
from tests.services import LOOPBACK, InfluxServer, MosquittoServer, free_port, tail

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "vigie"
DEVICES = 1000
FLEET = [f"a84041fa{i:08x}" for i in range(DEVICES)]
LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")  # 3.062 V, 28.29 °C, 88.6 %, probe 27.81 °C
LHT65_PORTS = codec("dragino/lht65").ports  # data 2, datalog 3, status 5: not a wrong fPort
# What one uplink stores: (quantity, channel) → InfluxDB measurement.
SERIES = {
    ("humidity_pct", ""): "climate",
    ("temperature_c", ""): "climate",
    ("temperature_c", "ext"): "climate",
    ("battery_v", ""): "device",
    ("rssi_dbm", ""): "radio",
    ("snr_db", ""): "radio",
    ("gateway_count", ""): "radio",
    ("spreading_factor", ""): "radio",
}
MS = 1_000_000  # ns
WAIT_S = 150  # bound on any wait for the real processes to catch up


# -- the fleet and its traffic ---------------------------------------------------------------------


def registry_yaml() -> str:
    devices = "\n".join(
        f'  - {{dev_eui: "{eui}", tenant: caudry, codec_id: dragino/lht65, role: climate,'
        " building: caudry-gymnase-salle}"
        for eui in FLEET
    )
    return f"""
tenants:
  - {{code: caudry, name: Caudry, kind: commune, insee: "59139"}}
sites:
  - {{code: caudry-gymnase, tenant: caudry, name: Gymnase}}
buildings:
  - {{code: caudry-gymnase-salle, site: caudry-gymnase, name: Salle de sport}}
devices:
{devices}
"""


@dataclass(frozen=True)
class Uplinks:
    """``n`` good uplinks of the fleet, round robin, a third of them in binary protobuf."""

    base: datetime
    n: int

    def frame(self, k: int) -> Frame:
        return Frame(
            FLEET[k % DEVICES],
            k // DEVICES + 1,
            2,
            LHT65,
            self.base + timedelta(milliseconds=k),
            dedup_id=str(uuid.UUID(int=(1 << 64) + k)),
        )

    def message(self, k: int) -> tuple[str, bytes]:
        envelope = chirpstack_up_protobuf if k % 3 == 2 else chirpstack_up_json
        return envelope(self.frame(k))

    def messages(self) -> list[tuple[str, bytes]]:
        return [self.message(k) for k in range(self.n)]

    @property
    def window(self) -> tuple[int, int]:
        lo = to_ns(self.base)
        return lo, lo + self.n * MS

    def f_cnts(self, device: str) -> set[int]:
        i = FLEET.index(device)
        return {k // DEVICES + 1 for k in range(i, self.n, DEVICES)}


def an_hour_ago() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


# -- the network server's MQTT client --------------------------------------------------------------


def _connect_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    return props


class Publisher:
    """A network server's MQTT client: QoS 1 on a persistent session (MQTT 5, clean_start False),
    so paho sends again, on reconnection, what the broker had not acknowledged.

    At most ``window`` messages are outstanding (paho's message ids are 16 bits and its inflight
    bookkeeping scans its queue per PUBACK: unbounded publishing is both wrong and quadratic).
    """

    def __init__(self, broker: MosquittoServer, client_id: str = "network-server") -> None:
        self.window = 2000
        self.sent = 0
        self.acked = 0
        self._cond = threading.Condition()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self._client.max_inflight_messages_set(0)  # the window bounds it
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._client.on_publish = self._on_publish
        self._client.connect(
            broker.host, broker.port, clean_start=False, properties=_connect_props()
        )
        self._client.loop_start()

    def _on_publish(self, *_: object) -> None:
        with self._cond:
            self.acked += 1
            self._cond.notify_all()

    def send(self, messages: list[tuple[str, bytes]], over_s: float = 0.0) -> None:
        """Publish in order, spread evenly over ``over_s`` seconds (0: as fast as acknowledged)."""
        start = time.monotonic()
        for i, (topic, payload) in enumerate(messages):
            if over_s and i % 25 == 0:
                time.sleep(max(0.0, start + over_s * i / len(messages) - time.monotonic()))
            with self._cond:
                if not self._cond.wait_for(lambda: self.sent - self.acked < self.window, WAIT_S):
                    raise AssertionError(f"broker acknowledged {self.acked} of {self.sent}")
                self.sent += 1
            # Outside our lock: paho calls on_publish holding its own, publish() takes it too.
            info = self._client.publish(topic, payload, qos=1)
            # NO_CONN: the broker is away; the message is queued and sent on reconnection.
            assert info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)

    def wait_acknowledged(self) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.acked == self.sent, WAIT_S):
                raise AssertionError(f"broker acknowledged {self.acked} of {self.sent}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def ensure_session(broker: MosquittoServer, client_id: str, shared_group: str | None) -> None:
    """Create a worker's persistent session, subscribed QoS 1 (SUBACK received), so frames
    published before the worker first connects wait for it in the broker."""
    filters = topic_filters(IngestSettings(), MqttSettings(shared_group=shared_group))
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    subscribed = threading.Event()
    client.on_connect = lambda c, *_: c.subscribe([(f, 1) for f in filters])
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(broker.host, broker.port, clean_start=False, properties=_connect_props())
    client.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK from the broker"
    finally:
        client.disconnect()
        client.loop_stop()


# -- workers ---------------------------------------------------------------------------------------


class Worker:
    """The real consumer and pipeline in a thread: InfluxDB store, SQLite state, spool in tmp."""

    def __init__(
        self,
        name: str,
        tmp: Path,
        state: StateStore,
        influx: InfluxServer,
        broker: MosquittoServer,
        *,
        shared_group: str | None = None,
        batch_size: int = 2000,
    ) -> None:
        ensure_session(broker, name, shared_group)
        self.registry = CollectorRegistry()
        self.store = InfluxStore(influx.url, DATABASE, timeout_s=2.0, rollups=None)
        settings = IngestSettings(batch_size=batch_size, batch_ms=50, retry_s=1.0)
        self.spool = Spool(tmp / f"spool-{name}.sqlite", settings.spool_max_readings)
        clock = SystemClock()
        pipeline = Pipeline(
            DeviceDirectory(state, clock),
            self.store,
            state,
            self.spool,
            clock,
            IngestMetrics(self.registry),
            settings,
        )
        mqtt_settings = MqttSettings(
            host=broker.host, port=broker.port, client_id=name, shared_group=shared_group
        )
        self.handled = 0
        self.consumer = Consumer(pipeline, mqtt_settings, settings, on_batch=self._count)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.consumer.run, args=(self._stop,), name=name)
        self._thread.start()

    def _count(self, n: int) -> None:
        self.handled += n

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def frames(self, outcome: str) -> int:
        """Frames by outcome: stored (durable, in the store or the spool), deduplicated, ..."""
        got = self.registry.get_sample_value("vigie_ingest_frames_total", {"outcome": outcome})
        return int(got or 0)

    def readings(self, destination: str) -> int:
        labels = {"destination": destination}
        return int(self.registry.get_sample_value("vigie_ingest_readings_total", labels) or 0)

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the consumer did not stop"
        self.spool.close()
        self.store.close()


class IngestProcess:
    """``python -m vigie ingest --config FILE``: the worker as it runs in production."""

    def __init__(self, config: Path, log: Path, metrics_port: int) -> None:
        self.metrics_url = f"http://{LOOPBACK}:{metrics_port}/metrics"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vigie", "ingest", "--config", str(config)],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.serving, f"ingest process serving /metrics (log: {log})")

    def serving(self) -> bool:
        assert self.process.poll() is None, f"ingest exited early:\n{tail(self.log)}"
        try:
            return httpx.get(self.metrics_url, timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def frames(self, outcome: str) -> int:
        text = httpx.get(self.metrics_url, timeout=5.0).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "vigie_ingest_frames_total" and sample.labels == {
                    "outcome": outcome
                }:
                    return int(sample.value)
        return 0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


# -- what InfluxDB holds ---------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll real processes' progress, bounded."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout_s:g} s: {what}")
        time.sleep(0.2)


def point_counts(influx: InfluxServer, window: tuple[int, int]) -> dict[tuple[str, str], int]:
    """Points per (quantity, channel) with a time in ``window`` (ns), by InfluxQL count()."""
    lo, hi = window
    query = ";".join(
        f'SELECT count(*) FROM "{m}" WHERE time >= {lo} AND time < {hi} GROUP BY "channel"'
        for m in sorted(set(SERIES.values()))
    )
    body = httpx.post(
        f"{influx.url}/query", params={"db": DATABASE}, data={"q": query}, timeout=30
    ).json()
    counts: dict[tuple[str, str], int] = {}
    for result in body["results"]:
        assert "error" not in result, result
        for series in result.get("series", []):
            channel = (series.get("tags") or {}).get("channel", "")
            for column, value in zip(series["columns"], series["values"][0], strict=True):
                if column.startswith("count_") and value:
                    counts[(column.removeprefix("count_"), channel)] = value
    return counts


def points_received(influx: InfluxServer) -> int:
    """Points InfluxDB was asked to write since it started (``SHOW STATS``: ``pointReq``), an
    overwrite of a stored point included: the store's own count of what the dedup layer let
    through, which a point count cannot show (same series and time overwrite)."""
    body = httpx.post(
        f"{influx.url}/query", data={"q": "SHOW STATS FOR 'write'"}, timeout=10
    ).json()
    [series] = body["results"][0]["series"]
    return int(series["values"][0][series["columns"].index("pointReq")])


# Points (lines) an LHT65 uplink writes: one per series, its readings as fields — climate
# (temperature, humidity), climate ext (temperature), device (battery), radio (4 figures).
LINES_PER_UPLINK = 4


def stored_humidity(influx: InfluxServer, window: tuple[int, int]) -> int:
    return point_counts(influx, window).get(("humidity_pct", ""), 0)


def assert_exactly_stored(
    influx: InfluxServer, uplinks: Uplinks, extra: tuple[tuple[str, str], ...] = ()
) -> None:
    """Every uplink once: n points per stored series (and per ``extra`` series, e.g. a status
    event's), and each device's fCnts complete."""
    assert point_counts(influx, uplinks.window) == dict.fromkeys((*SERIES, *extra), uplinks.n)
    store = InfluxStore(influx.url, DATABASE, rollups=None)
    end = uplinks.base + timedelta(milliseconds=uplinks.n)
    got = store.read(Selection.of("humidity_pct"), uplinks.base, end)
    store.close()
    lo = uplinks.window[0]
    per_device = {key.device: got.series(i)[0] for i, key in enumerate(got.keys)}
    assert sorted(per_device) == sorted(FLEET)
    for device, times in per_device.items():
        f_cnts = [(int(t) - lo) // MS // DEVICES + 1 for t in times]
        assert len(f_cnts) == len(set(f_cnts)), f"{device}: an fCnt stored twice"
        assert set(f_cnts) == uplinks.f_cnts(device), f"{device}: fCnts missing"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def influx(tmp_path: Path) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    store = InfluxStore(server.url, DATABASE, rollups=None)
    store.create_database()
    store.close()
    yield server
    server.stop()


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    state = StateStore(url)
    state.migrate()
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_yaml(), encoding="utf-8")
    import_registry(state, registry)
    state.dispose()
    return url


@pytest.fixture
def state(state_url: str) -> Iterator[StateStore]:
    store = StateStore(state_url)
    yield store
    store.dispose()


@pytest.fixture
def publisher(broker: MosquittoServer) -> Iterator[Publisher]:
    client = Publisher(broker)
    yield client
    client.close()


@pytest.fixture
def start_worker(
    tmp_path: Path, state: StateStore, influx: InfluxServer, broker: MosquittoServer
) -> Iterator[Callable[..., Worker]]:
    """Start in-process workers; whatever happens in the test, they are stopped after it."""
    started: list[Worker] = []

    def start(name: str, **options: object) -> Worker:
        worker = Worker(name, tmp_path, state, influx, broker, **options)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def start_process() -> Iterator[Callable[[Path, Path, int], IngestProcess]]:
    """Start ``vigie ingest`` processes; any still running after the test is killed."""
    started: list[IngestProcess] = []

    def start(config: Path, log: Path, metrics_port: int) -> IngestProcess:
        process = IngestProcess(config, log, metrics_port)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def background() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1, thread_name_prefix="network-server") as pool:
        yield pool


def report(name: str, **numbers: object) -> None:
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in numbers.items()))


# -- (a) the store goes away for 30 s --------------------------------------------------------------


def test_a_30_s_store_outage_mid_stream_loses_and_duplicates_nothing(
    influx: InfluxServer,
    start_worker: Callable[..., Worker],
    publisher: Publisher,
    background: ThreadPoolExecutor,
) -> None:
    uplinks = Uplinks(an_hour_ago(), 10_000)
    worker = start_worker("vigie-a", batch_size=500)
    started = time.monotonic()
    stream = background.submit(publisher.send, uplinks.messages(), 40.0)  # 250 frames/s
    time.sleep(5)
    influx.stop()
    down_at, frames_before = time.monotonic(), worker.frames("stored")
    time.sleep(30)  # the outage, while the network server keeps publishing
    frames_during, spooled = worker.frames("stored") - frames_before, worker.spool.depth
    influx.start()
    outage_s = time.monotonic() - down_at
    stream.result(WAIT_S)
    publisher.wait_acknowledged()
    wait_for(lambda: worker.spool.depth == 0, "spool drained")
    wait_for(lambda: stored_humidity(influx, uplinks.window) == uplinks.n, "all frames stored")
    worker.stop()
    report(
        "a",
        frames=uplinks.n,
        outage_s=round(outage_s, 1),
        frames_durable_during_outage=frames_during,
        readings_spooled=worker.readings("spool"),
        total_s=round(time.monotonic() - started, 1),
    )

    assert outage_s >= 30
    assert frames_during > 0.5 * 30 * 250, "the consumer kept consuming into the spool"
    assert spooled > 0 and worker.readings("spool") > 0
    assert worker.spool.depth == 0 and worker.spool.batches == 0
    assert worker.frames("stored") == uplinks.n, "each frame made durable exactly once"
    assert worker.frames("deduplicated") == 0
    assert worker.readings("store") == 8 * uplinks.n, "each reading written to InfluxDB once"
    assert_exactly_stored(influx, uplinks)


# -- (b) the ingest process is killed --------------------------------------------------------------


def ingest_config(
    tmp: Path, broker: MosquittoServer, influx: InfluxServer, state_url: str, metrics_port: int
) -> Path:
    config = tmp / "vigie.toml"
    config.write_text(
        f"""\
[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "vigie-b"

[ingest]
spool_path = "{tmp / "spool.sqlite"}"
batch_size = 500
batch_ms = 50
retry_s = 1.0
metrics_port = {metrics_port}

[store]
backend = "influxdb"

# These tests count the points influxd was asked to write (pointReq) to prove each frame is
# written once: rollup marks (one point per quantity and hour touched) would blur that count.
# Rollups under crashes and late writes are tests/core/test_rollups.py's business.
[store.rollups]
enabled = false

[store.influxdb]
url = "{influx.url}"
database = "{DATABASE}"
timeout_s = 2.0

[state]
url = "{state_url}"
""",
        encoding="utf-8",
    )
    return config


def test_b_ingest_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(
    tmp_path: Path,
    broker: MosquittoServer,
    influx: InfluxServer,
    state_url: str,
    start_process: Callable[[Path, Path, int], IngestProcess],
    publisher: Publisher,
    background: ThreadPoolExecutor,
) -> None:
    uplinks = Uplinks(an_hour_ago(), 10_000)
    port = free_port()
    config = ingest_config(tmp_path, broker, influx, state_url, port)
    ensure_session(broker, "vigie-b", None)
    started = time.monotonic()
    first = start_process(config, tmp_path / "ingest-1.log", port)
    stream = background.submit(publisher.send, uplinks.messages(), 8.0)  # 1,250 frames/s
    wait_for(lambda: stored_humidity(influx, uplinks.window) >= 2000, "first worker storing")
    first.kill()
    at_kill = stored_humidity(influx, uplinks.window)
    assert not stream.done() and at_kill < uplinks.n, "killed mid-stream"
    second = start_process(config, tmp_path / "ingest-2.log", port)
    stream.result(WAIT_S)
    publisher.wait_acknowledged()
    wait_for(lambda: stored_humidity(influx, uplinks.window) == uplinks.n, "all frames stored")
    redone = second.frames("stored") - (uplinks.n - at_kill)
    assert second.terminate() == 0, tail(second.log)
    report(
        "b",
        frames=uplinks.n,
        durable_at_kill=at_kill,
        stored_again_after_restart=redone,
        total_s=round(time.monotonic() - started, 1),
    )

    assert first.process.returncode == -signal.SIGKILL
    assert redone < 2 * 500 + 1, "only the unacknowledged batches came back"
    assert_exactly_stored(influx, uplinks)
    # What both processes let through, counted by the store: each frame once, plus at most
    # the batches the first process had taken but not acknowledged when it was killed.
    received = points_received(influx)
    assert received % LINES_PER_UPLINK == 0
    assert uplinks.n <= received // LINES_PER_UPLINK <= uplinks.n + 2 * 500


# -- (c) the broker restarts -----------------------------------------------------------------------


def test_c_broker_restart_mid_stream_loses_nothing(
    broker: MosquittoServer,
    influx: InfluxServer,
    start_worker: Callable[..., Worker],
    publisher: Publisher,
    background: ThreadPoolExecutor,
) -> None:
    uplinks = Uplinks(an_hour_ago(), 10_000)
    worker = start_worker("vigie-c", batch_size=500)
    started = time.monotonic()
    stream = background.submit(publisher.send, uplinks.messages(), 8.0)
    wait_for(lambda: stored_humidity(influx, uplinks.window) >= 2000, "worker storing")
    broker.restart()  # SIGTERM (persistence written), then the same port and data dir
    assert not stream.done(), "restarted mid-stream"
    at_restart = publisher.acked
    stream.result(WAIT_S)
    publisher.wait_acknowledged()
    wait_for(lambda: stored_humidity(influx, uplinks.window) == uplinks.n, "all frames stored")
    assert worker.alive
    worker.stop()
    report(
        "c",
        frames=uplinks.n,
        acknowledged_at_restart=at_restart,
        redelivered_and_deduplicated=worker.frames("deduplicated"),
        total_s=round(time.monotonic() - started, 1),
    )

    assert at_restart < uplinks.n
    assert worker.frames("stored") == uplinks.n
    assert_exactly_stored(influx, uplinks)
    # Redeliveries after the restart never reached the store: each frame written once.
    assert points_received(influx) == LINES_PER_UPLINK * uplinks.n


# -- (d) two workers share the subscription --------------------------------------------------------


def test_d_two_workers_on_a_shared_subscription_share_without_loss_or_duplicates(
    influx: InfluxServer,
    start_worker: Callable[..., Worker],
    publisher: Publisher,
) -> None:
    uplinks = Uplinks(an_hour_ago(), 10_000)
    workers = [
        start_worker(name, shared_group="vigie", batch_size=500)
        for name in ("vigie-d-1", "vigie-d-2")
    ]
    started = time.monotonic()
    publisher.send(uplinks.messages())
    publisher.wait_acknowledged()
    wait_for(lambda: stored_humidity(influx, uplinks.window) == uplinks.n, "all frames stored")
    wait_for(lambda: sum(w.handled for w in workers) >= uplinks.n, "all frames acknowledged")
    for worker in workers:
        worker.stop()
    report(
        "d",
        frames=uplinks.n,
        shares=[w.handled for w in workers],
        total_s=round(time.monotonic() - started, 1),
    )

    assert all(w.handled > 0 for w in workers)
    assert sum(w.handled for w in workers) == uplinks.n, "each frame delivered to one worker"
    assert sum(w.frames("stored") for w in workers) == uplinks.n
    assert sum(w.frames("deduplicated") for w in workers) == 0
    assert_exactly_stored(influx, uplinks)
    assert points_received(influx) == LINES_PER_UPLINK * uplinks.n, "each frame written once"


# -- (e) fuzzed frames among good ones -------------------------------------------------------------

FUZZ_SEED = 20261102
NOT_INT = st.one_of(
    st.text(string.ascii_letters, min_size=1, max_size=8),
    st.lists(st.integers(), min_size=1, max_size=3),
)
# Each fault: (kind, parameter), made into a frame by ``bad_frame``.
FAULTS = st.one_of(
    st.tuples(st.just("truncated_json"), st.floats(0.0, 1.0, exclude_max=True)),
    st.tuples(st.just("random_bytes"), st.binary(min_size=1, max_size=120)),
    st.tuples(st.just("wrong_fport"), st.integers(1, 255).filter(lambda p: p not in LHT65_PORTS)),
    st.tuples(st.just("truncated_payload"), st.integers(1, len(LHT65) - 1)),
    st.tuples(st.just("unknown_device"), st.integers(0, 2**32 - 1)),
    st.tuples(
        st.just("bad_time"),
        st.one_of(
            st.integers(61 * 86400, 50 * 365 * 86400).map(lambda s: -s),  # too old
            st.integers(3600, 50 * 365 * 86400),  # in the future
            st.text(string.ascii_letters + " :-", max_size=20),  # not a time at all
        ),
    ),
    st.tuples(
        st.just("bad_base64"),
        st.one_of(
            # 4k + 1 characters are never base64
            st.text(string.ascii_letters + "+/", min_size=1, max_size=17).map(
                lambda s: s[: len(s) - (len(s) - 1) % 4]
            ),
            # a character outside the alphabet inserted into the frame's own data
            st.tuples(st.integers(0, 15), st.sampled_from("!-_ .*#")),
        ),
    ),
    st.tuples(
        st.just("wrong_type"),
        st.tuples(st.sampled_from(["fCnt", "fPort", "deviceInfo", "txInfo"]), NOT_INT),
    ),
    st.tuples(
        st.just("radio_out_of_range"),
        st.one_of(st.integers(21, 10**6), st.integers(-(10**6), -201)),
    ),
)
# The reason each kind must be dead-lettered with; random bytes fail in one of several ways.
REASON = {
    "truncated_json": "bad_json",
    "wrong_fport": "wrong_fport",
    "truncated_payload": "truncated",
    "unknown_device": "unknown_device",
    "bad_time": "bad_time",
    "bad_base64": "bad_envelope",
    "wrong_type": "bad_envelope",
    "radio_out_of_range": "out_of_range",
}
# Lines a bad frame still writes: the radio's, when only its payload is refused; all four
# (the radio's without its RSSI) when only the RSSI is out of range.
PARTIAL_LINES = {"wrong_fport": 1, "truncated_payload": 1, "radio_out_of_range": 4}
RANDOM_REASONS = {"bad_json", "bad_protobuf", "bad_envelope", "bad_time", "unknown_device"}


def draw_faults(n: int, per_example: int = 25) -> list[tuple[str, object]]:
    """n faults, the same every run (a fixed seed, no example database); drawn in lists, as
    Hypothesis's cost is per example."""
    faults: list[tuple[str, object]] = []

    @seed(FUZZ_SEED)
    @settings(
        max_examples=n // per_example,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(FAULTS, min_size=per_example, max_size=per_example))
    def collect(drawn: list[tuple[str, object]]) -> None:
        faults.extend(drawn)

    collect()
    assert len(faults) == n
    return faults


def bad_frame(j: int, kind: str, param: object, base: datetime) -> tuple[str, bytes]:
    """Bad frame number ``j``: its own DevEUI/fCnt/time/deduplicationId, then the fault."""
    frame = Frame(
        FLEET[j % DEVICES],
        j // DEVICES + 1,
        2,
        LHT65,
        base + timedelta(milliseconds=j),
        dedup_id=str(uuid.UUID(int=(2 << 64) + j)),
    )
    if kind == "random_bytes":
        assert isinstance(param, bytes)
        return chirpstack_topic(f"eeee{j:012x}"), param
    if kind == "wrong_fport":
        assert isinstance(param, int)
        return chirpstack_up_json(replace(frame, f_port=param))
    if kind == "truncated_payload":
        assert isinstance(param, int)
        return chirpstack_up_protobuf(replace(frame, payload=LHT65[:param]))
    if kind == "unknown_device":
        assert isinstance(param, int)
        return chirpstack_up_json(replace(frame, dev_eui=f"ffff{param:08x}{j:04x}"))
    if kind == "bad_time" and isinstance(param, int):
        return chirpstack_up_protobuf(
            replace(frame, time=datetime.now(UTC) + timedelta(seconds=param))
        )
    topic, payload = chirpstack_up_json(frame)
    if kind == "truncated_json":
        assert isinstance(param, float)
        start = payload.index(b'"time"')  # cut after the deduplicationId: a unique prefix
        return topic, payload[: start + int(param * (len(payload) - start))]
    doc = json.loads(payload)
    if kind == "bad_time":
        doc["time"] = param
    elif kind == "bad_base64":
        if isinstance(param, str):
            doc["data"] = param
        else:
            assert isinstance(param, tuple)
            at, char = param
            doc["data"] = doc["data"][:at] + char + doc["data"][at:]
    elif kind == "wrong_type":
        assert isinstance(param, tuple)
        field, value = param
        doc[field] = value
    elif kind == "radio_out_of_range":
        doc["rxInfo"][0]["rssi"] = param
    return topic, json.dumps(doc).encode()


def test_e_fuzzed_frames_are_dead_lettered_one_each_and_every_good_frame_is_stored(
    influx: InfluxServer,
    state: StateStore,
    start_worker: Callable[..., Worker],
    publisher: Publisher,
) -> None:
    base = an_hour_ago()
    good = Uplinks(base, 100_000)
    faults = draw_faults(10_000)
    bad = [
        bad_frame(j, kind, p, base + timedelta(seconds=200)) for j, (kind, p) in enumerate(faults)
    ]
    assert len(set(bad)) == len(bad), "unique bad frames (identical ones share a dead letter)"
    messages: list[tuple[str, bytes]] = []
    for k, message in enumerate(good.messages()):
        messages.append(message)
        if k % 10 == 9:
            messages.append(bad[k // 10])
    worker = start_worker("vigie-e")
    letters = DeadLetterStore(state)
    started = time.monotonic()
    publisher.send(messages)
    published_s = time.monotonic() - started
    publisher.wait_acknowledged()
    wait_for(lambda: stored_humidity(influx, good.window) == good.n, "all good frames stored")
    wait_for(lambda: sum(letters.counts().values()) >= len(bad), "all bad frames dead-lettered")
    elapsed_s = time.monotonic() - started
    assert worker.alive, "the consumer survived every frame"
    worker.stop()
    by_reason = Counter({reason: n for (reason, _), n in letters.counts().items()})
    report(
        "e",
        frames=len(messages),
        bad=len(bad),
        kinds=dict(Counter(kind for kind, _ in faults)),
        letters=dict(by_reason),
        publish_s=round(published_s, 1),
        total_s=round(elapsed_s, 1),
        frames_per_s=round(len(messages) / elapsed_s),
    )

    assert sum(by_reason.values()) == len(bad)
    assert {(x.topic, x.payload) for x in letters.list(limit=2 * len(bad))} == set(bad)
    certain = Counter(REASON[kind] for kind, _ in faults if kind in REASON)
    assert by_reason >= certain, "each fault kind under its own reason"
    assert set(by_reason - certain) <= RANDOM_REASONS
    assert (by_reason - certain).total() == sum(1 for kind, _ in faults if kind == "random_bytes")
    assert worker.frames("stored") >= good.n and worker.frames("deduplicated") == 0
    assert_exactly_stored(influx, good)
    # What the store was asked to write: each good frame once, and the good part of the bad
    # frames that have one (all but the refused RSSI; the radio of a frame whose payload is
    # refused) — nothing twice.
    partial = sum(PARTIAL_LINES.get(kind, 0) for kind, _ in faults)
    assert points_received(influx) == LINES_PER_UPLINK * good.n + partial


# -- (f) ChirpStack's status events share their uplink's deduplicationId --------------------------


def test_f_a_status_then_its_uplink_with_the_same_id_are_both_stored_once(
    influx: InfluxServer,
    start_worker: Callable[..., Worker],
    publisher: Publisher,
) -> None:
    """ChirpStack publishes the status event of a DevStatusAns first, with the deduplicationId
    of the uplink that carried it; then the uplink. Every uplink must be stored exactly once, a
    redelivered uplink stays a duplicate, and the store sees no write twice."""
    uplinks = Uplinks(an_hour_ago(), 10_000)
    messages: list[tuple[str, bytes]] = []
    for k in range(uplinks.n):
        frame = uplinks.frame(k)
        status = chirpstack_status_protobuf if k % 3 == 2 else chirpstack_status
        messages.append(status(frame.dev_eui, frame.time, 87.0, 9, frame.dedup_id))
        messages.append(uplinks.message(k))
        if k % 10 == 0:
            messages.append(uplinks.message(k))  # the network server publishes it again
    worker = start_worker("vigie-f", batch_size=500)
    started = time.monotonic()
    publisher.send(messages)
    publisher.wait_acknowledged()
    wait_for(lambda: worker.handled >= len(messages), "every message acknowledged")
    worker.stop()
    report(
        "f",
        messages=len(messages),
        stored=worker.frames("stored"),
        deduplicated=worker.frames("deduplicated"),
        total_s=round(time.monotonic() - started, 1),
    )

    status_series = (("battery_pct", "devstatus"), ("margin_db", ""))
    assert_exactly_stored(influx, uplinks, extra=status_series)
    assert worker.frames("stored") == 2 * uplinks.n, "each status and each uplink"
    assert worker.frames("deduplicated") == uplinks.n // 10, "redelivered uplinks only"
    assert points_received(influx) == (LINES_PER_UPLINK + 2) * uplinks.n  # a status: 2 series

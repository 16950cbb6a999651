"""Ingest throughput: 200,000 ChirpStack uplinks of 10,000 devices, MQTT → InfluxDB, durable.

Usage: python bench/ingest.py [--frames N] [--devices N] [--batch-size N] [--protobuf-share F]
                              [--workers N[,N...]] [--mqtt 5|3.1.1] [--peer nodered]
                              [--profile FILE]
Prints a table and writes bench/results/ingest.json (ingest-N-workers.json with ``--workers N``,
a ``-mqtt311`` suffix with ``--mqtt 3.1.1``: ingest and ceiling then both speak MQTT 3.1.1).
``--workers 1,2`` runs Vigie once per count on the same published frames (each run its own
sessions and database). ``--peer nodered`` (when ``npm`` is present) installs Node-RED 4.1 and
node-red-contrib-influxdb in a temp folder and runs the same frames through the equivalent batched
flow (``bench/ingest_nodered.py``) before Vigie; it prints the side-by-side table with the ratios
and writes bench/results/ingest-nodered.json. The load average is printed before each run: on a
shared machine, ratios measured in one run are what compare.
With ``--profile``, py-spy (if installed) samples the (first) ingest process, all threads, during
the timed window; its raw stacks go to FILE, the top functions are printed, no JSON is written.

Method:

1. A private mosquitto (persistence on, no queue or inflight limits) and a private influxd
   (Debian's 1.6) in a temp dir, loopback only; a SQLite state store with ``--devices`` Dragino
   LHT65 imported (11-byte frames: 4 readings, plus 4 radio readings: 8 a frame).
2. Two persistent sessions are created, each by one subscribe (QoS 1; MQTT 5 clean_start False
   and a session expiry, or MQTT 3.1.1 clean_session False) with the same topic filters as
   ingest: the ingest worker's client id and the ceiling subscriber's.
3. All frames are then published, QoS 1 (ChirpStack v4 ``up`` JSON; ``--protobuf-share`` of them in
   binary protobuf; each with its own fCnt, time and deduplicationId); the broker queues each in
   both sessions. The publisher disconnects before anything is timed: it competes for no CPU.
4. Ceiling: a bare paho subscriber (this process, same MQTT version, QoS 1, paho's automatic
   PUBACK) connects to its session and only json-parses and base64-decodes each message
   (protobuf frames: parses them). Frames/s from its connect to the last message; CPU seconds of
   this process meanwhile.
5. Ingest: ``python -m vigie ingest --config FILE``, a subprocess — the production worker with its
   own CPU and RSS. The clock starts when its /metrics answers (imports done, consumer starting)
   and stops when ``vigie_ingest_frames_total{outcome="stored"}`` reaches the frame count, which the
   pipeline counts only once a frame's readings are durable (polled every 50 ms). CPU seconds are
   the process's user+system time over that window (from /proc), peak RSS its VmHWM; influxd's
   and mosquitto's CPU over the same window are shown too, since on two cores they compete.
   ``--workers N`` runs N such processes on a shared subscription (``$share/vigie/...``; their
   sessions are created in step 2, so the broker splits the frames between them at publish time)
   and adds up their frames and CPU.
6. InfluxDB is then checked to hold every reading exactly once (count per quantity).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from chirpstack_api import integration
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ingest_nodered as peer  # noqa: E402
from core.config import IngestSettings, MqttSettings  # noqa: E402
from core.state.registry_io import import_registry  # noqa: E402
from core.state.store import StateStore  # noqa: E402
from core.stores.influx import InfluxStore  # noqa: E402
from ingest.consumer import RECEIVE_MAXIMUM, SESSION_EXPIRY_S, topic_filters  # noqa: E402
from simulator.envelopes import Frame, chirpstack_up_json, chirpstack_up_protobuf  # noqa: E402
from tests.services import LOOPBACK, InfluxServer, MosquittoServer, free_port  # noqa: E402

LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")
INGEST_ID = "vigie-bench"
CEILING_ID = "bench-ceiling"
SHARED_GROUP = "vigie"
DATABASE = "bench"
NODERED_ID = "bench-nodered"
NODERED_DB = "bench_nodered"
TICKS = os.sysconf("SC_CLK_TCK")


def connect_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return props


def client(client_id: str, protocol: str = "5") -> mqtt.Client:
    """A paho client; MQTT 3.1.1 ones keep their session (clean_session False)."""
    if protocol == "5":
        return mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )


def connect(c: mqtt.Client, broker: MosquittoServer, protocol: str) -> None:
    if protocol == "5":
        c.connect(broker.host, broker.port, clean_start=False, properties=connect_props())
    else:
        c.connect(broker.host, broker.port)


def create_session(
    broker: MosquittoServer, client_id: str, protocol: str, group: str | None = None
) -> None:
    """One subscribe on a persistent session: from now on the broker queues for it."""
    c = client(client_id, protocol)
    done = threading.Event()
    filters = topic_filters(IngestSettings(), MqttSettings(shared_group=group))
    c.on_connect = lambda cl, *_: cl.subscribe([(f, 1) for f in filters])
    c.on_subscribe = lambda *_: done.set()
    connect(c, broker, protocol)
    c.loop_start()
    if not done.wait(10):
        raise RuntimeError(f"no SUBACK for {client_id}")
    c.disconnect()
    c.loop_stop()


def publish(broker: MosquittoServer, messages: list[tuple[str, bytes]]) -> float:
    """QoS 1, at most 2,000 unacknowledged (paho's 16-bit message ids); seconds taken."""
    c = client("bench-publisher")
    c.max_inflight_messages_set(0)  # bounded below instead: paho scans its queue per PUBACK
    cond = threading.Condition()
    acked = [0]

    def on_publish(*_: object) -> None:
        with cond:
            acked[0] += 1
            cond.notify_all()

    c.on_publish = on_publish
    c.connect(broker.host, broker.port)
    c.loop_start()
    t0 = time.perf_counter()
    sent = [0]
    for topic, payload in messages:
        with cond:
            if not cond.wait_for(lambda: sent[0] - acked[0] < 2000, 60):
                raise RuntimeError(f"broker acknowledged {acked[0]} of {sent[0]}")
            sent[0] += 1
        c.publish(topic, payload, qos=1)  # outside our lock: on_publish runs under paho's
    with cond:
        if not cond.wait_for(lambda: acked[0] == len(messages), 120):
            raise RuntimeError(f"broker acknowledged {acked[0]} of {len(messages)}")
    seconds = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return seconds


def ceiling(broker: MosquittoServer, n: int, protocol: str) -> dict[str, float]:
    """A bare subscriber on its session: parse and base64-decode only; frames/s and CPU s."""
    got = [0]
    done = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        payload = msg.payload
        if payload[:1] == b"{":
            base64.b64decode(json.loads(payload)["data"], validate=True)
        else:
            integration.UplinkEvent().ParseFromString(payload)
        got[0] += 1
        if got[0] == n:
            done.set()

    c = client(CEILING_ID, protocol)
    c.on_message = on_message
    cpu0, t0 = time.process_time(), time.perf_counter()
    connect(c, broker, protocol)
    c.loop_start()
    if not done.wait(600):
        raise RuntimeError(f"ceiling subscriber got {got[0]} of {n}")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    c.disconnect()
    c.loop_stop()
    return {"frames_per_s": n / seconds, "seconds": seconds, "cpu_s": cpu}


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stored_frames(metrics_url: str) -> int:
    try:
        text = httpx.get(metrics_url, timeout=2).text
    except httpx.TransportError:
        return -1
    for line in text.splitlines():
        if line.startswith('vigie_ingest_frames_total{outcome="stored"}'):
            return int(float(line.split()[-1]))
    return 0


def worker_config(
    tmp: Path,
    name: str,
    broker: MosquittoServer,
    influx: InfluxServer,
    state_url: str,
    database: str,
    **ingest: Any,
) -> Path:
    group = f'shared_group = "{SHARED_GROUP}"' if ingest.pop("shared") else ""
    protocol = ingest.pop("protocol")
    config = tmp / f"{name}.toml"
    config.write_text(
        f"""\
[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "{name}"
protocol = "{protocol}"
{group}

[ingest]
spool_path = "{tmp / f"{name}-spool.sqlite"}"
batch_size = {ingest["batch_size"]}
metrics_port = {ingest["metrics_port"]}

[store]
backend = "influxdb"

[store.influxdb]
url = "{influx.url}"
database = "{database}"
timeout_s = 30

[state]
url = "{state_url}"
"""
    )
    return config


def ingest(
    tmp: Path,
    broker: MosquittoServer,
    influx: InfluxServer,
    state_url: str,
    n: int,
    batch_size: int,
    workers: list[str],
    protocol: str,
    profile: Path | None,
    database: str = DATABASE,
) -> dict[str, float]:
    """Run the ``vigie ingest`` workers until they have made n frames durable, together."""
    ports = [free_port() for _ in workers]
    urls = [f"http://{LOOPBACK}:{port}/metrics" for port in ports]
    logs = [(tmp / f"{name}.log").open("wb") for name in workers]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigie",
                "ingest",
                "--config",
                str(
                    worker_config(
                        tmp,
                        name,
                        broker,
                        influx,
                        state_url,
                        database,
                        batch_size=batch_size,
                        metrics_port=port,
                        shared=len(workers) > 1,
                        protocol=protocol,
                    )
                ),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for name, port, log in zip(workers, ports, logs, strict=True)
    ]
    pids = [p.pid for p in processes]
    others = {"influxd": influx.pid, "mosquitto": broker.pid}
    try:
        while any(stored_frames(url) < 0 for url in urls):
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"ingest exited: see the logs in {tmp}")
            time.sleep(0.01)
        t0, cpu0 = time.perf_counter(), sum(cpu_s(pid) for pid in pids)
        other0 = {name: cpu_s(pid) for name, pid in others.items() if pid}
        spy = profiler(pids[0], profile) if profile else None
        while (done := sum(stored_frames(url) for url in urls)) < n:
            if any(p.poll() is not None for p in processes) or time.perf_counter() - t0 > 900:
                raise RuntimeError(f"ingest stalled at {done} of {n} frames")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        cpu = sum(cpu_s(pid) for pid in pids) - cpu0
        other = {f"{k}_cpu_s": cpu_s(pid) - other0[k] for k, pid in others.items() if pid}
        rss = max(peak_rss_mb(pid) for pid in pids)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        for log in logs:
            log.close()
    return {
        "frames_per_s": n / seconds,
        "seconds": seconds,
        "cpu_s": cpu,
        "startup_cpu_s": cpu0,
        "peak_rss_mb": rss,
        **other,
    }


def profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--threads", "--format", "raw"]
    return subprocess.Popen(
        [*command, "--rate", "200", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_functions(raw: Path, top: int = 25) -> list[tuple[str, float, float]]:
    """(function, self share, inclusive share) from py-spy's collapsed stacks, by self time."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0] + ")"
            for f in stack.split(";")
        ]
        total += int(count)
        own[frames[-1]] += int(count)
        for f in set(frames):
            inclusive[f] += int(count)
    return [(f, n / total, inclusive[f] / total) for f, n in own.most_common(top)]


def check_stored(
    influx: InfluxServer, n: int, base: datetime, database: str = DATABASE
) -> dict[str, int]:
    lo = int(base.timestamp()) * 1_000_000_000
    hi = lo + n * 1_000_000
    query = ";".join(
        f'SELECT count(*) FROM "{m}" WHERE time >= {lo} AND time < {hi} GROUP BY "channel"'
        for m in ("climate", "device", "radio")
    )
    body = httpx.post(
        f"{influx.url}/query", params={"db": database}, data={"q": query}, timeout=60
    ).json()
    counts: dict[str, int] = {}
    for result in body["results"]:
        for series in result.get("series", []):
            channel = (series.get("tags") or {}).get("channel") or ""
            for column, value in zip(series["columns"], series["values"][0], strict=True):
                if column.startswith("count_") and value:
                    counts[column[6:] + (f":{channel}" if channel else "")] = value
    return counts


def registry(devices: list[str]) -> str:
    rows = "\n".join(
        f'  - {{dev_eui: "{d}", tenant: caudry, codec_id: dragino/lht65, role: climate,'
        f" building: b{i % 50}}}"
        for i, d in enumerate(devices)
    )
    buildings = "\n".join(
        f"  - {{code: b{i}, site: caudry-centre, name: Bâtiment {i}}}" for i in range(50)
    )
    return f"""
tenants:
  - {{code: caudry, name: Caudry, kind: commune, insee: "59139"}}
sites:
  - {{code: caudry-centre, tenant: caudry, name: Centre}}
buildings:
{buildings}
devices:
{rows}
"""


def nodered(
    tmp: Path,
    broker: MosquittoServer,
    influx: InfluxServer,
    n: int,
    batch_size: int,
    protocol: str,
    devices: list[str],
) -> dict[str, float] | None:
    """The peer's run: Node-RED on its session until InfluxDB took n frames from it."""
    folder = peer.install(tmp / "nodered", print)
    if folder is None:
        return None
    port = free_port()
    tags = {d: {"tenant": "caudry", "building": f"b{i % 50}"} for i, d in enumerate(devices)}
    flows = peer.flow(
        broker=(broker.host, broker.port),
        client_id=NODERED_ID,
        protocol=protocol,
        topic="application/+/device/+/event/up",
        influx=(LOOPBACK, int(influx.url.rsplit(":", 1)[1])),
        database=NODERED_DB,
        batch=batch_size,
        registry=tags,
    )
    process = peer.start(folder, tmp / "nodered-user", port, flows)
    others = {"influxd": influx.pid, "mosquitto": broker.pid}
    try:
        while peer.stored(port) < 0:
            if process.poll() is not None:
                raise RuntimeError(f"Node-RED exited: see {tmp / 'nodered-user'}")
            time.sleep(0.01)
        t0, cpu0 = time.perf_counter(), cpu_s(process.pid)
        other0 = {name: cpu_s(pid) for name, pid in others.items() if pid}
        while (done := peer.stored(port)) < n:
            if process.poll() is not None or time.perf_counter() - t0 > 900:
                raise RuntimeError(f"Node-RED stalled at {done} of {n} frames")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        cpu = cpu_s(process.pid) - cpu0
        other = {f"{k}_cpu_s": cpu_s(pid) - other0[k] for k, pid in others.items() if pid}
        rss = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    return {
        "frames_per_s": n / seconds,
        "seconds": seconds,
        "cpu_s": cpu,
        "startup_cpu_s": cpu0,
        "peak_rss_mb": rss,
        **other,
    }


def row(run: dict[str, float], n: int) -> dict[str, float]:
    return {
        "frames_per_s": round(run["frames_per_s"]),
        "cpu_us_per_frame": round(1e6 * run["cpu_s"] / n),
        "peak_rss_mb": round(run.get("peak_rss_mb", float("nan"))),
        "influxd_cpu_us_per_frame": round(1e6 * run.get("influxd_cpu_s", float("nan")) / n),
        "mosquitto_cpu_us_per_frame": round(1e6 * run.get("mosquitto_cpu_s", float("nan")) / n),
        "load_average_1m": round(run.get("load_1m", float("nan")), 2),
    }


def worker_names(count: int) -> list[str]:
    return [INGEST_ID] if count == 1 else [f"{INGEST_ID}-{count}-{i + 1}" for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--protobuf-share", type=float, default=0.0)
    parser.add_argument(
        "--workers",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[1],
        help="ingest processes on a shared subscription; a list (1,2) runs each count in turn",
    )
    parser.add_argument("--mqtt", choices=["5", "3.1.1"], default="5", help="MQTT version")
    parser.add_argument("--peer", choices=["nodered"], default=None, help="run the peer too")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw stacks to FILE")
    args = parser.parse_args()
    n, load = args.frames, os.getloadavg()
    if args.peer and args.protobuf_share:
        parser.error("the Node-RED flow reads JSON events only")

    devices = [f"a84042fb{i:08x}" for i in range(args.devices)]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    every = round(1 / args.protobuf_share) if args.protobuf_share else 0
    t0 = time.perf_counter()
    messages = [
        (chirpstack_up_protobuf if every and k % every == 0 else chirpstack_up_json)(
            Frame(
                devices[k % len(devices)],
                k // len(devices) + 1,
                2,
                LHT65,
                base + timedelta(milliseconds=k),
                dedup_id=str(uuid.UUID(int=k)),
            )
        )
        for k in range(n)
    ]
    print(f"made {n:,} frames for {len(devices):,} devices in {time.perf_counter() - t0:.1f} s")

    runs: dict[int, dict[str, float]] = {}
    counts: dict[int, dict[str, int]] = {}
    peer_run: dict[str, float] | None = None
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        state_url = f"sqlite:///{tmp / 'state.sqlite'}"
        state = StateStore(state_url)
        state.migrate()
        (tmp / "registry.yaml").write_text(registry(devices), encoding="utf-8")
        print(f"registry: {import_registry(state, tmp / 'registry.yaml')}")
        state.dispose()
        with (
            MosquittoServer(tmp / "mosquitto") as broker,
            InfluxServer(tmp / "influxd") as influx,
        ):
            for database in [database_of(w) for w in args.workers] + [NODERED_DB]:
                store = InfluxStore(influx.url, database)
                store.create_database()
                store.close()
            for count in args.workers:
                for name in worker_names(count):
                    create_session(broker, name, args.mqtt, SHARED_GROUP if count > 1 else None)
            create_session(broker, CEILING_ID, args.mqtt)
            if args.peer:
                create_session(broker, NODERED_ID, args.mqtt)
            published_s = publish(broker, messages)
            print(f"published {n:,} frames in {published_s:.1f} s ({n / published_s:,.0f}/s)")
            del messages
            bare = ceiling(broker, n, args.mqtt)
            print(f"ceiling: {bare['frames_per_s']:,.0f} frames/s")
            if args.peer:
                load_1m = os.getloadavg()[0]
                print(f"load average before Node-RED: {load_1m:.2f}")
                peer_run = nodered(tmp, broker, influx, n, args.batch_size, args.mqtt, devices)
                if peer_run is not None:
                    peer_run["load_1m"] = load_1m
                    print(f"Node-RED: {peer_run['frames_per_s']:,.0f} frames/s")
                    got = check_stored(influx, n, base, NODERED_DB)
                    if sum(got.values()) != 8 * n or set(got.values()) != {n}:
                        raise SystemExit(f"InfluxDB does not hold Node-RED's readings once: {got}")
            for count in args.workers:
                load_1m = os.getloadavg()[0]
                print(f"load average before Vigie, {count} worker(s): {load_1m:.2f}")
                runs[count] = ingest(
                    tmp,
                    broker,
                    influx,
                    state_url,
                    n,
                    args.batch_size,
                    worker_names(count),
                    args.mqtt,
                    args.profile,
                    database_of(count),
                )
                runs[count]["load_1m"] = load_1m
                print(f"Vigie, {count} worker(s): {runs[count]['frames_per_s']:,.0f} frames/s")
                counts[count] = check_stored(influx, n, base, database_of(count))
    for count, got in counts.items():
        if sum(got.values()) != 8 * n or set(got.values()) != {n}:
            raise SystemExit(f"InfluxDB does not hold every reading once ({count}): {got}")

    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
    }
    if args.peer:
        side_by_side(args, n, len(devices), bare, peer_run, runs, machine)
    for count, run in runs.items():
        report(args, count, n, len(devices), bare, run, counts[count], published_s, machine)


def database_of(workers: int) -> str:
    return DATABASE if workers == 1 else f"{DATABASE}_{workers}"


def side_by_side(
    args: argparse.Namespace,
    n: int,
    devices: int,
    bare: dict[str, float],
    peer_run: dict[str, float] | None,
    runs: dict[int, dict[str, float]],
    machine: dict[str, Any],
) -> None:
    """The table of the same frames through Node-RED and Vigie, with Vigie's ratios to it."""
    rows: dict[str, dict[str, float]] = {}
    if peer_run is not None:
        rows["Node-RED 4.1 + node-red-contrib-influxdb, batched, QoS 1 (acks on receipt)"] = row(
            peer_run, n
        )
    rows["bare paho subscriber, json + base64 only (ceiling)"] = {
        "frames_per_s": round(bare["frames_per_s"]),
        "cpu_us_per_frame": round(1e6 * bare["cpu_s"] / n),
    }
    for count, run in runs.items():
        label = f"Vigie, {count} worker{'s' if count > 1 else ''} (durable, dedup, decoded)"
        rows[label] = row(run, n)
        if peer_run is not None:
            rows[label]["frames_per_s_ratio_to_nodered"] = round(
                run["frames_per_s"] / peer_run["frames_per_s"], 2
            )
            rows[label]["cpu_per_frame_ratio_to_nodered"] = round(
                run["cpu_s"] / peer_run["cpu_s"], 2
            )
    print(f"\n{n:,} frames of {devices:,} devices, batch {args.batch_size}, MQTT {args.mqtt}")
    print("| pipeline | frames/s | CPU µs/frame | peak RSS MB | load 1m | vs Node-RED |")
    print("|---|---|---|---|---|---|")
    for label, r in rows.items():
        ratio = ""
        if "frames_per_s_ratio_to_nodered" in r:
            ratio = (
                f"{r['frames_per_s_ratio_to_nodered']}× frames/s, "
                f"{r['cpu_per_frame_ratio_to_nodered']}× CPU/frame"
            )
        print(
            f"| {label} | {r['frames_per_s']:,} | {r['cpu_us_per_frame']} | "
            f"{r.get('peak_rss_mb', '')} | {r.get('load_average_1m', '')} | {ratio} |"
        )
    if args.profile:
        return
    out = ROOT / "bench" / "results" / "ingest-nodered.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "ingest side by side with Node-RED",
        "frames": n,
        "devices": devices,
        "batch_size": args.batch_size,
        "mqtt": args.mqtt,
        "rows": rows,
        "machine": machine,
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def report(
    args: argparse.Namespace,
    workers: int,
    n: int,
    devices: int,
    bare: dict[str, float],
    run: dict[str, float],
    counts: dict[str, int],
    published_s: float,
    machine: dict[str, Any],
) -> None:
    result: dict[str, Any] = {
        "benchmark": "ingest",
        "frames": n,
        "devices": devices,
        "readings_per_frame": 8,
        "protobuf_share": args.protobuf_share,
        "batch_size": args.batch_size,
        "ingest": "subprocess: python -m vigie ingest --config FILE",
        "workers": workers,
        "mqtt": args.mqtt,
        "durable_frames_per_s": round(run["frames_per_s"]),
        "durable_readings_per_s": round(8 * run["frames_per_s"]),
        "ingest_seconds": round(run["seconds"], 2),
        "ingest_cpu_s": round(run["cpu_s"], 2),
        "ingest_startup_cpu_s": round(run["startup_cpu_s"], 2),
        "ingest_peak_rss_mb": round(run["peak_rss_mb"]),  # of the largest worker
        "ingest_cpu_us_per_frame": round(1e6 * run["cpu_s"] / n),
        "ceiling_cpu_us_per_frame": round(1e6 * bare["cpu_s"] / n),
        "influxd_cpu_s": round(run.get("influxd_cpu_s", float("nan")), 2),
        "mosquitto_cpu_s": round(run.get("mosquitto_cpu_s", float("nan")), 2),
        "ceiling_frames_per_s": round(bare["frames_per_s"]),
        "ceiling_cpu_s": round(bare["cpu_s"], 2),
        "ratio_to_ceiling": round(run["frames_per_s"] / bare["frames_per_s"], 3),
        "target_frames_per_s": 20_000,
        "stored_readings": counts,
        "publish_frames_per_s": round(n / published_s),
        "load_average_1m_before": round(run.get("load_1m", float("nan")), 2),
        "machine": machine,
        "bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print()
    width = max(len(k) for k in result)
    for key, value in result.items():
        if key not in ("stored_readings", "machine"):
            print(f"{key:<{width}}  {value}")
    if args.profile and args.profile.exists():
        print(f"\nprofile ({args.profile}): self, inclusive — by self time")
        for function, own, inclusive in top_functions(args.profile):
            print(f"{100 * own:5.1f} % {100 * inclusive:5.1f} %  {function}")
        return  # a profiled run is slower: its numbers are not the benchmark's
    name = "ingest" + (f"-{workers}-workers" if workers > 1 else "")
    name += "-mqtt311.json" if args.mqtt == "3.1.1" else ".json"
    out = ROOT / "bench" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

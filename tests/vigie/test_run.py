"""`vigie run` as a service manager runs it: a real process on a real Mosquitto and InfluxDB.

A permanent failure (credentials refused, a database that is gone) ends the process with a
non-zero exit and one clear line; a store that goes away makes /health 503 while ingest cannot
make its batches durable, and 200 again once it can, with nothing lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from core.timeseries import Selection
from simulator.envelopes import Frame, chirpstack_up_json
from tests.services import InfluxServer, MosquittoServer, free_port, influx_query, tail

ROOT = Path(__file__).parents[2]
EUI = "a840414b61866d2c"
LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")  # 8 readings with the radio's
REGISTRY = f"""
tenants:
  - {{code: caudry, name: Caudry, kind: commune, insee: "59139"}}
devices:
  - {{dev_eui: "{EUI}", tenant: caudry, codec_id: dragino/lht65, role: climate}}
"""
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class VigieRun:
    """``python -m vigie run --config FILE`` (or another command) with its output in a log."""

    def __init__(self, config: Path, log: Path, api_port: int, command: str = "run") -> None:
        self.base = f"http://127.0.0.1:{api_port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vigie", command, "--config", str(config)],
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def health(self) -> tuple[int, dict[str, object]] | None:
        try:
            response = httpx.get(f"{self.base}/health", timeout=5)
        except httpx.TransportError:
            return None
        return response.status_code, response.json()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = 60) -> None:
    """Poll a real process's progress, bounded."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout_s:g} s: {what}")
        time.sleep(0.2)


def publish(broker: MosquittoServer, frames: range) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ns")
    client.connect(broker.host, broker.port)
    client.loop_start()
    infos = [
        client.publish(
            *chirpstack_up_json(Frame(EUI, k, 2, LHT65, T0 + timedelta(seconds=k))), qos=1
        )
        for k in frames
    ]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


def admin(influx: InfluxServer) -> InfluxStore:
    return InfluxStore(influx.url, "vigie", username="vigie", password="s3cret")


def humidity_points(influx: InfluxServer) -> int:
    store = admin(influx)
    try:
        got = store.read(Selection.of("humidity_pct"), T0, T0 + timedelta(hours=1))
    finally:
        store.close()
    return len(got.times)


@pytest.fixture
def influx(tmp_path: Path) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path / "influxd", auth=True)
    server.start()
    influx_query(server.url, "CREATE USER vigie WITH PASSWORD 's3cret' WITH ALL PRIVILEGES")
    store = admin(server)
    store.create_database()
    store.close()
    yield server
    server.stop()


@pytest.fixture
def start(
    tmp_path: Path, broker: MosquittoServer, influx: InfluxServer
) -> Iterator[Callable[..., VigieRun]]:
    """Start ``vigie run`` processes with a config of our making; stopped after the test."""
    state_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    state = StateStore(state_url)
    state.migrate()
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    import_registry(state, registry)
    state.dispose()
    started: list[VigieRun] = []

    def run(
        password: str = "s3cret", ingest: str = "", analytics: bool = False, command: str = "run"
    ) -> VigieRun:
        api_port = free_port()
        config = tmp_path / f"vigie-{len(started)}.toml"
        config.write_text(
            f"""\
[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "vigie-run-test"

[ingest]
spool_path = "{tmp_path / f"spool-{len(started)}.sqlite"}"
batch_ms = 50
retry_s = 0.5
retry_max_s = 1.0
{ingest}

[store]
backend = "influxdb"

[store.influxdb]
url = "{influx.url}"
database = "vigie"
username = "vigie"
password = "{password}"
timeout_s = 1.0

[state]
url = "{state_url}"

[api]
port = {api_port}

[analytics]
enabled = {str(analytics).lower()}
""",
            encoding="utf-8",
        )
        process = VigieRun(config, tmp_path / f"vigie-{len(started)}.log", api_port, command)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(10)


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_a_wrong_influxdb_password_stops_vigie_at_once_with_one_clear_line(
    start: Callable[..., VigieRun], command: str
) -> None:
    vigie = start(password="wrong", command=command, ingest="metrics_port = 0")
    code = vigie.process.wait(60)
    output = vigie.output()
    assert code != 0, output
    critical = [line for line in output.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1, output
    assert "Vigie cannot start" in critical[0] and "401" in critical[0], output
    assert "Traceback" not in output


def test_a_database_dropped_mid_run_stops_the_process_with_a_clear_line(
    start: Callable[..., VigieRun], broker: MosquittoServer, influx: InfluxServer
) -> None:
    vigie = start(analytics=True)
    wait_for(lambda: (vigie.health() or (0, {}))[0] == 200, f"healthy\n{tail(vigie.log)}")
    publish(broker, range(1, 4))
    wait_for(lambda: humidity_points(influx) == 3, "the first frames stored")
    store = admin(influx)
    store.drop_database()
    store.close()
    publish(broker, range(4, 6))
    code = vigie.process.wait(60)
    output = vigie.output()
    assert code != 0, output
    critical = [line for line in output.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1, output
    assert "ingest failed, Vigie stops" in critical[0], output
    assert "database not found" in critical[0], output
    assert "Traceback" not in output


def test_a_store_outage_makes_health_503_while_ingest_is_stuck_and_200_once_it_recovers(
    start: Callable[..., VigieRun], broker: MosquittoServer, influx: InfluxServer
) -> None:
    # A spool of 100 readings takes 12 frames: beyond, batches cannot be made durable.
    vigie = start(ingest="spool_max_readings = 100\nstuck_after_s = 2")
    wait_for(lambda: (vigie.health() or (0, {}))[0] == 200, f"healthy\n{tail(vigie.log)}")
    publish(broker, range(1, 6))
    wait_for(lambda: humidity_points(influx) == 5, "the first frames stored")
    _, body = vigie.health() or (0, {})
    ingest = body["parts"]["ingest"]  # type: ignore[index]
    assert ingest["state"] == "running" and ingest["facts"]["connected"] is True

    influx.stop()
    publish(broker, range(6, 11))

    def spooled() -> bool:
        _, body = vigie.health() or (0, {})
        part = body.get("parts", {}).get("ingest", {})  # type: ignore[attr-defined]
        return bool(part.get("facts", {}).get("spool_readings"))

    wait_for(spooled, f"the store's outage spooled\n{tail(vigie.log)}", 30)
    publish(broker, range(11, 31))

    def stuck() -> bool:
        code, body = vigie.health() or (0, {})
        part = body.get("parts", {}).get("ingest", {})  # type: ignore[attr-defined]
        return code == 503 and part.get("state") == "stuck"

    wait_for(stuck, f"/health 503 with ingest stuck\n{tail(vigie.log)}", 30)
    _, body = vigie.health() or (0, {})
    part = body["parts"]["ingest"]  # type: ignore[index]
    assert part["ok"] is False and part["facts"]["spool_readings"] > 0
    assert "SpoolFull" in part["detail"]
    assert body["checks"]["timeseries"]["ok"] is False  # type: ignore[index]
    metrics = httpx.get(f"{vigie.base}/metrics", timeout=5).text
    assert 'vigie_part_up{part="ingest"} 0.0' in metrics
    assert 'vigie_part_state{part="ingest",state="stuck"} 1.0' in metrics

    influx.start()
    wait_for(lambda: (vigie.health() or (0, {}))[0] == 200, f"healthy again\n{tail(vigie.log)}")
    wait_for(lambda: humidity_points(influx) == 30, "every frame stored after the outage")
    _, body = vigie.health() or (0, {})
    part = body["parts"]["ingest"]  # type: ignore[index]
    assert part["state"] == "running" and part["facts"]["spool_readings"] == 0
    assert 'vigie_part_up{part="ingest"} 1.0' in httpx.get(f"{vigie.base}/metrics").text
    assert vigie.stop() == 0, vigie.output()

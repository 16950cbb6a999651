"""The ingest bench's peer: Node-RED 4.1 + node-red-contrib-influxdb doing the same job, batched.

``install`` puts both packages from npm in a folder; ``run`` starts Node-RED there on a flow that
is what a commune would build with them: ``mqtt in`` (QoS 1, persistent session, JSON; the MQTT
library acknowledges each message on receipt, nothing is spooled), a function node that
base64-decodes the LHT65 frame, enriches it with the device's registry tags (a table in memory)
and makes one point per measurement (climate, climate:ext, device, radio — the same eight values
Vigie stores), a join node (``batch`` messages or one second), and ``influxdb batch``. A
``complete`` node on the batch node counts what InfluxDB took; ``GET /stored`` reports it, so
the clock stops as Vigie's does, on frames durable in the store.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

NODE_RED = "node-red@4.1"
INFLUX_NODE = "node-red-contrib-influxdb"

# The function node: a frame → its points (the LHT65 data frame of the bench: fPort 2, built-in
# SHT sensor and an external DS18B20 probe; radio from the best reception).
_DECODE = r"""
const doc = msg.payload;
const b = Buffer.from(doc.data, "base64");
const eui = doc.deviceInfo.devEui;
const tags = Object.assign({device: eui}, global.get("registry")[eui] || {});
const t = Date.parse(doc.time);
let rssi = -999, snr = 0;
for (const rx of doc.rxInfo || []) { if (rx.rssi > rssi) { rssi = rx.rssi; snr = rx.snr || 0; } }
const sf = doc.txInfo.modulation.lora.spreadingFactor;
msg.payload = [
  {measurement: "climate", tags: tags, timestamp: t,
   fields: {temperature_c: b.readInt16BE(2) / 100,
            humidity_pct: (b.readUInt16BE(4) & 0x0fff) / 10}},
  {measurement: "climate", tags: Object.assign({channel: "ext"}, tags), timestamp: t,
   fields: {temperature_c: b.readInt16BE(7) / 100}},
  {measurement: "device", tags: tags, timestamp: t,
   fields: {battery_v: (b.readUInt16BE(0) & 0x3fff) / 1000}},
  {measurement: "radio", tags: tags, timestamp: t,
   fields: {rssi_dbm: rssi, snr_db: snr, gateway_count: (doc.rxInfo || []).length,
            spreading_factor: sf}},
];
return msg;
"""

_FLATTEN = "msg.frames = msg.payload.length; msg.payload = msg.payload.flat(); return msg;"
_COUNT = "global.set('stored', (global.get('stored') || 0) + msg.frames); return null;"
_STORED = "msg.payload = {stored: global.get('stored') || 0}; return msg;"


def install(folder: Path, log: Callable[[str], None]) -> Path | None:
    """Node-RED and the InfluxDB nodes from npm into ``folder``; None when npm is missing."""
    npm = shutil.which("npm")
    if npm is None:
        log("npm not found: no Node-RED row")
        return None
    t0 = time.perf_counter()
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), NODE_RED, INFLUX_NODE],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    version = json.loads((folder / "node_modules/node-red/package.json").read_text())["version"]
    log(f"installed Node-RED {version} and {INFLUX_NODE} in {time.perf_counter() - t0:.0f} s")
    return folder


def flow(
    *,
    broker: tuple[str, int],
    client_id: str,
    protocol: str,
    topic: str,
    influx: tuple[str, int],
    database: str,
    batch: int,
    registry: dict[str, dict[str, str]],
) -> list[dict[str, Any]]:
    """The flow: mqtt in → decode → join → flatten → influxdb batch; complete → count."""
    wire = {"z": "bench", "x": 0, "y": 0}
    return [
        {"id": "bench", "type": "tab", "label": "bench"},
        {
            "id": "broker",
            "type": "mqtt-broker",
            "broker": broker[0],
            "port": str(broker[1]),
            "clientid": client_id,
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "5" if protocol == "5" else "4",
            "keepalive": "30",
            "cleansession": False,
            "sessionExpiry": str(7 * 24 * 3600),
        },
        {
            "id": "influx",
            "type": "influxdb",
            "hostname": influx[0],
            "port": str(influx[1]),
            "protocol": "http",
            "database": database,
            "name": "bench",
            "usetls": False,
            "influxdbVersion": "1.x",
        },
        {
            "id": "in",
            "type": "mqtt in",
            "topic": topic,
            "qos": "1",
            "datatype": "json",
            "broker": "broker",
            "nl": False,
            "rap": True,
            "rh": 0,
            "inputs": 0,
            "wires": [["decode"]],
            **wire,
        },
        {
            "id": "decode",
            "type": "function",
            "func": _DECODE,
            "outputs": 1,
            "initialize": f"global.set('registry', {json.dumps(registry)});",
            "wires": [["join"]],
            **wire,
        },
        {
            "id": "join",
            "type": "join",
            "mode": "custom",
            "build": "array",
            "property": "payload",
            "propertyType": "msg",
            "count": str(batch),
            "timeout": "1",
            "accumulate": False,
            "wires": [["flatten"]],
            **wire,
        },
        {
            "id": "flatten",
            "type": "function",
            "func": _FLATTEN,
            "outputs": 1,
            "wires": [["write"]],
            **wire,
        },
        {
            "id": "write",
            "type": "influxdb batch",
            "influxdb": "influx",
            "precision": "ms",
            "retentionPolicy": "",
            "wires": [],
            **wire,
        },
        {"id": "done", "type": "complete", "scope": ["write"], "wires": [["count"]], **wire},
        {"id": "count", "type": "function", "func": _COUNT, "outputs": 1, "wires": [], **wire},
        {
            "id": "get",
            "type": "http in",
            "url": "/stored",
            "method": "get",
            "wires": [["stored"]],
            **wire,
        },
        {
            "id": "stored",
            "type": "function",
            "func": _STORED,
            "outputs": 1,
            "wires": [["reply"]],
            **wire,
        },
        {"id": "reply", "type": "http response", "statusCode": "200", "wires": [], **wire},
    ]


def start(
    folder: Path, user_dir: Path, port: int, flows: list[dict[str, Any]]
) -> subprocess.Popen[bytes]:
    """Node-RED on ``port`` with ``flows`` (no editor, no credentials file)."""
    user_dir.mkdir(parents=True, exist_ok=True)
    (user_dir / "flows.json").write_text(json.dumps(flows))
    (user_dir / "settings.js").write_text(
        "module.exports = {"
        f" uiPort: {port}, uiHost: '127.0.0.1', flowFile: 'flows.json',"
        " httpAdminRoot: false, credentialSecret: false,"
        " logging: {console: {level: 'warn'}} };\n"
    )
    node = shutil.which("node") or "node"
    log = (user_dir / "node-red.log").open("wb")
    return subprocess.Popen(
        [
            node,
            str(folder / "node_modules/node-red/red.js"),
            "--userDir",
            str(user_dir),
            "--settings",
            str(user_dir / "settings.js"),
        ],
        cwd=user_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stored(port: int) -> int:
    """Frames InfluxDB has taken from Node-RED; -1 while its HTTP side does not answer."""
    try:
        return int(httpx.get(f"http://127.0.0.1:{port}/stored", timeout=2).json()["stored"])
    except (httpx.TransportError, ValueError, KeyError):
        return -1

"""Netvox R311W: water leak detector with two probe inputs (reports on fPort 6).

Sources: TTN device repository ``vendor/netvox/payload/r311w.js`` and ``r311w-codec.yaml`` (vendor
examples). Reports are 11 bytes:

====== ===== ======================================================================================
bytes  field meaning
====== ===== ======================================================================================
0      VER   protocol version (0x01)
1      DEV   device type, 0x06 = R311W (any other type → bad_payload)
2      REP   report type: 0x00 startup version report (software/hardware version, date code: no
             measurement), 0x01 status report
3      BAT   status report: bit 7 low-battery flag (warning), bits 6-0 battery voltage, 0.1 V
             → ``battery_v``
4      LK1   probe 1: 0x00 no leak, anything else leak → ``leak`` channel "1"
5      LK2   probe 2, same coding → ``leak`` channel "2" (the vendor's WaterLeak_1 / WaterLeak_2)
6-10   —     reserved
====== ===== ======================================================================================

fPort 7 carries replies to configuration commands (report intervals, battery threshold): no
readings. Any other report type is an unknown frame type (bad_payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT_REPORT, PORT_CONFIG = 6, 7
PORTS = (PORT_REPORT, PORT_CONFIG)
SIZE = 11
VERSION = 0x01
DEVICE_R311W = 0x06
VERSION_REPORT, STATUS_REPORT = 0x00, 0x01
LOW_BATTERY = 0x80
VOLTS_MASK = 0x7F
PROBES = ("1", "2")


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
        return
    if f_port == PORT_CONFIG or not out.need(payload, SIZE, "R311W report"):
        return
    if payload[1] != DEVICE_R311W:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"device type {payload[1]:#04x} is not an R311W")
    elif payload[2] == STATUS_REPORT:
        battery = payload[3]
        if battery & LOW_BATTERY:
            out.warn("low battery flag set")
        out.add("battery_v", (battery & VOLTS_MASK) / 10)
        for channel, state in zip(PROBES, payload[4:6], strict=True):
            out.add("leak", 1 if state else 0, channel=channel)
    elif payload[2] != VERSION_REPORT:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"report type {payload[2]:#04x} is not documented")


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A status report: battery voltage and both probes."""
    battery = round(values.get("battery_v", 3.0) * 10) & VOLTS_MASK
    probes = (1 if values.get(f"leak:{channel}", 0) >= 0.5 else 0 for channel in PROBES)
    frame = bytes((VERSION, DEVICE_R311W, STATUS_REPORT, battery, *probes)) + bytes(5)
    return PORT_REPORT, frame


CODEC = Codec(
    id="netvox/r311w",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.1),
        Field("leak:1", 0, 1, 1),
        Field("leak:2", 0, 1, 1),
    ),
    summary="Two-probe water leak detector",
)

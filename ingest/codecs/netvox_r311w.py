"""Netvox R311W: water leak detector with two probe inputs (reports on fPort 6).

Sources: TTN device repository ``vendor/netvox/payload/r311w.js`` and ``r311w-codec.yaml`` (vendor
examples). Reports are 11 bytes:

====== ===== ======================================================================================
bytes  field meaning
====== ===== ======================================================================================
0      VER   protocol version (0x01)
1      DEV   device type, 0x06 = R311W (any other type → bad_payload)
2      REP   report type: 0x00 startup version report (software/hardware version, date code: no
             measurement, kept), 0x01 status report
3      BAT   status report: bit 7 low-battery flag (warning), bits 6-0 battery voltage, 0.1 V
             → ``battery_v``
4      LK1   probe 1: 0x00 no leak, anything else leak → ``leak`` channel "1"
5      LK2   probe 2, same coding → ``leak`` channel "2" (the vendor's WaterLeak_1 / WaterLeak_2)
6-10   —     reserved
====== ===== ======================================================================================

fPort 7 carries replies to configuration commands (report intervals, battery threshold): no
readings, their bytes kept. Any other report type is an unknown frame type (bad_payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import netvox
from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT_REPORT, PORT_CONFIG = 6, 7
PORTS = (PORT_REPORT, PORT_CONFIG)
DEVICE_R311W = 0x06
STATUS_REPORT = 0x01
PROBES = ("1", "2")
RESPONSES = frozenset({0x81, 0x82})  # configure report, read configure report


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
        return
    if f_port == PORT_CONFIG:
        netvox.command_response(payload, out, RESPONSES)
        return
    report = netvox.report_type(payload, out, DEVICE_R311W, "R311W")
    if report == STATUS_REPORT:
        netvox.battery(payload[3], out)
        for channel, state in zip(PROBES, payload[4:6], strict=True):
            out.add("leak", 1 if state else 0, channel=channel)
    elif report is not None and report != netvox.VERSION_REPORT:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"report type {report:#04x} is not documented")


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A status report: battery voltage and both probes."""
    head = netvox.header(DEVICE_R311W, STATUS_REPORT, values.get("battery_v", 3.0))
    probes = (1 if values.get(f"leak:{channel}", 0) >= 0.5 else 0 for channel in PROBES)
    return PORT_REPORT, head + bytes(probes) + bytes(5)


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

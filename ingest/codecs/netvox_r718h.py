"""Netvox R718H wireless pulse counter interface: data on fPort 6, command responses on 7.

Sources: Netvox R718H user manual, "Example of ReportDataCmd" (uplink 011F012400C80000000000),
the R718H2 manual (data report and clear modes) and the TTN device repository
``vendor/netvox/r718h-codec.yaml`` / ``payload/r718h.js``. Frames are 11 bytes, big-endian:

====== ==========================================================================
bytes  meaning
====== ==========================================================================
0      version (0x01)
1      device type, 0x1F = R718H
2      report type: 0x00 version packet (nothing to store, kept), 0x01 data
3      battery: bits 6-0 in 0.1 V → ``battery_v``; bit 7 = low battery (warning)
4-5    pulse count, u16 → ``pulse_count`` (single input, no channel)
6-10   reserved
====== ==========================================================================

The count's meaning follows the pulse-counter clear mode set by downlink: in the factory mode
("clear when send", R718H2 manual) the device clears the count after each report, so each value
is the pulses since the previous report; in "clear when roll-over" mode it is a 16-bit running
count that wraps at 65535. The codec reports the value as sent.

fPort 7 carries command responses (0x81 configure-report status, 0x82 read-configuration,
0x83/0x84 set/get filter time, 0x85/0x86 set/get clear mode): nothing to store, kept.

``encode`` sends a 0x01 data report.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import netvox
from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

DATA_PORT = 6
COMMAND_PORT = 7
PORTS = (DATA_PORT, COMMAND_PORT)
DEVICE_TYPE = 0x1F
DATA = 0x01
RESPONSES = frozenset({0x81, 0x82, 0x83, 0x84, 0x85, 0x86})


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
        return
    if f_port == COMMAND_PORT:
        netvox.command_response(payload, out, RESPONSES)
        return
    report = netvox.report_type(payload, out, DEVICE_TYPE, "R718H")
    if report is None or report == netvox.VERSION_REPORT:
        return
    if report != DATA:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"report type {report:#04x} is not an R718H report")
        return
    netvox.battery(payload[3], out)
    (count,) = struct.unpack_from(">H", payload, 4)
    out.add("pulse_count", count)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    head = netvox.header(DEVICE_TYPE, DATA, values.get("battery_v", 3.6))
    return DATA_PORT, head + struct.pack(">H5x", round(values["pulse_count"]))


CODEC = Codec(
    id="netvox/r718h",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.1),
        Field("pulse_count", 0, 0xFFFF, 1),
    ),
    summary="Single-input pulse counter (16-bit count) with battery voltage",
)

"""Netvox R718N3 wireless three-phase current meter: data on fPort 6, command responses on 7.

Sources: Netvox R718N3 (E series) user manual, "Example of ReportDataCmd" (report types
0x00-0x04, multiplier coding, example uplinks), and the TTN device repository
``vendor/netvox/r718n3-codec.yaml`` / ``payload/r718n3.js``. Frames are 11 bytes, big-endian:
byte 0 version (0x01), byte 1 device type (0x4A = R718N3), byte 2 report type, bytes 3-10 data.

Byte 3 of every data report is the battery: bits 6-0 in 0.1 V → ``battery_v``, bit 7 = low
battery (a warning).

====== ================================================================================
report bytes 4-10
====== ================================================================================
0x00   version packet: software version, hardware version, date code — nothing to store, kept
0x01   4-5, 6-7, 8-9 current 1, 2, 3 (u16, mA); 10 multiplier 1 (its value)
0x02   4 multiplier 2, 5 multiplier 3 (their values); 6-10 reserved
0x03   4-5, 6-7, 8-9 current 1, 2, 3 (u16, mA); 10 multipliers, two bits each (bits 1-0
       phase 1, 3-2 phase 2, 5-4 phase 3): 0b00 = 1, 0b01 = 5, 0b10 = 10, 0b11 = 100
0x04   4 threshold alarms: bit 0/1 low/high current 1, 2/3 phase 2, 4/5 phase 3 (warnings)
====== ================================================================================

The real current is current × multiplier (mA) → ``current_a`` channels ``"1"``, ``"2"``,
``"3"`` (÷ 1000). The device raises a multiplier above 1 only when a current exceeds 65535 mA
(R718NL3 manual note). A 0x01 report carries multiplier 1 only, multipliers 2 and 3 follow in a
separate 0x02 report a pure codec cannot join: currents 2 and 3 of a 0x01 report are taken with
multiplier 1, and a 0x02 report announcing another multiplier raises a warning that the
previous currents 2/3 were under-scaled. Report type 0x03 is exact.

fPort 7 carries command responses (0x81 configure-report status, 0x82 read-configuration:
min/max time, current change): nothing to store, kept.

``encode`` sends a 0x03 report, picking per phase the smallest multiplier that fits 16 bits.
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
DEVICE_TYPE = 0x4A
RESPONSES = frozenset({0x81, 0x82})

CURRENTS, MULTIPLIERS, PACKED, ALARMS = 0x01, 0x02, 0x03, 0x04
PACKED_MULTIPLIER = (1, 5, 10, 100)  # two-bit code → multiplier (report type 0x03)
ALARM_BITS = (
    (0x01, "low current 1"),
    (0x02, "high current 1"),
    (0x04, "low current 2"),
    (0x08, "high current 2"),
    (0x10, "low current 3"),
    (0x20, "high current 3"),
)


def _currents(payload: bytes, multipliers: tuple[int, int, int], out: Emitter) -> None:
    raws = struct.unpack_from(">HHH", payload, 4)
    for phase, (raw, multiplier) in enumerate(zip(raws, multipliers, strict=True), start=1):
        out.add("current_a", raw * multiplier / 1000, str(phase))


def _decode_report(payload: bytes, out: Emitter) -> None:
    report = payload[2]
    if report == netvox.VERSION_REPORT:
        return
    if report not in (CURRENTS, MULTIPLIERS, PACKED, ALARMS):
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"report type {report:#04x} is not an R718N3 report")
        return
    netvox.battery(payload[3], out)
    if report == CURRENTS:
        _currents(payload, (payload[10], 1, 1), out)
    elif report == MULTIPLIERS:
        if payload[4] != 1 or payload[5] != 1:
            out.warn(
                f"multipliers 2/3 are {payload[4]}/{payload[5]}: currents 2/3 of the previous "
                "0x01 report were taken with multiplier 1"
            )
    elif report == PACKED:
        code = payload[10]
        first, second, third = (PACKED_MULTIPLIER[code >> shift & 3] for shift in (0, 2, 4))
        _currents(payload, (first, second, third), out)
    else:
        alarms = [name for bit, name in ALARM_BITS if payload[4] & bit]
        out.warn("threshold alarm: " + (", ".join(alarms) if alarms else "none"))


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
        return
    if f_port == COMMAND_PORT:
        netvox.command_response(payload, out, RESPONSES)
    elif netvox.report_type(payload, out, DEVICE_TYPE, "R718N3") is not None:
        _decode_report(payload, out)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    raws: list[int] = []
    code = 0
    for phase in range(3):
        milliamps = round(values.get(f"current_a:{phase + 1}", 0) * 1000)
        index = next(i for i, m in enumerate(PACKED_MULTIPLIER) if milliamps / m <= 0xFFFF)
        raws.append(round(milliamps / PACKED_MULTIPLIER[index]))
        code |= index << (2 * phase)
    head = netvox.header(DEVICE_TYPE, PACKED, values.get("battery_v", 3.6))
    return DATA_PORT, head + struct.pack(">HHHB", *raws, code)


CODEC = Codec(
    id="netvox/r718n3",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.1),
        Field("current_a:1", 0, 600, 0.01),
        Field("current_a:2", 0, 600, 0.01),
        Field("current_a:3", 0, 600, 0.01),
    ),
    summary="Three-phase current meter (channels 1, 2, 3) with battery voltage",
)

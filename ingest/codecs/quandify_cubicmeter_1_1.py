"""Quandify CubicMeter 1.1 (plastic and copper): clamp-on ultrasonic water meter and leak sensor.

Sources: quandify/cubicmeter-1.1 ``src/uplink.js``, ``src/uplink.test.js`` and ``src/examples.json``
(vendor examples), and the TTN device repository ``vendor/quandify/cubicmeter-1-1-*.js`` (fPort 2
alarm report). Little-endian.

Status report (fPort 1; fPort 2 is the same report pushed early by an alarm), exactly 28 bytes:

====== ====== =====================================================================================
bytes  field  meaning
====== ====== =====================================================================================
0-3    —      not documented
4-5    ERROR  bit 15: the ultrasonic sensor is not sensing water (warning); bits 14-0 error code,
              384 = reverse flow, other non-zero codes "contact support" (warnings)
6-9    TOTAL  all-time volume, u32, L → ``volume_m3``
10-21  —      not documented
22     LEAK   leak state: 3 medium, 4 large → ``leak`` 1; 0-2 → ``leak`` 0 (smaller leaks are only
              found by the vendor's cloud analytics); other values → warning, no ``leak``
23     BATA   battery under load: 1800 + 8·v mV (kept: the vendor normalises on BATR)
24     BATR   recovered battery: 1800 + 8·v mV → ``battery_v`` (the vendor's normalised battery)
25     WMIN   minimum water temperature since the previous report: v/2 − 20 °C → ``temperature_c``
              channel "water_min"
26     WMAX   maximum water temperature since the previous report → channel "water_max"
27     AMB    ambient temperature, v/2 − 20 °C → ``temperature_c`` (no channel)
====== ====== =====================================================================================

Response (fPort 6): byte 0 the fPort of the downlink answered, byte 1 status (0 ok, 1 command,
2 payload, 3 value error → warning), byte 2 type (0 none, 1 status report, 2 hardware report,
4 settings report), then the report. A status report inside is decoded as above; hardware and
settings reports are configuration: no readings, kept as hex. An undocumented status or type →
bad_payload. "kept" = in the frame's kept-values warning. The fPort names the report, so it is
checked.
Ping (fPort 0) is empty: no readings.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT_PING, PORT_STATUS, PORT_ALARM, PORT_RESPONSE = 0, 1, 2, 6
PORTS = (PORT_PING, PORT_STATUS, PORT_ALARM, PORT_RESPONSE)
REPORT_SIZE = 28
ERROR_AT, VOLUME_AT, LEAK_AT = 4, 6, 22
NOT_SENSING = 0x8000
REVERSE_FLOW = 384
LEAK_STATES = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1}
NO_LEAK_STATE, MEDIUM_LEAK_STATE = 2, 3
BATTERY_BASE_MV, BATTERY_STEP_MV = 1800, 8
RESPONSE_HEADER = 3
RESPONSE_STATUSES = {0: None, 1: "command error", 2: "payload error", 3: "value error"}
NO_REPORT, STATUS_REPORT, HARDWARE_REPORT, SETTINGS_REPORT = 0, 1, 2, 4
LITRES_PER_M3 = 1000
REPORT_NAMES = {HARDWARE_REPORT: "hardware report", SETTINGS_REPORT: "settings report"}


def _celsius(raw: int) -> float:
    return raw / 2 - 20


def _report(report: bytes, out: Emitter) -> None:
    if not out.need(report, REPORT_SIZE, "status report"):
        return
    if len(report) > REPORT_SIZE:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"status report is {len(report)} bytes, not 28")
        return
    (error,) = struct.unpack_from("<H", report, ERROR_AT)
    (litres,) = struct.unpack_from("<I", report, VOLUME_AT)
    leak_state, active, recovered, water_min, water_max, ambient = report[LEAK_AT:REPORT_SIZE]
    if error & NOT_SENSING:
        out.warn("the ultrasonic sensor is not sensing water")
    code = error & ~NOT_SENSING
    if code == REVERSE_FLOW:
        out.warn("reverse flow (error 384)")
    elif code:
        out.warn(f"error code {code} (vendor: contact support)")
    out.add("volume_m3", litres / LITRES_PER_M3)
    if leak_state in LEAK_STATES:
        out.add("leak", LEAK_STATES[leak_state])
    else:
        out.warn(f"leak state {leak_state} is not documented")
    out.add("battery_v", (BATTERY_BASE_MV + BATTERY_STEP_MV * recovered) / 1000)
    out.keep("battery_active", (BATTERY_BASE_MV + BATTERY_STEP_MV * active) / 1000, "V under load")
    out.add("temperature_c", _celsius(water_min), channel="water_min")
    out.add("temperature_c", _celsius(water_max), channel="water_max")
    out.add("temperature_c", _celsius(ambient))


def _response(payload: bytes, out: Emitter) -> None:
    if not out.need(payload, RESPONSE_HEADER, "response header"):
        return
    answered, status, kind = payload[:RESPONSE_HEADER]
    if status not in RESPONSE_STATUSES or kind not in (
        NO_REPORT,
        STATUS_REPORT,
        HARDWARE_REPORT,
        SETTINGS_REPORT,
    ):
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"undocumented response status {status} / type {kind}")
        return
    if RESPONSE_STATUSES[status]:
        out.warn(f"downlink on fPort {answered} answered with {RESPONSE_STATUSES[status]}")
    if kind == STATUS_REPORT:
        _report(payload[RESPONSE_HEADER:], out)
    elif kind in REPORT_NAMES:
        out.keep(REPORT_NAMES[kind], payload[RESPONSE_HEADER:].hex() or "-")


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
    elif f_port in (PORT_STATUS, PORT_ALARM):
        _report(payload, out)
    elif f_port == PORT_RESPONSE:
        _response(payload, out)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic status report (fPort 1); undocumented bytes left at zero."""

    def raw_celsius(key: str) -> int:
        return round((values[key] + 20) * 2)

    battery = round((values["battery_v"] * 1000 - BATTERY_BASE_MV) / BATTERY_STEP_MV)
    leak_state = MEDIUM_LEAK_STATE if values.get("leak", 0) >= 0.5 else NO_LEAK_STATE
    frame = bytearray(REPORT_SIZE)
    struct.pack_into("<I", frame, VOLUME_AT, round(values["volume_m3"] * LITRES_PER_M3))
    frame[LEAK_AT:] = bytes(
        (
            leak_state,
            battery,
            battery,
            raw_celsius("temperature_c:water_min"),
            raw_celsius("temperature_c:water_max"),
            raw_celsius("temperature_c"),
        )
    )
    return PORT_STATUS, bytes(frame)


CODEC = Codec(
    id="quandify/cubicmeter-1-1",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("volume_m3", 0, 4_000_000, 0.001),
        Field("leak", 0, 1, 1),
        Field("battery_v", 1.8, 3.84, 0.008),
        Field("temperature_c", -20, 107.5, 0.5),
        Field("temperature_c:water_min", -20, 107.5, 0.5),
        Field("temperature_c:water_max", -20, 107.5, 0.5),
    ),
    summary="Clamp-on ultrasonic water meter: total volume, leak state, temperatures",
)

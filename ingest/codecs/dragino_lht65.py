"""Dragino LHT65 / LHT65N: indoor temperature and humidity, optional external sensor (fPort 2-5).

Sources: the LHT65 user manual ("Uplink payload"), the TTN device repository
``vendor/dragino/lht65.js`` / ``lht65-codec.yaml`` (vendor example) and
dragino/dragino-end-node-decoder ``LHT65N/LHT65N-TTN-v1.5.6_decoder.txt`` (LHT65N sensor types,
datalog, device status).
Big-endian. "kept" = no quantity in the vocabulary: the value goes to the frame's kept-values
warning. The fPort is checked: Dragino's frame types depend on it.

Data frame (fPort 2), 11 bytes:

====== ===== =========================================================================
bytes  field meaning
====== ===== =========================================================================
0-1    BAT   bits 15-14 battery status, bits 13-0 battery voltage in mV → ``battery_v``
2-3    TEMP  built-in SHT temperature, s16, 0.01 °C → ``temperature_c``
4-5    HUM   built-in SHT relative humidity, bits 11-0, 0.1 % → ``humidity_pct``
6      EXT   bit 7 external sensor not connected (warning), bit 6 poll message (the frame is
             a datalog, below); bits 5-0 the external sensor type (below)
7-10   EXTV  the external sensor's value, by type
====== ===== =========================================================================

====== =================================================================================
type   bytes 7-10 (and exceptions)
====== =================================================================================
0x00   none
0x01   DS18B20 probe, s16 0.01 °C → ``temperature_c:ext``; 0x7FFF = no reading (warning)
0x02   TMP117 probe, as 0x01 (LHT65N)
0x04   interrupt mode: pin level, interrupt flag → kept
0x05   illuminance, u16 lux → ``illuminance_lux``
0x06   ADC, u16 mV → kept (a voltage of whatever is wired)
0x07   interrupt count, u16 → ``pulse_count``
0x08   interrupt count, u32 → ``pulse_count``
0x09   DS18B20 with timestamp: bytes 0-1 are the probe (no battery voltage; byte 4 bits
       7-6 the battery status), bytes 7-10 a Unix time: readings at that time
0x0A   TMP117 with timestamp, as 0x09 (LHT65N)
0x0B   SHT31 probe: s16 0.01 °C, humidity bits 11-0 0.1 % → ``temperature_c:ext``,
       ``humidity_pct:ext`` (LHT65N)
0x0F   DS18B20 ROM id (bytes 2-5, 7-10): no measurement, the id kept
0x10   SHT31 id (bytes 2-5, kept) and the SHT31 probe as 0x0B; no built-in values
0x20   TMP117 id (bytes 2-5, 9-10, kept) and the probe as 0x02; no built-in values
====== =================================================================================

Any other type is ``bad_payload`` naming it, after the built-in readings.

Datalog (fPort 2 or 3 with the poll bit, fPort 3): records of 11 bytes, each the external value
(bytes 0-1, by the record's type in byte 6), built-in temperature and humidity (2-5) and a Unix
time (7-10): readings at that time. An LHT65N temperature-alarm frame on fPort 3 (byte 2 = probe
model 1-4: battery, model, then s16 0.01 °C samples) has no sample times: battery stored,
temperatures kept. Device status (fPort 5), 7 bytes: model, firmware, band, sub-band (kept),
battery mV u16 (bytes 5-6) → ``battery_v``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field, stamp

PORT, DATALOG_PORT, STATUS_PORT = 2, 3, 5
PORTS = (PORT, DATALOG_PORT, STATUS_PORT)
SIZE = STATUS_SIZE = 7 + 4
NO_READING = 0x7FFF
NOT_CONNECTED, POLL, KIND = 0x80, 0x40, 0x3F
HUMIDITY_MASK, MILLIVOLTS_MASK = 0x0FFF, 0x3FFF
EXT_TEMPERATURE = 0x01
TIMESTAMPED = (0x09, 0x0A)
NO_BUILT_IN = (0x0F, 0x10, 0x20)
PROBE_MODELS = range(1, 5)  # temperature-alarm frames on fPort 3: ds18b20, tmp117, gxht30, sht31


def _probe(raw: int, out: Emitter, at: datetime | None = None) -> None:
    if raw & 0xFFFF == NO_READING:
        out.warn("external probe gave no reading (0x7FFF)")
    else:
        out.add("temperature_c", raw / 100, "ext", at)


def _external(kind: int, value: bytes, out: Emitter) -> bool:
    """Bytes 7-10 of a data frame by sensor type; False for an undocumented type."""
    s16, u16 = struct.unpack_from(">h", value)[0], struct.unpack_from(">H", value)[0]
    if kind in (0x01, 0x02, 0x20):
        _probe(s16, out)
    elif kind == 0x04:
        out.keep("interrupt", f"pin {value[0]}, flag {value[1]}")
    elif kind == 0x05:
        out.add("illuminance_lux", u16)
    elif kind == 0x06:
        out.keep("adc", u16 / 1000, "V")
    elif kind == 0x07:
        out.add("pulse_count", u16)
    elif kind == 0x08:
        out.add("pulse_count", struct.unpack(">I", value)[0])
    elif kind in (0x0B, 0x10):
        out.add("temperature_c", s16 / 100, "ext")
        out.add("humidity_pct", (struct.unpack_from(">H", value, 2)[0] & HUMIDITY_MASK) / 10, "ext")
    elif kind == 0x0F:
        pass  # the id is kept by the caller
    elif kind:
        return False
    return True


def _data(payload: bytes, out: Emitter) -> None:
    bat, temp, hum, ext = struct.unpack_from(">HhHB", payload)
    kind = ext & KIND
    at = None
    if kind in TIMESTAMPED:
        at = datetime.fromtimestamp(struct.unpack_from(">I", payload, 7)[0], UTC)
        _probe(struct.unpack_from(">h", payload)[0], out, at)
    else:
        out.add("battery_v", (bat & MILLIVOLTS_MASK) / 1000)
    if kind in NO_BUILT_IN:
        tail = payload[9:11] if kind == 0x20 else payload[7:11] if kind == 0x0F else b""
        out.keep("sensor_id", (payload[2:6] + tail).hex())
    else:
        out.add("temperature_c", temp / 100, at=at)
        out.add("humidity_pct", (hum & HUMIDITY_MASK) / 10, at=at)
    if ext & NOT_CONNECTED:
        out.warn("external sensor not connected")
    elif kind not in TIMESTAMPED and not _external(kind, payload[7:11], out):
        out.unknown(f"external sensor type {kind:#04x}", 6)


def _datalog(payload: bytes, out: Emitter) -> None:
    for offset in range(0, len(payload) - len(payload) % SIZE, SIZE):
        ext_value, temp, hum, ext, seconds = struct.unpack_from(">hhHBI", payload, offset)
        at, kind = datetime.fromtimestamp(seconds, UTC), ext & KIND
        out.add("temperature_c", temp / 100, at=at)
        out.add("humidity_pct", (hum & HUMIDITY_MASK) / 10, at=at)
        if kind in (0x01, 0x02, 0x09, 0x0A, 0x0B, 0x0C):
            _probe(ext_value, out, at)
        elif kind == 0x05:
            out.add("illuminance_lux", ext_value & 0xFFFF, at=at)
        elif kind:
            out.keep(f"{stamp(at)} external", ext_value & 0xFFFF, f"sensor type {kind:#04x}")
    if len(payload) % SIZE:
        cut = len(payload) - len(payload) % SIZE
        out.fail(CodecErrorCode.TRUNCATED, f"datalog record at byte {cut}: {len(payload) - cut} B")


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
    elif f_port == STATUS_PORT:
        if out.need(payload, 7, "device status frame"):
            out.keep("model", f"{payload[0]:#04x}")
            out.keep("firmware", f"{payload[1] & 0x0F}.{payload[2] >> 4}.{payload[2] & 0x0F}")
            out.keep("band", payload[3])
            out.keep("sub_band", payload[4])
            out.add("battery_v", struct.unpack_from(">H", payload, 5)[0] / 1000)
    elif f_port == DATALOG_PORT and len(payload) >= 3 and payload[2] in PROBE_MODELS:
        out.add("battery_v", (struct.unpack_from(">H", payload)[0] & MILLIVOLTS_MASK) / 1000)
        samples = struct.unpack_from(f">{(len(payload) - 3) // 2}h", payload, 3)
        out.keep("probe samples", "/".join(f"{t / 100:g}" for t in samples), "°C, no times")
    elif not out.need(payload, SIZE, "LHT65 frame"):
        return
    elif f_port == DATALOG_PORT or payload[6] & POLL:
        _datalog(payload, out)
    else:
        _data(payload, out)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    bat = round(values.get("battery_v", 3.0) * 1000) & MILLIVOLTS_MASK
    temp = round(values["temperature_c"] * 100)
    hum = round(values["humidity_pct"] * 10)
    if "temperature_c:ext" in values:
        ext, ext_value = EXT_TEMPERATURE, round(values["temperature_c:ext"] * 100) & 0xFFFF
    else:
        ext, ext_value = 0x00, NO_READING
    return PORT, struct.pack(">HhHBHH", bat, temp, hum, ext, ext_value, NO_READING)


CODEC = Codec(
    id="dragino/lht65",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.001),
        Field("temperature_c", -40, 80, 0.01),
        Field("humidity_pct", 0, 100, 0.1),
        Field("temperature_c:ext", -55, 125, 0.01),
    ),
    summary="Indoor temperature/humidity, optional external sensor (probe, light, counter)",
)

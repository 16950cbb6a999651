"""Dragino LDDS75: ultrasonic distance sensor, optional DS18B20 probe (fPort 2).

Sources: dragino/dragino-end-node-decoder ``LDDS75/LDDS75_Decoder_V1.1.4.js`` and
``LDDS75 decoder--Chirpstack.txt`` (firmware before 1.1.4), the TTN device repository
``vendor/dragino/ldds75-114-codec.yaml`` (vendor example) and the LDDS75 user manual (flat-object
range 280-7500 mm). Big-endian.

Firmware ≥ 1.1.4, 8 bytes:

====== ===== ======================================================================================
bytes  field meaning
====== ===== ======================================================================================
0-1    BAT   bits 13-0 battery in mV → ``battery_v``
2-3    DIST  distance, u16, mm → ``distance_mm``. 0 = no ultrasonic sensor; 1-279 (the vendor
             decoders flag 20 as "Invalid Reading") = below the 280 mm blind zone: warning only
4      INT   1 = uplink triggered by the interrupt pin, 0 = periodic: no quantity, kept (in the
             frame's kept-values warning)
5-6    TEMP  DS18B20 probe, s16, 0.1 °C → ``temperature_c`` channel "ext"; 0x0000 = no probe fitted
             (so an exact 0.0 °C probe reading is not stored)
7      SENS  1 = ultrasonic sensor detected; 0 → warning and no distance reading
====== ===== ======================================================================================

Older firmware sends 5 bytes (BAT, DIST, INT) and 4 bytes (BAT, DIST) when no sensor is connected:
both are decoded (battery; distance only from the 5-byte frame). 6- and 7-byte frames are truncated
1.1.4 frames. ``encode`` accepts ``temperature_c:ext`` but does not list it in ``fields``: 0.0 °C
cannot be carried (0x0000 means "no probe"), so it has no exact round trip.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, Emitter, Field

PORT = 2
LEGACY_NO_SENSOR_SIZE, LEGACY_SIZE, SIZE = 4, 5, 8
MILLIVOLTS_MASK = 0x3FFF
NO_SENSOR = 0
BLIND_ZONE_MM = 280
NO_PROBE = 0
SENSOR_DETECTED = 1


def _distance(distance: int, out: Emitter) -> None:
    if distance == NO_SENSOR:
        out.warn("distance 0: no ultrasonic sensor detected")
    elif distance < BLIND_ZONE_MM:
        out.warn(f"distance {distance} mm is an invalid reading (below the 280 mm blind zone)")
    else:
        out.add("distance_mm", distance)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if len(payload) > LEGACY_SIZE and not out.need(payload, SIZE, "LDDS75 1.1.4 frame"):
        return
    if not out.need(payload, LEGACY_NO_SENSOR_SIZE, "LDDS75 frame"):
        return
    battery, distance = struct.unpack_from(">HH", payload)
    out.add("battery_v", (battery & MILLIVOLTS_MASK) / 1000)
    if len(payload) == LEGACY_NO_SENSOR_SIZE:
        out.warn("4-byte frame: no ultrasonic sensor connected")
        return
    out.keep("interrupt_flag", payload[4])
    if len(payload) == LEGACY_SIZE:
        _distance(distance, out)
        return
    (probe,) = struct.unpack_from(">h", payload, 5)
    if payload[7] != SENSOR_DETECTED:
        out.warn("sensor flag 0: no ultrasonic sensor detected")
    else:
        _distance(distance, out)
    if probe != NO_PROBE:
        out.add("temperature_c", probe / 10, channel="ext")


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A firmware 1.1.4 frame; ``temperature_c:ext`` is optional (no probe → 0x0000)."""
    battery = round(values.get("battery_v", 3.3) * 1000) & MILLIVOLTS_MASK
    probe = round(values["temperature_c:ext"] * 10) if "temperature_c:ext" in values else NO_PROBE
    distance = round(values["distance_mm"])
    return PORT, struct.pack(">HHBhB", battery, distance, 0, probe, SENSOR_DETECTED)


CODEC = Codec(
    id="dragino/ldds75",
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.5, 3.6, 0.001),
        Field("distance_mm", BLIND_ZONE_MM, 7500, 1),
    ),
    summary="Ultrasonic distance (level) sensor with optional DS18B20 probe",
)

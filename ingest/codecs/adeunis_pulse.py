"""Adeunis PULSE 4 (PULSE V4): two pulse inputs A and B, LoRaWAN frames on fPort 1.

Sources: the Adeunis decoder and example frame published in the TTN device repository
(``vendor/adeunis/pulse_lib.js``, ``pulse-codec.yaml``), the example frames of the Adeunis codec
library (``src/products/pulse_v3/0x46|0x47|0x5a.parser.spec.ts``) and the PULSE V3 technical
reference manual (register S321). Multi-byte values are big-endian (MSB first); counters are raw
pulses, channel ``"a"`` for input A and ``"b"`` for input B.

Every frame starts with a frame code and the status byte:

======= =============================================================================
bits    status byte meaning
======= =============================================================================
7-5     frame counter (0-7)
2       timestamp present: the frame ends with a u32, seconds since 2013-01-01T00:00Z
1       low battery (a warning: this product reports no battery voltage)
0       configuration done
======= =============================================================================

====== ========== ======================================================================
code   bytes      meaning
====== ========== ======================================================================
0x46   2-5, 6-9   data: counter A, counter B, u32 pulses; [10-13 timestamp]
0x5A   2-5        history of channel A: u32 counter at t0, then u16 decrements, newest
       6-7, ...   first: counter(t-k) = counter(t-k+1) − delta_k; [last 4 bytes timestamp]
0x5B   as 0x5A    history of channel B
0x47   2-3, 4-5   alarm: flow A, flow B (u16, pulses per flow period); [6-9 timestamp]
0x30   2, 3-10    keep alive: alarm bits (flow A/B, tamper A/B, leak A/B), 24 h max and
                  min flows; [11-14 timestamp]
0x10   —          configuration (also 0x11, 0x12), 0x20 network configuration, 0x33
                  set-register response: no measurement, no reading
====== ========== ======================================================================

Readings are timed by the frame timestamp when the status byte flags one, else by the receive
time. A history frame's t0 value is at that time and its k-th older value k history periods
earlier; a history value below zero (the u32 counter wrapped) is ``out_of_range``. The period
(register S321) is not in the frame: it comes from
``out.params["history_period_s"]``, default 86400 s (24 h, the S321 default of the PULSE V3
reference manual; the PULSE V4 manual's default was not found). Alarm and keep-alive frames
carry flows in pulses per period, which have no quantity before weighting: they become warnings.

``encode`` sends a 0x46 data frame (no timestamp). Given history keys ``pulse_count:a@-24h``,
``@-48h``, … (consecutive multiples of the default 24 h period) it sends a 0x5A frame for
channel A instead (0x5B for ``pulse_count:b@-…`` keys when channel A has none).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Mapping
from datetime import datetime, timedelta

from ingest.codecs import adeunis
from ingest.codecs.base import ANY_PORT, Codec, CodecErrorCode, Emitter, Field

PORT = 1  # the factory port, what encode uses
DEFAULT_HISTORY_PERIOD_S = 86_400

DATA = 0x46
ALARM = 0x47
KEEP_ALIVE = 0x30
HISTORY = {0x5A: "a", 0x5B: "b"}
HISTORY_CODE = {channel: code for code, channel in HISTORY.items()}
NO_MEASUREMENT = frozenset({0x10, 0x11, 0x12, 0x20, 0x33})

KEEP_ALIVE_ALARMS = (
    (0x01, "flow alarm on channel A"),
    (0x02, "flow alarm on channel B"),
    (0x04, "tamper alarm on channel A"),
    (0x08, "tamper alarm on channel B"),
    (0x10, "leak alarm on channel A"),
    (0x20, "leak alarm on channel B"),
)


def _fixed(payload: bytes, size: int, out: Emitter, what: str) -> datetime | None:
    """Check a fixed-size frame (plus its optional timestamp); return the reading time."""
    stamp = adeunis.timestamp_size(payload[1])
    if not out.need(payload, size + stamp, what):
        return None
    return adeunis.timestamp(payload, size) if stamp else out.received_at


def _history_period(out: Emitter) -> timedelta:
    seconds = out.params.get("history_period_s", DEFAULT_HISTORY_PERIOD_S)
    if not seconds > 0:
        out.warn(f"history_period_s={seconds} is not positive, using {DEFAULT_HISTORY_PERIOD_S}")
        seconds = DEFAULT_HISTORY_PERIOD_S
    return timedelta(seconds=seconds)


def _decode_history(payload: bytes, channel: str, out: Emitter) -> None:
    stamp = adeunis.timestamp_size(payload[1])
    if not out.need(payload, 6 + stamp, "history frame"):
        return
    end = len(payload) - stamp
    if (end - 6) % 2:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"history frame: odd delta area ({end - 6} bytes)")
        return
    at = adeunis.closing_time(payload, out)
    period = _history_period(out)
    (counter,) = struct.unpack_from(">I", payload, 2)
    out.add("pulse_count", counter, channel, at)
    for k, offset in enumerate(range(6, end, 2), start=1):
        (delta,) = struct.unpack_from(">H", payload, offset)
        counter -= delta
        out.add("pulse_count", counter, channel, at - k * period)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port) or not adeunis.header(payload, out):
        return
    code, status = payload[0], payload[1]
    known = code in (DATA, ALARM, KEEP_ALIVE) or code in HISTORY or code in NO_MEASUREMENT
    if not known:
        out.unknown(f"frame code {code:#04x} (not a PULSE 4 frame)", 0)
        return
    if code in NO_MEASUREMENT:
        adeunis.keep_frame(payload, out)
    if status & adeunis.LOW_BATTERY:
        out.warn("low battery")
    if code == DATA:
        at = _fixed(payload, 10, out, "data frame 0x46")
        if at is not None:
            counter_a, counter_b = struct.unpack_from(">II", payload, 2)
            out.add("pulse_count", counter_a, "a", at)
            out.add("pulse_count", counter_b, "b", at)
    elif code in HISTORY:
        _decode_history(payload, HISTORY[code], out)
    elif code == ALARM:
        if _fixed(payload, 6, out, "alarm frame 0x47") is not None:
            flow_a, flow_b = struct.unpack_from(">HH", payload, 2)
            out.warn(f"flow alarm: channel A {flow_a}, channel B {flow_b} pulses per flow period")
    elif code == KEEP_ALIVE and _fixed(payload, 11, out, "keep-alive frame 0x30") is not None:
        for bit, alarm in KEEP_ALIVE_ALARMS:
            if payload[2] & bit:
                out.warn(alarm)
        adeunis.keep_frame(payload[:11], out)


def _history(values: Mapping[str, float], key: str) -> list[float]:
    """Older values of ``key`` at 24 h, 48 h, … before ``at``, while consecutive."""
    step_h = DEFAULT_HISTORY_PERIOD_S // 3600
    older: list[float] = []
    while f"{key}@-{(len(older) + 1) * step_h}h" in values:
        older.append(values[f"{key}@-{(len(older) + 1) * step_h}h"])
    return older


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    for channel in ("a", "b"):
        key = f"pulse_count:{channel}"
        older = _history(values, key)
        if older:
            counters = [round(values[key]), *(round(v) for v in older)]
            deltas = [new - old for new, old in itertools.pairwise(counters)]
            if any(not 0 <= d <= 0xFFFF for d in deltas):
                raise ValueError(f"{key}: history deltas must be 0..65535 pulses, got {deltas}")
            head = struct.pack(">BBI", HISTORY_CODE[channel], 0x00, counters[0])
            return PORT, head + b"".join(struct.pack(">H", d) for d in deltas)
    counter_a = round(values.get("pulse_count:a", 0))
    counter_b = round(values.get("pulse_count:b", 0))
    return PORT, struct.pack(">BBII", DATA, 0x00, counter_a, counter_b)


CODEC = Codec(
    id="adeunis/pulse",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("pulse_count:a", 0, 0xFFFF_FFFF, 1),
        Field("pulse_count:b", 0, 0xFFFF_FFFF, 1),
    ),
    summary="Two-input pulse counter (channels a, b) with device-side counter history",
)

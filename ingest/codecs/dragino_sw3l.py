"""Dragino SW3L: outdoor water flow sensor (pulse flow meter), fPorts 2-5.

Sources: the SW3L user manual (flow-sensor table: SW3L-004 450 pulses/L, SW3L-006 390 pulses/L),
dragino/dragino-end-node-decoder ``SW3L/SW3L Decoder TTN.txt`` (flags 2 → 64 and 3 → 12 pulses/L,
datalog layout) and the TTN device repository ``vendor/dragino/sw3l.js`` / ``sw3l-codec.yaml``.
The older vendor fPort-2 decoder divides by 360/60 for flags 1/2; the manual's 390 and the
vendor's datalog decoder's 64 are used here. Big-endian; times are Unix seconds (UTC), device clock.

Water flow frame (fPort 2), 11 bytes:

====== ====== =====================================================================================
bytes  field  meaning
====== ====== =====================================================================================
0      FLAG   bits 7-2 calculate flag (flow-sensor model: 0 → 450, 1 → 390, 2 → 64, 3 → 12 pulses
              per litre); bit 1 alarm: water flowed continuously longer than the alarm timer (the
              manual's "alarm for continuously water flow", e.g. a running toilet) → ``leak`` 0/1
1-4    PULSE  pulse count, u32
5      MOD    0: total pulses since start → ``volume_m3`` = pulses / (pulses per L) / 1000;
              1: pulses since the previous uplink → ``flow_m3h`` over the uplink period
              ``params["uplink_period_s"]`` (default 1200 s, the manual's 20-minute TDC)
6      —      reserved
7-10   TIME   Unix time of the measurement: readings are placed there
====== ====== =====================================================================================

With an undocumented calculate flag (4-63, user defined) the litre conversion is unknown: in MOD 0
the raw count goes to ``pulse_count`` (warning), in MOD 1 nothing is stored (warning).

Datalog (fPort 3): N records of 11 bytes: FLAG (as above), MOD (byte 1, unlabelled in the vendor
decoder, read as MOD), reserved, PULSE (bytes 3-6), TIME (7-10); emitted in frame order.
Device status (fPort 5), 7 bytes: model 0x11, firmware (2), band, sub-band (kept), battery mV u16
(bytes 5-6) → ``battery_v``. Configuration (fPort 4), 7 bytes: TDC u24 s (bytes 0-2), stop timer
(byte 4, min), alarm timer u16 (bytes 5-6, min): no readings, kept. "kept" = in the frame's
kept-values warning. The fPort tells the frame types apart, so it is checked.
A time before 2015 means the clock was never set: the frame's readings go to the receive time
(fPort 2) or the record is skipped (datalog), with a warning.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT_FLOW, PORT_DATALOG, PORT_CONFIG, PORT_STATUS = 2, 3, 4, 5
PORTS = (PORT_FLOW, PORT_DATALOG, PORT_CONFIG, PORT_STATUS)
FLOW = struct.Struct(">BIBBI")  # flag & alarm, pulses, mod, reserved, time
DATALOG = struct.Struct(">BBBII")  # flag & alarm, mod, reserved, pulses, time
STATUS_SIZE = CONFIG_SIZE = 7
PULSES_PER_LITRE = {0: 450, 1: 390, 2: 64, 3: 12}
ENCODE_FLAG = 0  # SW3L-004 (DN15), 450 pulses per litre
ALARM_BIT = 0x02
FLAG_SHIFT = 2
TOTAL, INTERVAL = 0, 1
UPLINK_PERIOD_S = 1200
CLOCK_SET_AFTER = datetime(2015, 1, 1, tzinfo=UTC)
LITRES_PER_M3 = 1000


def _when(seconds: int, out: Emitter) -> datetime | None:
    at = datetime.fromtimestamp(seconds, UTC)
    if at >= CLOCK_SET_AFTER:
        return at
    out.warn(f"device time {at.isoformat()} is before 2015: clock not set")
    return None


def _record(flag_alarm: int, pulses: int, mod: int, at: datetime, out: Emitter) -> None:
    flag = flag_alarm >> FLAG_SHIFT
    per_litre = PULSES_PER_LITRE.get(flag)
    if mod not in (TOTAL, INTERVAL):
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"MOD {mod} is not documented")
        return
    if per_litre is None:
        out.warn(f"calculate flag {flag} has no documented pulses per litre")
        if mod == TOTAL:
            out.add("pulse_count", pulses, at=at)
    elif mod == TOTAL:
        out.add("volume_m3", pulses / per_litre / LITRES_PER_M3, at=at)
    else:
        hours = out.params.get("uplink_period_s", UPLINK_PERIOD_S) / 3600
        out.add("flow_m3h", pulses / per_litre / LITRES_PER_M3 / hours, at=at)
    out.add("leak", 1 if flag_alarm & ALARM_BIT else 0, at=at)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
    elif f_port == PORT_FLOW:
        if out.need(payload, FLOW.size, "water flow frame"):
            flag_alarm, pulses, mod, _, seconds = FLOW.unpack_from(payload)
            _record(flag_alarm, pulses, mod, _when(seconds, out) or out.received_at, out)
    elif f_port == PORT_DATALOG:
        if out.need(payload, DATALOG.size, "datalog record"):
            if len(payload) % DATALOG.size:
                out.warn(f"{len(payload) % DATALOG.size} trailing bytes after the last record")
            for flag_alarm, mod, _, pulses, seconds in struct.iter_unpack(
                DATALOG.format, payload[: len(payload) - len(payload) % DATALOG.size]
            ):
                at = _when(seconds, out)
                if at is not None:
                    _record(flag_alarm, pulses, mod, at, out)
    elif f_port == PORT_CONFIG and out.need(payload, CONFIG_SIZE, "configuration frame"):
        out.keep("tdc", int.from_bytes(payload[:3], "big"), "s")
        out.keep("stop_timer", payload[4], "min")
        out.keep("alarm_timer", struct.unpack_from(">H", payload, 5)[0], "min")
    elif f_port == PORT_STATUS and out.need(payload, STATUS_SIZE, "device status frame"):
        out.keep("model", f"{payload[0]:#04x}")
        out.keep("firmware", f"{payload[1] & 0x0F}.{payload[2] >> 4}.{payload[2] & 0x0F}")
        out.keep("band", payload[3])
        out.keep("sub_band", payload[4])
        out.add("battery_v", struct.unpack_from(">H", payload, 5)[0] / 1000)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A total-pulse (MOD 0) water flow frame from an SW3L-004 (450 pulses per litre)."""
    pulses = round(values["volume_m3"] * LITRES_PER_M3 * PULSES_PER_LITRE[ENCODE_FLAG])
    flag_alarm = ENCODE_FLAG << FLAG_SHIFT | (ALARM_BIT if values.get("leak", 0) >= 0.5 else 0)
    return PORT_FLOW, FLOW.pack(flag_alarm, pulses, TOTAL, 0, int(at.timestamp()))


CODEC = Codec(
    id="dragino/sw3l",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("volume_m3", 0, 9000, 0.001),
        Field("leak", 0, 1, 1),
    ),
    summary="Water flow sensor: total volume or interval flow, continuous-flow alarm",
)

"""Axioma Qalcosonic W1: ultrasonic water meter, hourly history (fPort 100), alarms (fPort 103).

Sources: Axioma "W1 LoRa Payload (Long) Extended" (field order, as used by the TagoIO connector
``axioma/water-meter-qalcosonic-w1`` and its test vector), the TTN device repository
``vendor/axioma/qalcosonic-w1-codec.{js,yaml}`` (51-byte "enhanced 24 h" frame, vendor example) and
the alarm masks of the published Axioma water-meter codec (fPort 103). All integers little-endian;
times are Unix seconds (UTC) from the meter's own clock; volumes in litres (stored as m³).

Status byte (all frames):

====== ==========================================================================================
bits   meaning
====== ==========================================================================================
2      low battery (warning)
3      permanent error (warning)
4      temporary error; alone (0x10) it means "dry": empty pipe (warning)
7-5    alarm code: 1 leakage → ``leak`` = 1 (0x30 in the vendor table); 3 backflow (0x70),
       4 low temperature / freeze (0x90), 5 burst (0xB0), 6 manipulation (0xD0) → warnings.
       ``leak`` is 0 for every other code: a burst is surfaced as a warning, not as ``leak``.
====== ==========================================================================================

Extended frame (fPort 100), 17 + 2·N bytes, optionally one trailing padding byte 0x2F (ignored):

====== ===== =====================================================================================
bytes  field meaning
====== ===== =====================================================================================
0-3    NOW   current date and time
4      ST    status byte (above)
5-8    VOL   current volume, u32, L → ``volume_m3`` at NOW
9-12   LOG   log date and time (start of the history)
13-16  LOGV  volume at LOG, u32, L → ``volume_m3`` at LOG
17-    DV    N delta volumes, u16 each, L: ``volume_m3`` at LOG + k·period is LOGV + DV1 + … + DVk
====== ===== =====================================================================================

Enhanced 24 h frame (fPort 100), 51 bytes, byte 0 = 0x01 (frame version):

====== ===== =====================================================================================
bytes  field meaning
====== ===== =====================================================================================
0      VER   0x01
1-4    NOW   current date and time
5      ST    status byte (above)
6-9    LOGV  log volume, u32, L
10-50  DV    23 delta volumes packed as 14-bit little-endian bit fields, L; then a 6-bit history
             multiplier (non-zero → warning: the vendor does not document its scaling)
====== ===== =====================================================================================

The enhanced frame carries no log time. Following the vendor-repository decoder, which calls
LOGV + ΣDV the current volume, the newest value is placed at NOW and the 23 older ones one period
apart before it (LOGV at NOW − 23 periods): 24 ``volume_m3`` readings, oldest first.
A 51-byte frame starting with 0x01 is read as enhanced unless it is also a plausible extended frame
(LOG within 7 days before NOW). The period is ``params["history_period_s"]`` (default 3600 s,
the documented hourly log).

Alarm frame (fPort 103), 5 bytes: NOW (4) + status (1) → ``leak`` at NOW and status warnings.
Parameter frames (fPort 101) carry configuration only: no readings, their bytes kept as hex in the
frame's kept-values warning. A separately documented short frame was not found. The fPort names
the frame type (the vendor's decoder refuses any port but 100), so it is checked.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from ingest.codecs.base import Codec, Emitter, Field

PORT_DATA, PORT_PARAMETERS, PORT_ALARM = 100, 101, 103
PORTS = (PORT_DATA, PORT_PARAMETERS, PORT_ALARM)
EXTENDED = struct.Struct("<IBIII")  # now, status, volume, log time, log volume
ENHANCED = struct.Struct("<BIBI")  # version, now, status, log volume
ALARM = struct.Struct("<IB")  # now, status
ENHANCED_SIZE = 51
ENHANCED_VERSION = 0x01
ENHANCED_DELTAS = 23
DELTA_BITS = 14
DELTA_MAX = (1 << DELTA_BITS) - 1
MULTIPLIER_BITS = 6
HISTORY_PERIOD_S = 3600
MAX_LOG_AGE_S = 7 * 86400
# 2015-01-01, before any W1 with LoRa: an extended frame's NOW earlier than this is in fact an
# enhanced frame whose time bytes happen to read as two close 1970 dates (2025-04-16 19:07 UTC
# is 0x68000000: a day of enhanced frames then looks like an extended one).
EARLIEST_METER_TIME = 1_420_070_400
LITRES_PER_M3 = 1000

LOW_BATTERY, PERMANENT_ERROR, TEMPORARY_ERROR = 0x04, 0x08, 0x10
ALARM_SHIFT = 5
LEAKAGE = 1
LEAKAGE_STATUS = TEMPORARY_ERROR | LEAKAGE << ALARM_SHIFT  # 0x30, as the meter sends it
ALARMS = {3: "backflow", 4: "low temperature (freeze)", 5: "burst", 6: "manipulation"}


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _status(status: int, at: datetime, out: Emitter) -> None:
    """Warnings for every flag but leakage, then ``leak`` (0/1) at ``at``."""
    code = status >> ALARM_SHIFT
    if status & LOW_BATTERY:
        out.warn("status: low battery")
    if status & PERMANENT_ERROR:
        out.warn("status: permanent error")
    if code in ALARMS:
        out.warn(f"status: {ALARMS[code]} alarm ({status:#04x})")
    elif code == 0 and status & TEMPORARY_ERROR:
        out.warn("status: dry, empty pipe (0x10)")
    elif code not in (0, LEAKAGE):
        out.warn(f"status: unknown alarm code ({status:#04x})")
    out.add("leak", 1 if code == LEAKAGE else 0, at=at)


def _period(out: Emitter) -> timedelta:
    return timedelta(seconds=out.params.get("history_period_s", HISTORY_PERIOD_S))


def _plausible_extended(payload: bytes) -> bool:
    if len(payload) < EXTENDED.size:
        return False
    now, _, _, log_time, _ = EXTENDED.unpack_from(payload)
    age: int = now - log_time
    return now >= EARLIEST_METER_TIME and 0 <= age <= MAX_LOG_AGE_S


def _extended(payload: bytes, out: Emitter) -> None:
    now, status, volume, log_time, total = EXTENDED.unpack_from(payload)
    count = (len(payload) - EXTENDED.size) // 2
    deltas = struct.unpack_from(f"<{count}H", payload, EXTENDED.size)
    start, period = _utc(log_time), _period(out)
    out.add("volume_m3", total / LITRES_PER_M3, at=start)
    for k, delta in enumerate(deltas, start=1):
        total += delta
        out.add("volume_m3", total / LITRES_PER_M3, at=start + k * period)
    if total > volume:
        out.warn(f"history ends at {total} L, above the current register {volume} L")
    out.add("volume_m3", volume / LITRES_PER_M3, at=_utc(now))
    _status(status, _utc(now), out)


def _enhanced(payload: bytes, out: Emitter) -> None:
    _, now, status, total = ENHANCED.unpack_from(payload)
    bits = int.from_bytes(payload[ENHANCED.size : ENHANCED_SIZE], "little")
    deltas = [(bits >> (DELTA_BITS * i)) & DELTA_MAX for i in range(ENHANCED_DELTAS)]
    multiplier = (bits >> (DELTA_BITS * ENHANCED_DELTAS)) & ((1 << MULTIPLIER_BITS) - 1)
    if multiplier:
        out.warn(f"history multiplier {multiplier} is not documented; deltas taken as litres")
    end, period = _utc(now), _period(out)
    out.add("volume_m3", total / LITRES_PER_M3, at=end - ENHANCED_DELTAS * period)
    for k, delta in enumerate(deltas, start=1):
        total += delta
        out.add("volume_m3", total / LITRES_PER_M3, at=end - (ENHANCED_DELTAS - k) * period)
    _status(status, end, out)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port not in PORTS:
        out.wrong_port(f_port, PORTS)
    elif f_port == PORT_PARAMETERS:
        out.keep("parameters", payload.hex() or "-")
    elif f_port == PORT_ALARM:
        if out.need(payload, ALARM.size, "alarm frame"):
            now, status = ALARM.unpack_from(payload)
            _status(status, _utc(now), out)
    elif f_port == PORT_DATA:
        enhanced = len(payload) == ENHANCED_SIZE and payload[0] == ENHANCED_VERSION
        if enhanced and not _plausible_extended(payload):
            _enhanced(payload, out)
        elif not out.need(payload, EXTENDED.size, "extended frame"):
            return
        elif _plausible_extended(payload):
            _extended(payload, out)
        else:
            out.unknown("frame (not enhanced; its log time is not within 7 days before NOW)", 0)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """The 51-byte enhanced frame; ``volume_m3@-<N>h`` (N = 1…23) give the hourly history."""
    litres = [round(values["volume_m3"] * LITRES_PER_M3)]
    for hours in range(1, ENHANCED_DELTAS + 1):
        older = values.get(f"volume_m3@-{hours}h")
        litres.append(litres[-1] if older is None else round(older * LITRES_PER_M3))
    litres.reverse()  # oldest first
    deltas = [max(0, min(DELTA_MAX, b - a)) for a, b in itertools.pairwise(litres)]
    log_volume = litres[-1] - sum(deltas)
    if log_volume < 0:
        raise ValueError("history deltas exceed the current volume")
    bits = sum(delta << (DELTA_BITS * i) for i, delta in enumerate(deltas))
    status = LEAKAGE_STATUS if values.get("leak", 0) >= 0.5 else 0
    head = ENHANCED.pack(ENHANCED_VERSION, int(at.timestamp()), status, log_volume)
    return PORT_DATA, head + bits.to_bytes(ENHANCED_SIZE - ENHANCED.size, "little")


CODEC = Codec(
    id="axioma/qalcosonic-w1",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("volume_m3", 0, 1_000_000, 0.001),
        Field("leak", 0, 1, 1),
    ),
    summary="Ultrasonic water meter: register, hourly history, leak and alarm flags",
)

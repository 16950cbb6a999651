"""What one event says, as readings: an uplink decoded by its device's codec (or mapped from the
network server's own decoding), its radio figures, what derives from them; a device status.

Pure: no I/O, no clock. Problems come back as (dead-letter reason, detail) for the pipeline to
record; a codec's warnings (documented values kept but not stored) come back to be counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.config import IngestSettings
from core.reading import Reading, ReadingError
from ingest.codecs import registry as codecs
from ingest.codecs.base import CodecErrorCode
from ingest.derive import derived
from ingest.directory import DeviceInfo
from ingest.events import STATUS_CHANNEL, Status, Uplink
from ingest.objects import from_object
from ingest.vetted import maker

Problem = tuple[str, str]  # (dead-letter reason, detail)


@dataclass(slots=True)
class Decoding:
    """An uplink's readings, what was lost of it (problems) and what was kept aside (warnings)."""

    readings: list[Reading] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def readings_of(
    pairs: Sequence[tuple[str, float | None]],
    time: datetime,
    device: str,
    channel: str | None = None,
) -> tuple[list[Reading], list[tuple[str, str]]]:
    """Readings of the (quantity, value) pairs an envelope carried; out of range: a problem."""
    readings: list[Reading] = []
    problems: list[tuple[str, str]] = []
    make = maker(device)
    for quantity, value in pairs:
        if value is None:
            continue
        try:
            readings.append(make(time, device, quantity, value, channel))
        except ReadingError as exc:
            problems.append(("out_of_range", f"{quantity}: {exc}"))
    return readings, problems


def status_readings(status: Status) -> tuple[list[Reading], list[tuple[str, str]]]:
    """A DevStatusAns as readings. They share their uplink's time, and a payload's own battery
    level at that time is another measure (the device's, not the MAC layer's 0-254 scale): the
    status keeps its own channel so neither overwrites the other."""
    battery, problems = readings_of(
        (("battery_pct", status.battery_pct),), status.time, status.device, STATUS_CHANNEL
    )
    margin, more = readings_of((("margin_db", status.margin_db),), status.time, status.device)
    return battery + margin, problems + more


def decode_uplink(up: Uplink, device: DeviceInfo, settings: IngestSettings) -> Decoding:
    """Readings of an uplink, its problems as (reason, detail) and its codec's warnings."""
    r = up.radio
    warnings: list[str] = []
    readings, problems = readings_of(
        (
            ("rssi_dbm", r.rssi_dbm),
            ("snr_db", r.snr_db),
            # As floats, which readings hold: ints would take Reading's slower road to the same.
            ("gateway_count", float(r.gateway_count) if r.gateway_count else None),
            ("spreading_factor", float(r.spreading_factor) if r.spreading_factor else None),
        ),
        up.time,
        up.device,
    )
    fields = settings.object_fields.get(device.codec_id) or settings.object_fields.get(
        up.profile or ""
    )
    if device.codec_id in codecs.CODECS:
        if up.f_port:  # fPort 0 / no payload: MAC commands only, nothing to decode
            params = {k: v for k, v in device.parameters.items() if isinstance(v, int | float)}
            result = codecs.decode(
                device.codec_id, up.f_port, up.payload, up.time, up.device, params
            )
            readings.extend(_clock_checked(result.readings, up, settings, problems))
            warnings = result.warnings
            for error in result.errors:
                reason = (
                    "out_of_range"
                    if error.code is CodecErrorCode.OUT_OF_RANGE
                    else error.code.value
                )
                problems.append((reason, error.message))
    elif fields and up.decoded is not None:
        mapped, errors = from_object(up.decoded, fields, up.device, up.time)
        readings.extend(mapped)
        problems.extend(("out_of_range", e) for e in errors)
    elif up.f_port:
        what = f"codec {device.codec_id!r} is not in the codec library"
        if up.decoded is not None:
            what += " and no object mapping exists for it or profile " + repr(up.profile)
        problems.append(("no_codec", what))
    more, issues = derived(readings, device.parameters)
    readings.extend(more)
    problems.extend(("bad_parameters", i) for i in issues)
    return Decoding(readings, problems, warnings)


def _clock_checked(
    readings: list[Reading], up: Uplink, settings: IngestSettings, problems: list[tuple[str, str]]
) -> list[Reading]:
    """Readings a device timed itself (history frames) must sit near the uplink's NS time: a
    meter whose clock was reset to 2000 would otherwise write points decades away."""
    if all(r.time is up.time for r in readings):  # timed by the uplink itself: nothing to check
        return readings
    earliest = up.time - timedelta(days=settings.max_age_days)
    latest = up.time + timedelta(seconds=settings.max_future_s)
    kept = [r for r in readings if earliest <= r.time <= latest]
    if len(kept) < len(readings):
        bad = next(r for r in readings if not earliest <= r.time <= latest)
        problems.append(
            (
                "bad_time",
                f"{len(readings) - len(kept)} reading(s) timed by the device far from "
                f"the uplink's {up.time.isoformat()}, e.g. {bad.time.isoformat()}",
            )
        )
    return kept

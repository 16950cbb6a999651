"""Explain one MQTT payload: what ingest would store from it, or why it would refuse it.

The tool a user reaches for when a frame does not show up: it runs the same envelope parsing,
registry lookup and decoding as the pipeline, without storing anything.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.config import IngestSettings
from ingest import envelopes
from ingest.codecs import registry as codecs
from ingest.decoding import decode_uplink, status_readings
from ingest.directory import DeviceDirectory, DeviceInfo
from ingest.envelopes.chirpstack import chirpstack_topic_for
from ingest.events import EnvelopeError, Ignored, Join, NsLog, Status, Uplink


def guess_topic(payload: bytes) -> str:
    """The topic a payload most likely came on: TTS JSON, else a ChirpStack uplink."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, dict) and "end_device_ids" in doc:
        ids = doc["end_device_ids"]
        app = (ids.get("application_ids") or {}).get("application_id", "app")
        return f"v3/{app}@tenant/devices/{ids.get('device_id', 'device')}/up"
    return chirpstack_topic_for(payload)


def _rfc3339(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def envelope_facts(event: Uplink | Status | Join | NsLog) -> dict[str, Any]:
    """What the envelope itself says, known before (and whatever) the registry says."""
    facts: dict[str, Any] = {"event": type(event).__name__.lower()}
    if isinstance(event, Uplink):
        r = event.radio
        facts.update(
            source=event.source.value,
            f_cnt=event.f_cnt,
            f_port=event.f_port,
            dedup_id=event.dedup_id,
            payload_hex=event.payload.hex(),
            profile=event.profile,
            radio={
                "rssi_dbm": r.rssi_dbm,
                "snr_db": r.snr_db,
                "gateway_count": r.gateway_count,
                "spreading_factor": r.spreading_factor,
            },
        )
    elif isinstance(event, Status | Join):
        facts["dedup_id"] = event.dedup_id
    return facts


def inspect(
    payload: bytes,
    *,
    topic: str | None,
    codec_id: str | None,
    directory: DeviceDirectory | None,
    settings: IngestSettings,
    now: datetime,
) -> dict[str, Any]:
    topic = topic or guess_topic(payload)
    report: dict[str, Any] = {
        "topic": topic,
        "device": None,
        "f_cnt": None,
        "f_port": None,
        "time": None,
        "readings": [],
        "warnings": [],
        "dead_letter": None,
    }
    try:
        event = envelopes.parse(topic, payload)
    except EnvelopeError as exc:
        report.update(device=exc.device, dead_letter=exc.reason, detail=str(exc))
        return report
    if isinstance(event, Ignored):
        report["detail"] = f"{event.value} event: acknowledged, nothing to store"
        return report
    report.update(device=event.device, time=_rfc3339(event.time), **envelope_facts(event))
    if isinstance(event, NsLog):
        report["detail"] = f"{event.level} {event.code}: {event.description}"
        report["dead_letter"] = "ns_codec_error" if event.code == "UPLINK_CODEC" else None
        return report
    if isinstance(event, Join):
        report["detail"] = "join: recorded as the device's last join"
        return report
    info = directory.get(event.device) if directory else None
    if codec_id is not None:
        if codec_id not in codecs.CODECS:
            report.update(
                dead_letter="no_codec",
                detail=f"no codec {codec_id!r}; known: {sorted(codecs.CODECS)}",
            )
            return report
        info = (
            replace(info, codec_id=codec_id)
            if info
            else DeviceInfo(event.device, codec_id, "unknown")
        )
    if info is None:
        report.update(
            dead_letter="unknown_device",
            detail="not in the registry; give --codec to decode anyway",
        )
        return report
    if isinstance(event, Status):
        readings, problems = status_readings(event)
    else:
        report["codec"] = info.codec_id
        decoding = decode_uplink(event, info, settings)
        readings, problems = decoding.readings, decoding.problems
        report["warnings"] = decoding.warnings
    report["readings"] = [
        {"quantity": r.quantity, "value": r.value, "channel": r.channel, "time": _rfc3339(r.time)}
        for r in readings
    ]
    if problems:
        report["dead_letter"] = problems[0][0]
        report["problems"] = [f"{reason}: {detail}" for reason, detail in problems]
    return report

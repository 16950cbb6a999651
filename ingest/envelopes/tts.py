"""The Things Stack v3 uplinks: ``v3/{application}@{tenant}/devices/{device}/up``.

TTS omits fields equal to 0, false or "" (an fCnt of 0 or an SNR of 0 is simply absent), sends
``frequency`` as a string, integers in ``decoded_payload`` as JSON integers (ChirpStack's ``object``
has floats), and carries the network server's receive time in ``uplink_message.received_at``.
"""

from __future__ import annotations

import json
from typing import Any

from ingest.envelopes.common import b64, dev_eui, number, parse_time, radio
from ingest.events import EnvelopeError, Event, Ignored, Source, Uplink


def is_tts_topic(topic: str) -> bool:
    return topic.startswith("v3/")


def parse(topic: str, payload: bytes) -> Event:
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "v3" or parts[2] != "devices":
        raise EnvelopeError("bad_topic", f"not a TTS v3 topic: {topic!r}")
    if parts[4:] != ["up"]:
        return Ignored.OTHER  # join, down/*, service/data, location/solved: not measurements
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError("bad_json", f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EnvelopeError("bad_json", "TTS message is not a JSON object")
    ids = doc.get("end_device_ids") or {}
    device = dev_eui(ids.get("dev_eui"), "end_device_ids.dev_eui")
    up = doc.get("uplink_message")
    if not isinstance(up, dict):
        raise EnvelopeError("bad_envelope", "uplink_message is missing", device)
    try:
        time = parse_time(up.get("received_at") or doc.get("received_at"), "received_at")
    except EnvelopeError as exc:
        raise EnvelopeError(exc.reason, str(exc), device) from None
    receptions = [
        (number(rx.get("rssi", rx.get("channel_rssi"))), number(rx.get("snr", 0)))
        for rx in up.get("rx_metadata") or []
        if isinstance(rx, dict)
    ]
    lora: dict[str, Any] = ((up.get("settings") or {}).get("data_rate") or {}).get("lora") or {}
    sf = lora.get("spreading_factor")
    decoded = up.get("decoded_payload")
    app = (ids.get("application_ids") or {}).get("application_id")
    return Uplink(
        source=Source.TTS,
        device=device,
        time=time,
        f_port=int(up.get("f_port", 0)) if "frm_payload" in up or "f_port" in up else None,
        f_cnt=int(up.get("f_cnt", 0)),
        payload=b64(up.get("frm_payload"), "frm_payload"),
        dedup_id=None,  # DevEUI + fCnt + time, as TTS has no deduplication id
        decoded=decoded if isinstance(decoded, dict) else None,
        profile=app,
        radio=radio(receptions, int(sf) if sf is not None else None),
    )

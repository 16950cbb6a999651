"""Envelopes from ChirpStack v4 (JSON and protobuf) and TTS v3 parse into the same events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from chirpstack_api import integration
from google.protobuf import json_format

from ingest import envelopes
from ingest.events import EnvelopeError, Ignored, Join, NsLog, Status, Uplink
from simulator.envelopes import (
    Frame,
    Reception,
    chirpstack_join,
    chirpstack_log,
    chirpstack_status,
    chirpstack_topic,
    chirpstack_up_json,
    chirpstack_up_protobuf,
    tts_up,
)

EUI = "a840414b61866d2c"
T = datetime(2026, 11, 2, 7, 15, 30, 123456, tzinfo=UTC)
FRAME = Frame(
    dev_eui=EUI,
    f_cnt=4242,
    f_port=2,
    payload=bytes.fromhex("cbf60b0d0376010add7fff"),
    time=T,
    spreading_factor=9,
    receptions=(Reception("0016c001f153a14c", -97, 2.5), Reception("0016c001f153a14d", -88, 6.25)),
    dedup_id="3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
)


def _uplink(topic: str, payload: bytes) -> Uplink:
    event = envelopes.parse(topic, payload)
    assert isinstance(event, Uplink)
    return event


@pytest.mark.parametrize(
    "build",
    [chirpstack_up_json, chirpstack_up_protobuf, tts_up],
    ids=["cs-json", "cs-protobuf", "tts"],
)
def test_every_envelope_gives_the_same_uplink(build) -> None:  # type: ignore[no-untyped-def]
    up = _uplink(*build(FRAME))
    assert (up.device, up.f_cnt, up.f_port, up.payload, up.time) == (EUI, 4242, 2, FRAME.payload, T)
    # The best gateway (highest SNR) gives RSSI/SNR; both gateways are counted.
    assert (up.radio.rssi_dbm, up.radio.snr_db, up.radio.gateway_count) == (-88, 6.25, 2)
    assert up.radio.spreading_factor == 9


def test_chirpstack_json_reading_agrees_with_chirpstack_api() -> None:
    topic, payload = chirpstack_up_json(FRAME)
    doc = json.loads(payload)
    doc["someFieldOfALaterRelease"] = {"x": 1}
    reference = json_format.Parse(
        json.dumps(doc), integration.UplinkEvent(), ignore_unknown_fields=True
    )
    up = _uplink(topic, json.dumps(doc).encode())
    assert up.device == reference.device_info.dev_eui
    assert up.f_cnt == reference.f_cnt and up.f_port == reference.f_port
    assert up.payload == reference.data
    assert up.time == reference.time.ToDatetime(tzinfo=UTC)
    assert up.dedup_id == reference.deduplication_id
    assert up.radio.spreading_factor == reference.tx_info.modulation.lora.spreading_factor


def test_chirpstack_4_5_documents_with_rx_time_and_no_fcnt_parse() -> None:
    topic, payload = chirpstack_up_json(Frame(EUI, 0, 2, FRAME.payload, T))
    doc = json.loads(payload)
    for rx in doc["rxInfo"]:
        rx["time"] = rx.pop("gwTime")  # v4.4/4.5 naming
    up = _uplink(topic, json.dumps(doc).encode())
    assert up.f_cnt == 0 and up.time == T


def test_chirpstack_object_and_tts_decoded_payload_are_kept() -> None:
    topic, payload = chirpstack_up_json(FRAME)
    doc = json.loads(payload)
    doc["object"] = {"temperature": 21.0, "nested": {"co2": 612.0}}
    assert _uplink(topic, json.dumps(doc).encode()).decoded == doc["object"]
    topic, payload = tts_up(FRAME)
    doc = json.loads(payload)
    doc["uplink_message"]["decoded_payload"] = {"temperature": 21, "co2": 612}
    assert _uplink(topic, json.dumps(doc).encode()).decoded == {"temperature": 21, "co2": 612}


def test_tts_omitted_zero_fields_are_zero() -> None:
    topic, payload = tts_up(Frame(EUI, 0, 2, FRAME.payload, T))
    doc = json.loads(payload)
    assert "f_cnt" not in doc["uplink_message"]
    for rx in doc["uplink_message"]["rx_metadata"]:
        rx.pop("snr")
    up = _uplink(topic, json.dumps(doc).encode())
    assert up.f_cnt == 0 and up.radio.snr_db == 0


def test_status_join_and_log_events() -> None:
    status = envelopes.parse(*chirpstack_status(EUI, T, 87.5, 12))
    assert isinstance(status, Status) and (status.battery_pct, status.margin_db) == (87.5, 12)
    join = envelopes.parse(*chirpstack_join(EUI, T))
    assert isinstance(join, Join) and join.time == T
    log = envelopes.parse(*chirpstack_log(EUI, T, "UPLINK_CODEC", "js error", "abc"))
    assert (
        isinstance(log, NsLog)
        and log.code == "UPLINK_CODEC"
        and log.context["deduplication_id"] == "abc"
    )


@pytest.mark.parametrize("event", ["ack", "txack", "location", "integration"])
def test_events_that_carry_no_measurement_are_ignored(event: str) -> None:
    assert isinstance(envelopes.parse(chirpstack_topic(EUI, event), b"{}"), Ignored)


def _json(change: dict[str, object]) -> bytes:
    doc = json.loads(chirpstack_up_json(FRAME)[1])
    doc.update(change)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (chirpstack_topic(EUI), b'{"deduplicationId": ', "bad_json"),
        (chirpstack_topic(EUI), b"[1, 2]", "bad_json"),
        (chirpstack_topic(EUI), b"\x0a\xff\xff\xff\xff", "bad_protobuf"),
        (chirpstack_topic(EUI), _json({"time": "yesterday"}), "bad_time"),
        (chirpstack_topic(EUI), _json({"time": None}), "bad_time"),
        (chirpstack_topic(EUI), _json({"data": "not base64!"}), "bad_envelope"),
        (chirpstack_topic("ffffffffffffffff"), _json({}), "bad_envelope"),
        ("application/x/device/not-an-eui/event/up", b"{}", "bad_envelope"),
        ("some/other/topic", b"{}", "bad_topic"),
        ("v3/app@t/devices/d/up", b'{"end_device_ids": {}}', "bad_envelope"),
        ("v3/app@t/devices/d/up", b"\xff", "bad_json"),
    ],
    ids=[
        "truncated-json",
        "json-array",
        "garbage-protobuf",
        "bad-time",
        "no-time",
        "bad-base64",
        "eui-mismatch",
        "bad-topic-eui",
        "foreign-topic",
        "tts-no-eui",
        "tts-not-json",
    ],
)
def test_bad_envelopes_name_their_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        envelopes.parse(topic, payload)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02T07:15:30.123456789Z", datetime(2026, 11, 2, 7, 15, 30, 123456, tzinfo=UTC)),
        ("2026-11-02T08:15:30.5+01:00", datetime(2026, 11, 2, 7, 15, 30, 500000, tzinfo=UTC)),
        ("2026-11-02T07:15:30z", datetime(2026, 11, 2, 7, 15, 30, tzinfo=UTC)),
    ],
)
def test_rfc3339_times_with_nanoseconds_and_offsets_become_utc(
    text: str, expected: datetime
) -> None:
    from ingest.envelopes.common import parse_time

    assert parse_time(text, "time") == expected

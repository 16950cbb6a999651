"""The hot path's shortcuts give what the general path gives: msgspec's reading of a ChirpStack
uplink equals the dict walk's, document by document, and a vetted reading equals ``Reading``."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.quantities import QUANTITIES
from core.reading import Reading, ReadingError
from ingest.envelopes import chirpstack
from ingest.events import EnvelopeError
from ingest.vetted import maker, vetted
from simulator.envelopes import Frame, chirpstack_up_json

EUI = "a84042fb00000001"
T = datetime(2026, 11, 2, 7, 20, tzinfo=UTC)
LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")


def base() -> dict[str, object]:
    _topic, payload = chirpstack_up_json(Frame(EUI, 7, 2, LHT65, T, dedup_id="d-1"))
    doc: dict[str, object] = json.loads(payload)
    return doc


def edited(**changes: object) -> dict[str, object]:
    doc = base()
    for key, value in changes.items():
        if value is ...:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


DOCUMENTS = {
    "simulator": base(),
    "no fPort, data": edited(fPort=...),
    "no fPort, no data": edited(fPort=..., data=...),
    "null data": edited(data=None),
    "empty dedup id": edited(deduplicationId=""),
    "no dedup id": edited(deduplicationId=...),
    "no fCnt (4.5)": edited(fCnt=...),
    "object kept": edited(object={"temperature": 21.5, "sensors": {"co2": 412}}),
    "object not a dict": edited(object=[1, 2]),
    "integer rssi": edited(rxInfo=[{"rssi": -90, "snr": 7}]),
    "two gateways": edited(rxInfo=[{"rssi": -90, "snr": 2.5}, {"rssi": -100, "snr": 9.0}]),
    "no rxInfo": edited(rxInfo=...),
    "rx not a dict": edited(rxInfo=["x"]),
    "snake_case names": edited(f_port=3, fPort=...),
    "snake dedup id": edited(deduplication_id="d-2", deduplicationId=...),
    "no txInfo": edited(txInfo=...),
    "float spreading factor": edited(txInfo={"modulation": {"lora": {"spreadingFactor": 9.0}}}),
    "snake spreading factor": edited(txInfo={"modulation": {"lora": {"spreading_factor": 9}}}),
    "fCnt as text": edited(fCnt="12"),
    "dedup id a number": edited(deduplicationId=5),
    "bad base64": edited(data="@@@"),
    "time with offset": edited(time="2026-11-02T08:20:00.123456789+01:00"),
    "no time": edited(time=...),
    "naive time": edited(time="2026-11-02T07:20:00"),
    "device elsewhere": edited(deviceInfo={"devEui": "a84042fb00000002"}),
    "device info empty": edited(deviceInfo={}),
    "snake device info": edited(device_info={"dev_eui": EUI}, deviceInfo=...),
    "profile": edited(deviceInfo={"devEui": EUI, "deviceProfileName": "lht65"}),
    "profile not text": edited(deviceInfo={"devEui": EUI, "deviceProfileName": 3}),
}


def general(payload: bytes) -> object:
    """What the dict walk makes of an uplink document (the event, or the error it raises)."""
    try:
        return chirpstack._from_json("up", json.loads(payload), EUI)
    except (EnvelopeError, ValueError, TypeError, AttributeError) as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("doc", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_msgspec_reads_an_uplink_as_the_dict_walk_does_or_leaves_it_to_it(
    doc: dict[str, object],
) -> None:
    payload = json.dumps(doc).encode()
    expected = general(payload)
    try:
        fast = chirpstack._fast_up(payload, EUI)
    except EnvelopeError as exc:
        fast_or_error: object = (type(exc), str(exc))
    else:
        if fast is None:  # left to the dict walk: parse() then gives what it gives
            return
        fast_or_error = fast
    assert fast_or_error == expected


def test_the_simulators_uplink_takes_the_fast_road() -> None:
    payload = json.dumps(base()).encode()
    assert chirpstack._fast_up(payload, EUI) is not None


def test_snake_case_documents_are_left_to_the_dict_walk() -> None:
    for name in ("snake_case names", "snake dedup id", "snake spreading factor"):
        assert chirpstack._fast_up(json.dumps(DOCUMENTS[name]).encode(), EUI) is None, name


def outcome(make: object, *args: object) -> object:
    try:
        r = make(*args)  # type: ignore[operator]
    except ReadingError as exc:
        return ("error", exc.field, str(exc))
    assert isinstance(r, Reading)
    return (r, type(r.value), r.time.tzinfo)


PARIS = timezone(timedelta(hours=1))
VALUES = [0.0, 1.5, -1.5, 1e12, -1e12, 7, True, math.nan, math.inf, -math.inf, "3"]


@pytest.mark.parametrize("quantity", [*QUANTITIES, "no_such_quantity"])
def test_a_vetted_reading_is_the_reading_reading_would_make(quantity: str) -> None:
    q = QUANTITIES.get(quantity)
    values = [*VALUES, *((q.minimum, q.maximum, q.minimum - 1e-9, q.maximum + 1.0) if q else ())]
    for value in values:
        for time in (T, T.astimezone(PARIS)):
            for channel in (None, "ext", ""):
                args = (time, EUI, quantity, value, channel)
                assert outcome(vetted, *args) == outcome(Reading, *args), args


def test_a_device_that_is_no_dev_eui_is_left_to_reading() -> None:
    assert maker(EUI) is vetted
    with pytest.raises(ReadingError, match="device"):
        maker("A84042FB00000001")(T, "A84042FB00000001", "temperature_c", 21.0, None)

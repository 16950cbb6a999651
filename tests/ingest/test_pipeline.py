"""The pipeline stores what frames say, refuses the rest with a reason, and never loses a frame."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from core.clock import ManualClock
from core.reading import Reading
from core.state.dead_letter_store import DeadLetterStore
from core.state.models import Device
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from ingest.pipeline import Message
from simulator.envelopes import (
    Frame,
    chirpstack_event,
    chirpstack_join,
    chirpstack_log,
    chirpstack_status,
    chirpstack_status_protobuf,
    chirpstack_up_json,
    chirpstack_up_protobuf,
    tts_up,
)
from tests.ingest.conftest import (
    CLIMATE,
    METER,
    NO_CODEC,
    NOW,
    NS_DECODED,
    UNKNOWN,
    PipelineFactory,
)
from tests.services import InfluxServer

LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")  # 3.062 V, 28.29 °C, 88.6 %, probe 27.81 °C
T = NOW - timedelta(minutes=3)


def frame(eui: str = CLIMATE, f_cnt: int = 1, payload: bytes = LHT65, **kw: object) -> Frame:
    return Frame(eui, f_cnt, kw.pop("f_port", 2), payload, kw.pop("time", T), **kw)  # type: ignore[arg-type]


def msg(topic_payload: tuple[str, bytes]) -> Message:
    return Message(*topic_payload)


def stored(
    store: SqliteStore, quantity: str, device: str = CLIMATE
) -> list[tuple[str | None, float]]:
    got = store.read(
        Selection.of(quantity, devices=[device]), NOW - timedelta(days=30), NOW + timedelta(days=1)
    )
    return [(r.channel, r.value) for r in got.readings()]


def letters(state: StateStore) -> dict[str, int]:
    return {reason: n for (reason, _), n in DeadLetterStore(state).counts().items()}


def test_a_frame_becomes_readings_with_registry_tags_and_radio(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    outcome = make_pipeline(series).handle([msg(chirpstack_up_json(frame()))])
    assert outcome.stored == 4 + 4  # four measured values, four radio values
    assert stored(series, "temperature_c") == [(None, 28.29), ("ext", 27.81)]
    assert stored(series, "rssi_dbm") == [(None, -85.0)]
    got = series.read(Selection.of("humidity_pct"), NOW - timedelta(days=1), NOW)
    assert got.tags == [
        {
            "tenant": "caudry",
            "site": "caudry-gymnase",
            "building": "caudry-gymnase-salle",
            "model": "dragino/lht65",
        }
    ]


def test_every_envelope_kind_lands_the_same_readings(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    pipeline = make_pipeline(series)
    pipeline.handle([msg(chirpstack_up_json(frame(f_cnt=1, time=T)))])
    pipeline.handle([msg(chirpstack_up_protobuf(frame(f_cnt=2, time=T + timedelta(seconds=1))))])
    pipeline.handle([msg(tts_up(frame(f_cnt=3, time=T + timedelta(seconds=2))))])
    assert [v for _, v in stored(series, "humidity_pct")] == [88.6, 88.6, 88.6]


def test_redeliveries_and_repeats_are_stored_once(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    pipeline = make_pipeline(series)
    once = msg(chirpstack_up_json(frame(dedup_id="same-uplink")))
    first = pipeline.handle([once, once])
    again = pipeline.handle([once])
    assert (first.duplicates, again.duplicates) == (1, 1)
    assert stored(series, "humidity_pct") == [(None, 88.6)]


def test_a_partly_bad_frame_keeps_its_good_readings_and_is_dead_lettered(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    humid = bytes.fromhex("0BB8089804B0007FFF7FFF")  # humidity 120 %: out of range
    outcome = make_pipeline(series).handle([msg(chirpstack_up_json(frame(payload=humid)))])
    assert stored(series, "temperature_c") == [(None, 22.0)]
    assert stored(series, "humidity_pct") == []
    assert outcome.dead_letters == {"out_of_range": 1}
    [letter] = DeadLetterStore(state).list()
    assert letter.payload and "humidity_pct" in letter.detail and letter.device == CLIMATE


def test_each_bad_input_is_dead_lettered_with_its_reason(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    topic, payload = chirpstack_up_json(frame())
    batch = [
        Message(topic, payload[:40]),  # truncated JSON
        Message(topic, b"\x0a\x03abc\x12\xff"),  # broken protobuf
        msg(chirpstack_up_json(frame(eui=UNKNOWN, f_cnt=2))),
        msg(chirpstack_up_json(frame(f_cnt=3, payload=LHT65[:5]))),
        msg(chirpstack_up_json(frame(f_cnt=4, f_port=9))),
        msg(chirpstack_up_json(frame(f_cnt=5, time=NOW + timedelta(hours=2)))),
        msg(chirpstack_up_json(frame(eui=NO_CODEC, f_cnt=6))),
        msg(chirpstack_log(CLIMATE, T, "UPLINK_CODEC", "TypeError in decodeUplink", "abc-123")),
    ]
    outcome = make_pipeline(series).handle(batch)
    expected = {
        "bad_json": 1,
        "bad_protobuf": 1,
        "unknown_device": 1,
        "truncated": 1,
        "wrong_fport": 1,
        "bad_time": 1,
        "no_codec": 1,
        "ns_codec_error": 1,
    }
    assert outcome.dead_letters == expected
    assert letters(state) == expected
    quarantined = DeadLetterStore(state).list(reason="unknown_device")
    assert quarantined[0].payload == batch[2].payload and quarantined[0].device == UNKNOWN


def test_a_redelivered_bad_frame_updates_its_dead_letter(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    bad = msg(chirpstack_up_json(frame(eui=UNKNOWN)))
    make_pipeline(series).handle([bad])
    make_pipeline(series).handle([bad])  # a fresh process: no memory of the first
    [letter] = DeadLetterStore(state).list()
    assert letter.attempts == 2


def test_ns_decoded_objects_are_mapped_per_profile(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    topic, payload = chirpstack_up_json(frame(eui=NS_DECODED))
    doc = json.loads(payload)
    doc["object"] = {"temperature": 19.5, "vdd": 3612.0, "sensors": {"co2": 845.0}, "unmapped": 1}
    make_pipeline(series).handle([Message(topic, json.dumps(doc).encode())])
    assert stored(series, "temperature_c", NS_DECODED) == [(None, 19.5)]
    assert stored(series, "battery_v", NS_DECODED) == [(None, 3.612)]
    assert stored(series, "co2_ppm", NS_DECODED) == [(None, 845.0)]


def test_status_gives_battery_and_join_is_recorded(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    make_pipeline(series).handle(
        [msg(chirpstack_status(CLIMATE, T, 91.0, 8)), msg(chirpstack_join(CLIMATE, T))]
    )
    assert stored(series, "battery_pct") == [("devstatus", 91.0)]
    assert stored(series, "margin_db") == [(None, 8.0)]
    with state.session() as session:
        device = session.query(Device).filter_by(dev_eui=CLIMATE).one()
        assert device.last_join_at == T


# Each ChirpStack event kind that an uplink causes, carrying that uplink's deduplicationId.
EVENTS_OF_AN_UPLINK = {
    "status": lambda dedup: chirpstack_status(CLIMATE, T, 91.0, 8, dedup),
    "status-protobuf": lambda dedup: chirpstack_status_protobuf(CLIMATE, T, 91.0, 8, dedup),
    "join": lambda dedup: chirpstack_event("join", CLIMATE, T, dedup, devAddr="00189440"),
    "ack": lambda dedup: chirpstack_event("ack", CLIMATE, T, dedup, acknowledged=True),
    "txack": lambda dedup: chirpstack_event("txack", CLIMATE, T, None, downlinkId=dedup),
    "location": lambda dedup: chirpstack_event("location", CLIMATE, T, dedup, location={}),
    "log": lambda dedup: chirpstack_log(CLIMATE, T, "UPLINK_FCNT_RESET", "reset", dedup),
}


@pytest.mark.parametrize("kind", sorted(EVENTS_OF_AN_UPLINK))
@pytest.mark.parametrize("together", [True, False], ids=["one-batch", "two-batches"])
def test_an_uplink_is_never_the_duplicate_of_another_event_with_its_id(
    kind: str, together: bool, series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    """ChirpStack publishes the status of a DevStatusAns before the uplink that carried it,
    with the same deduplicationId: the uplink must still be stored, and only once."""
    pipeline = make_pipeline(series)
    other = msg(EVENTS_OF_AN_UPLINK[kind]("uplink-set-1"))
    up = msg(chirpstack_up_json(frame(dedup_id="uplink-set-1")))
    if together:
        assert pipeline.handle([other, up]).stored >= 8
    else:
        pipeline.handle([other])
        assert pipeline.handle([up]).stored == 8
    assert pipeline.handle([up]).duplicates == 1, "a redelivered uplink stays a duplicate"
    assert stored(series, "humidity_pct") == [(None, 88.6)]


def test_a_status_keeps_its_battery_apart_from_the_payloads(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    """Both arrive at the uplink's time: the device's own battery reading and the MAC layer's."""
    pipeline = make_pipeline(series)
    up = frame(payload=LHT65, dedup_id="uplink-set-2")
    pipeline.handle([msg(chirpstack_status(CLIMATE, T, 40.0, 8, "uplink-set-2"))])
    pipeline.handle([msg(chirpstack_up_json(up))])
    assert stored(series, "battery_pct") == [("devstatus", 40.0)]
    assert stored(series, "battery_v") == [(None, 3.062)]


def test_values_a_codec_keeps_aside_are_counted_not_dead_lettered(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    """An LHT65N status frame: its battery is stored, its firmware version kept in a warning."""
    registry = CollectorRegistry()
    pipeline = make_pipeline(series, registry)
    status = frame(payload=bytes.fromhex("0B015001FF0BB8"), f_port=5)
    outcome = pipeline.handle([msg(chirpstack_up_json(status))])
    assert outcome.dead_letters == {} and letters(state) == {}
    assert stored(series, "battery_v") == [(None, 3.0)]
    assert (
        registry.get_sample_value("vigie_ingest_codec_warnings_total", {"codec": "dragino/lht65"})
        == 1
    )


def test_a_store_outage_spools_then_replays_in_order(
    tmp_path: Path, clock: ManualClock, make_pipeline: PipelineFactory
) -> None:
    """A real influxd stopped and started again: nothing acknowledged is lost."""
    with InfluxServer(tmp_path / "influxd") as server:
        store = InfluxStore(server.url, "vigie", timeout_s=1.0)
        store.create_database()
        pipeline = make_pipeline(store, retry_s=10)
        pipeline.handle([msg(chirpstack_up_json(frame(f_cnt=1)))])
        server.stop()
        during = pipeline.handle(
            [
                msg(chirpstack_up_json(frame(f_cnt=k, time=T + timedelta(seconds=k))))
                for k in range(2, 12)
            ]
        )
        assert during.spooled == 10 * 8 and during.stored == 0
        server.start()
        assert pipeline.drain() == 0, "no retry before retry_s has passed"
        clock.advance(timedelta(seconds=11))
        after = pipeline.handle(
            [msg(chirpstack_up_json(frame(f_cnt=12, time=T + timedelta(seconds=12))))]
        )
        assert after.spooled == 8, "new readings queue behind the spooled ones"
        assert pipeline.drain() == 11 * 8
        humidity = store.read(Selection.of("humidity_pct"), T - timedelta(hours=1), NOW)
        assert len(humidity.times) == 12
        store.close()


def test_spooled_readings_survive_a_restart(tmp_path: Path, series: SqliteStore) -> None:
    from ingest.spool import Spool

    spool = Spool(tmp_path / "spool.sqlite", max_readings=100)
    readings = [Reading(T, CLIMATE, "temperature_c", 20.5, "ext")]
    spool.put(readings, {CLIMATE: {"tenant": "caudry"}})
    spool.close()
    reopened = Spool(tmp_path / "spool.sqlite", max_readings=100)
    head = reopened.head()
    assert (
        head is not None
        and head.readings == readings
        and head.tags == {CLIMATE: {"tenant": "caudry"}}
    )
    assert reopened.depth == 1
    reopened.close()


def test_history_timed_by_a_wrong_device_clock_is_refused(
    series: SqliteStore, state: StateStore, make_pipeline: PipelineFactory
) -> None:
    from datetime import UTC, datetime

    from ingest.codecs.registry import codec

    good_port, good = codec("axioma/qalcosonic-w1").encode({"volume_m3": 120.5}, T)
    reset_port, reset = codec("axioma/qalcosonic-w1").encode(
        {"volume_m3": 120.5}, datetime(2001, 1, 1, tzinfo=UTC)
    )
    pipeline = make_pipeline(series)
    ok = pipeline.handle([msg(chirpstack_up_json(frame(METER, 1, good, f_port=good_port)))])
    assert ok.dead_letters == {}
    wrong = pipeline.handle([msg(chirpstack_up_json(frame(METER, 2, reset, f_port=reset_port)))])
    assert wrong.dead_letters == {"bad_time": 1}
    volumes = series.read(
        Selection.of("volume_m3", devices=[METER]), NOW - timedelta(days=365 * 30), NOW
    )
    assert len(volumes.times) == 24 and volumes.times.min() > 10**18  # nothing from 2001

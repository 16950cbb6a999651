"""The MQTT consumer against a real Mosquitto: frames in, readings stored, messages acknowledged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.config import IngestSettings, MqttSettings
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from ingest.consumer import Consumer
from simulator.envelopes import Frame, chirpstack_up_json
from tests.ingest.conftest import CLIMATE, NOW, PipelineFactory
from tests.services import MosquittoServer

LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    with MosquittoServer(tmp_path / "mosquitto") as server:
        yield server


def publish(broker: MosquittoServer, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="test-publisher"
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


def wait_for(condition, timeout_s: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Poll an external process's progress, bounded (a real broker and consumer are running)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def humidity_count(series: SqliteStore) -> int:
    got = series.read(
        Selection.of("humidity_pct"), NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    return len(got.times)


def test_consumer_stores_every_frame_and_acknowledges_it(
    broker: MosquittoServer, series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    frames = [
        chirpstack_up_json(
            Frame(CLIMATE, k, 2, LHT65, NOW - timedelta(hours=12) + timedelta(seconds=k))
        )
        for k in range(1, 501)
    ]
    mqtt_settings = MqttSettings(host=broker.host, port=broker.port, client_id="vigie-test")
    settings = IngestSettings(batch_size=100, batch_ms=50)
    consumer = Consumer(make_pipeline(series), mqtt_settings, settings)
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,))
    worker.start()
    try:
        assert consumer.connected.wait(10)
        publish(broker, frames)
        wait_for(lambda: humidity_count(series) == 500)
    finally:
        stop.set()
        worker.join(10)
    # Same client id, persistent session: a resumed session delivers what was never acknowledged
    # first; one new frame is the sentinel, so exactly one message must arrive.
    delivered: list[int] = []
    again = Consumer(make_pipeline(series), mqtt_settings, settings, on_batch=delivered.append)
    stop = threading.Event()
    worker = threading.Thread(target=again.run, args=(stop,))
    worker.start()
    try:
        assert again.connected.wait(10)
        publish(
            broker, [chirpstack_up_json(Frame(CLIMATE, 501, 2, LHT65, NOW - timedelta(hours=1)))]
        )
        wait_for(lambda: humidity_count(series) == 501)
    finally:
        stop.set()
        worker.join(10)
    assert sum(delivered) == 1

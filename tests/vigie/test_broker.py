"""The demo's brokers: the in-process one carries QoS 1 frames to the real consumer (MQTT 3.1.1)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from core.config import IngestSettings, MqttSettings
from core.stores.sqlite import SqliteStore
from ingest.consumer import Consumer
from simulator.envelopes import Frame, chirpstack_up_json
from tests.ingest.conftest import CLIMATE, NOW, PipelineFactory
from tests.ingest.test_consumer import humidity_count, wait_for
from tests.services import free_port, port_accepts
from vigie.broker import EmbeddedBroker, demo_broker
from vigie.demo import free_port as demo_free_port

ROOT = Path(__file__).parents[2]
LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")


def test_embedded_broker_delivers_every_frame_to_an_mqtt_311_consumer(
    series: SqliteStore, make_pipeline: PipelineFactory
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    broker = EmbeddedBroker("127.0.0.1", free_port())
    broker.start()
    settings = MqttSettings(host=broker.host, port=broker.port, client_id="t", protocol="3.1.1")
    consumer = Consumer(
        make_pipeline(series), settings, IngestSettings(batch_size=100, batch_ms=50)
    )
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,))
    worker.start()
    try:
        assert consumer.connected.wait(10)
        publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="p")
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        for k in range(1, 301):
            frame = Frame(CLIMATE, k, 2, LHT65, NOW - timedelta(hours=5) + timedelta(seconds=k))
            publisher.publish(*chirpstack_up_json(frame), qos=1).wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()
        wait_for(lambda: humidity_count(series) == 300)
    finally:
        stop.set()
        worker.join(10)
        broker.stop()


def test_the_demo_prefers_mosquitto_and_moves_off_a_taken_port() -> None:
    """This machine (and CI) has mosquitto installed: the demo uses it, speaking MQTT 5."""
    broker = demo_broker("127.0.0.1", free_port())
    assert (type(broker).__name__, broker.protocol) == ("MosquittoBroker", "5")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert demo_free_port("127.0.0.1", port) != port


def test_a_demo_killed_outright_takes_its_mosquitto_along() -> None:
    """SIGKILL leaves the demo no time to stop its broker: the kernel's parent-death signal does."""
    port = free_port()
    script = (
        "import sys, time; from vigie.broker import demo_broker; "
        f"demo_broker('127.0.0.1', {port}).start(); print('up', flush=True); time.sleep(120)"
    )
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert demo.stdout is not None and demo.stdout.readline() == b"up\n"
        assert port_accepts("127.0.0.1", port)
        demo.kill()
        demo.wait(10)
        deadline = time.monotonic() + 10
        while port_accepts("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not port_accepts("127.0.0.1", port), "mosquitto outlived the demo"
    finally:
        demo.kill()

"""The buffered client on a real Mosquitto: whole messages in order, corked acknowledgements."""

from __future__ import annotations

import select
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt_client import READ_SIZE, BufferedClient
from tests.services import MosquittoServer

TOPIC = "application/1/device/a840414b61866d2c/event/up"


def subscriber(broker: MosquittoServer, received: list[mqtt.MQTTMessage]) -> BufferedClient:
    """A persistent QoS 1 session with manual acknowledgements, as ingest's."""
    client = BufferedClient(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="buffered",
        protocol=mqtt.MQTTv311,
        clean_session=False,
        manual_ack=True,
    )
    client.on_message = lambda _c, _u, msg: received.append(msg)
    client.connect(broker.host, broker.port)
    client.subscribe(TOPIC, qos=1)
    pump(client, lambda: client.socket() is not None and not client.want_write(), 1)
    return client


def pump(client: BufferedClient, done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Serve the client's socket, reading while its buffer holds bytes, until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        sock = client.socket()
        assert sock is not None
        if not client.pending():
            select.select([sock], [sock] if client.want_write() else [], [], 0.05)
        client.loop_read()
        client.loop_write()
        client.loop_misc()


def publish(broker: MosquittoServer, payloads: list[bytes]) -> None:
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="publisher")
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    for p in payloads:
        pub.publish(TOPIC, p, qos=1).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()


def test_messages_arrive_whole_and_in_order_across_buffer_reads(broker: MosquittoServer) -> None:
    received: list[mqtt.MQTTMessage] = []
    client = subscriber(broker, received)
    # Small ones many to a read; large ones span reads; one longer than a whole read.
    payloads = [f"frame {i:04d}".encode() * (1 + i % 7) for i in range(600)]
    payloads[100] = bytes(range(256)) * (3 * READ_SIZE // 256 + 5)
    payloads[101] = b"x" * (READ_SIZE - 3)
    publish(broker, payloads)
    pump(client, lambda: len(received) == len(payloads))
    assert [m.payload for m in received] == payloads
    client.disconnect()


def test_corked_acknowledgements_reach_the_broker_and_unacknowledged_ones_come_back(
    broker: MosquittoServer,
) -> None:
    received: list[mqtt.MQTTMessage] = []
    client = subscriber(broker, received)
    publish(broker, [f"m{i}".encode() for i in range(50)])
    pump(client, lambda: len(received) == 50)
    with client.corked():
        for m in received[:30]:
            client.ack(m.mid, m.qos)
        assert client.want_write()  # gathered, not sent yet
    assert not client.want_write()
    pump(client, lambda: False, 0.3)  # let the broker read them before the connection drops
    client.disconnect()

    again: list[mqtt.MQTTMessage] = []
    client = subscriber(broker, again)
    pump(client, lambda: len(again) >= 20, 5)
    pump(client, lambda: False, 0.3)  # any more would be one acknowledged and sent again
    assert sorted(m.payload for m in again) == sorted(f"m{i}".encode() for i in range(30, 50))
    client.disconnect()

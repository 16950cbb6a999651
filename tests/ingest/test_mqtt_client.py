"""The buffered client on a real Mosquitto: whole messages in order, corked acknowledgements,
the lean PUBLISH path on MQTT 5 and 3.1.1."""

from __future__ import annotations

import importlib.metadata
import select
import socket
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtt_client import OVERRIDDEN, READ_SIZE, BufferedClient, Received
from tests.services import MosquittoServer

TOPIC = "application/1/device/a840414b61866d2c/event/up"
PROTOCOLS = pytest.mark.parametrize(
    "protocol", [mqtt.MQTTv5, mqtt.MQTTv311], ids=["mqtt5", "mqtt311"]
)

Got = mqtt.MQTTMessage | Received


def subscriber(
    broker: MosquittoServer,
    received: list[Got],
    protocol: MQTTProtocolVersion = mqtt.MQTTv311,
    topic: str = TOPIC,
    qos: int = 1,
) -> BufferedClient:
    """A persistent session with manual acknowledgements, as ingest's."""
    v5 = protocol == mqtt.MQTTv5
    client = BufferedClient(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="buffered",
        protocol=protocol,
        clean_session=None if v5 else False,
        manual_ack=True,
    )
    client.on_message = lambda _c, _u, msg: received.append(msg)
    if v5:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        client.connect(broker.host, broker.port, clean_start=False, properties=props)
    else:
        client.connect(broker.host, broker.port)
    client.subscribe(topic, qos=qos)
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


def publish(
    broker: MosquittoServer,
    payloads: list[bytes],
    qos: int = 1,
    properties: Properties | None = None,
    topic: str = TOPIC,
) -> None:
    pub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="publisher",
        protocol=mqtt.MQTTv5 if properties else mqtt.MQTTv311,
    )
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    for p in payloads:
        pub.publish(topic, p, qos=qos, properties=properties).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()


def test_paho_still_has_what_the_lean_path_overrides_and_reads() -> None:
    """The client overrides paho's private methods and reads its private state: a paho whose
    internals moved must fail here, not ingest in production (pyproject pins the minor)."""
    assert importlib.metadata.version("paho-mqtt").startswith("2.2."), "check OVERRIDDEN anew"
    for name in OVERRIDDEN:
        assert callable(getattr(mqtt.Client, name, None)), f"paho has no Client.{name}"
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    for name in (
        "_in_packet",
        "_on_message",
        "_userdata",
        "_in_callback_mutex",
        "_msgtime_mutex",
        "_last_bytes_received",
        "_manual_ack",
        "_protocol",
        "_sock",
        "_out_packet",
        "_last_msg_out",
    ):
        assert hasattr(client, name), f"paho's Client has no {name}"
    assert client._in_packet["command"] == 0  # "no packet begun"
    assert callable(mqtt.time_func)


@PROTOCOLS
def test_messages_arrive_whole_and_in_order_across_buffer_reads(
    broker: MosquittoServer, protocol: MQTTProtocolVersion
) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, protocol)
    # Small ones many to a read; large ones span reads; one longer than a whole read.
    payloads = [f"frame {i:04d}".encode() * (1 + i % 7) for i in range(600)]
    payloads[100] = bytes(range(256)) * (3 * READ_SIZE // 256 + 5)
    payloads[101] = b"x" * (READ_SIZE - 3)
    publish(broker, payloads)
    pump(client, lambda: len(received) == len(payloads))
    assert [m.payload for m in received] == payloads
    assert {m.topic for m in received} == {TOPIC}
    assert all(isinstance(m, Received) for m in received)  # the lean path, also across reads
    client.disconnect()


@PROTOCOLS
def test_corked_acknowledgements_reach_the_broker_and_unacknowledged_ones_come_back(
    broker: MosquittoServer, protocol: MQTTProtocolVersion
) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, protocol)
    publish(broker, [f"m{i}".encode() for i in range(50)])
    pump(client, lambda: len(received) == 50)
    with client.corked():
        for m in received[:30]:
            client.ack(m.mid, m.qos)
        assert client.want_write()  # gathered, not sent yet
    assert not client.want_write()
    pump(client, lambda: False, 0.3)  # let the broker read them before the connection drops
    client.disconnect()

    again: list[Got] = []
    client = subscriber(broker, again, protocol)
    pump(client, lambda: len(again) >= 20, 5)
    pump(client, lambda: False, 0.3)  # any more would be one acknowledged and sent again
    assert sorted(m.payload for m in again) == sorted(f"m{i}".encode() for i in range(30, 50))
    client.disconnect()


@PROTOCOLS
def test_a_publish_with_mqtt5_properties_keeps_its_topic_and_payload(
    broker: MosquittoServer, protocol: MQTTProtocolVersion
) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, protocol)
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.UserProperty = [("tenant", "caudry"), ("é", "x" * 300)]  # a two-byte length
    props.ContentType = "application/json"
    props.MessageExpiryInterval = 3600
    payloads = [b'{"fCnt": %d}' % i for i in range(20)] + [b""]
    publish(broker, payloads, properties=props)
    pump(client, lambda: len(received) == len(payloads))
    assert [(m.topic, m.payload, m.qos) for m in received] == [(TOPIC, p, 1) for p in payloads]
    assert all(isinstance(m, Received) and m.mid for m in received)
    client.disconnect()


@PROTOCOLS
def test_qos_0_and_1_keep_their_qos_and_packet_id(
    broker: MosquittoServer, protocol: MQTTProtocolVersion
) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, protocol)
    publish(broker, [b"zero"], qos=0)
    publish(broker, [b"one"], qos=1)
    pump(client, lambda: len(received) == 2)
    assert [(m.payload, m.qos, m.mid > 0, m.dup, m.retain) for m in received] == [
        (b"zero", 0, False, False, False),
        (b"one", 1, True, False, False),
    ]
    client.disconnect()


@PROTOCOLS
def test_unacknowledged_messages_come_back_after_a_dropped_connection(
    broker: MosquittoServer, protocol: MQTTProtocolVersion
) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, protocol)
    publish(broker, [f"m{i}".encode() for i in range(40)])
    pump(client, lambda: len(received) == 40)
    with client.corked():
        for m in received[:10]:
            client.ack(m.mid, m.qos)
    pump(client, lambda: False, 0.3)
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)  # the connection drops under the client
    pump(client, lambda: client.socket() is None, 5)
    received.clear()
    client.reconnect()  # as the consumer does: same client, same session
    pump(client, lambda: len(received) >= 30, 5)
    pump(client, lambda: False, 0.3)
    assert sorted(m.payload for m in received) == sorted(f"m{i}".encode() for i in range(10, 40))
    assert all(m.dup for m in received)
    client.disconnect()


def test_qos_2_and_topic_callbacks_take_paho_path(broker: MosquittoServer) -> None:
    received: list[Got] = []
    client = subscriber(broker, received, mqtt.MQTTv5, topic="q2/#", qos=2)
    publish(broker, [b"exactly once"], qos=2, topic="q2/a")
    pump(client, lambda: len(received) == 1)
    assert isinstance(received[0], mqtt.MQTTMessage)
    assert (received[0].topic, received[0].payload, received[0].qos) == ("q2/a", b"exactly once", 2)

    filtered: list[Got] = []
    client.message_callback_add("q2/b", lambda _c, _u, msg: filtered.append(msg))
    publish(broker, [b"matched"], qos=1, topic="q2/b")
    pump(client, lambda: len(filtered) == 1)
    assert isinstance(filtered[0], mqtt.MQTTMessage) and filtered[0].payload == b"matched"
    client.disconnect()

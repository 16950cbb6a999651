"""The MQTT channel against a real private Mosquitto: the JSON arrives on the topic, or it fails."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice, NoticeKind
from analytics.alerts.notifiers.mqtt import MqttNotifier, MqttNotifierConfig
from analytics.alerts.notifiers.payload import encode
from tests.analytics.alerts.notifiers.conftest import make_notice
from tests.services import LOOPBACK, MosquittoServer, free_port

TOPIC = "vigie/alerts/caudry/sector_leak"
WAIT_S = 10.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    with MosquittoServer(tmp_path / "mosquitto") as server:
        yield server


@contextmanager
def subscribed(broker: MosquittoServer, topic: str) -> Iterator[queue.Queue[mqtt.MQTTMessage]]:
    """A real subscriber on ``topic`` (QoS 1), ready once the broker has acknowledged it."""
    inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    ready = threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="listener")
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda _c, _u, _m, _r, _p: ready.set()
    client.on_message = lambda _c, _u, message: inbox.put(message)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert ready.wait(WAIT_S), "subscription not acknowledged"
        yield inbox
    finally:
        client.disconnect()
        client.loop_stop()


def config(
    broker: MosquittoServer,
    *,
    protocol: Literal["5", "3.1.1"] = "5",
    timeout_s: float = 5.0,
) -> MqttNotifierConfig:
    return MqttNotifierConfig(
        host=broker.host, port=broker.port, protocol=protocol, timeout_s=timeout_s
    )


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_publishes_the_webhook_json_on_the_topic(
    broker: MosquittoServer, notice: Notice, protocol: Literal["5", "3.1.1"]
) -> None:
    notifier = MqttNotifier(config(broker, protocol=protocol))
    assert notifier.channel == "mqtt"
    with subscribed(broker, "vigie/alerts/#") as inbox:
        notifier.send(notice, TOPIC)
        message = inbox.get(timeout=WAIT_S)
    assert message.topic == TOPIC
    assert message.payload == encode(notice)
    assert json.loads(message.payload)["id"] == "42:opened:2026-11-24T07:30:00Z"
    assert message.qos == 1
    assert not message.retain


def test_each_send_is_one_message_and_nothing_is_retained(
    broker: MosquittoServer, notice: Notice
) -> None:
    notifier = MqttNotifier(config(broker))
    with subscribed(broker, "vigie/alerts/#") as inbox:
        notifier.send(notice, TOPIC)
        notifier.send(make_notice(kind=NoticeKind.RESOLVED), TOPIC)
        events = [json.loads(inbox.get(timeout=WAIT_S).payload)["event"] for _ in range(2)]
    assert events == ["opened", "resolved"]
    # A subscriber arriving later gets nothing: an old alert must not look like a new one.
    with subscribed(broker, "vigie/alerts/#") as late:
        notifier.send(make_notice(kind=NoticeKind.ESCALATED), "vigie/alerts/caudry/other")
        assert json.loads(late.get(timeout=WAIT_S).payload)["event"] == "escalated"
        assert late.empty()


def test_broker_down_is_an_error(notice: Notice) -> None:
    notifier = MqttNotifier(MqttNotifierConfig(host=LOOPBACK, port=free_port(), timeout_s=5.0))
    with pytest.raises(NotifyError, match="connection refused"):
        notifier.send(notice, TOPIC)


def test_broker_stopped_after_start_is_an_error(broker: MosquittoServer, notice: Notice) -> None:
    notifier = MqttNotifier(config(broker))
    notifier.send(notice, TOPIC)
    broker.stop()
    with pytest.raises(NotifyError, match="unreachable"):
        notifier.send(notice, TOPIC)
    broker.start()
    notifier.send(notice, TOPIC)  # a connection per send: nothing to repair after an outage


def test_a_hung_broker_times_out(broker: MosquittoServer, notice: Notice) -> None:
    notifier = MqttNotifier(config(broker, timeout_s=0.5))
    broker.freeze()  # the kernel still accepts the TCP connection; no CONNACK ever comes
    try:
        with pytest.raises(NotifyError, match=r"no CONNACK within 0\.5 s"):
            notifier.send(notice, TOPIC)
    finally:
        broker.thaw()


@pytest.mark.parametrize("topic", ["vigie/alerts/#", "vigie/+/x", ""])
def test_an_invalid_topic_is_an_error(broker: MosquittoServer, notice: Notice, topic: str) -> None:
    with pytest.raises(NotifyError, match="invalid MQTT topic"):
        MqttNotifier(config(broker)).send(notice, topic)


def test_the_password_stays_out_of_reprs() -> None:
    assert "hunter2" not in repr(MqttNotifierConfig(username="vigie", password="hunter2"))


class GuardedMosquitto(MosquittoServer):
    """Anonymous clients may publish under ``vigie/alerts/`` only."""

    def configure(self) -> None:
        super().configure()
        acl = self.root / "acl"
        acl.write_text("topic readwrite vigie/alerts/#\n")
        with self.config_path.open("a") as conf:
            conf.write(f"acl_file {acl}\n")


def test_a_message_the_broker_refuses_is_an_error(tmp_path: Path, notice: Notice) -> None:
    with GuardedMosquitto(tmp_path / "mosquitto") as broker:
        notifier = MqttNotifier(config(broker))
        notifier.send(notice, TOPIC)
        with pytest.raises(NotifyError, match="refused the message on 'ailleurs/x'"):
            notifier.send(notice, "ailleurs/x")

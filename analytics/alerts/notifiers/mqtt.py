"""MQTT channel: publish the notice's JSON (the webhook body) to a topic, QoS 1, wait for PUBACK.

One connection per notice, not a kept-open client. Alerts are rare (a few an hour on a bad day),
so a TCP + CONNECT round trip per notice costs nothing that matters, and it buys a plain answer
to "did the broker take it?": a kept-open paho client accepts publishes while disconnected and
queues them in memory until it reconnects, which is exactly the silent maybe the ``Notifier``
contract forbids, and it needs a network thread and reconnect state to look after. Retries belong
to the dispatcher's outbox, which survives a restart; paho's in-memory queue does not.

The client is driven by ``loop()`` in the calling thread with a deadline: no background thread,
no sleeping. Each send uses its own client id (prefix + random suffix) so that two Vigie
processes never kick each other off the broker.
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from analytics.alerts.channel import NotifyError
from analytics.alerts.model import Notice
from analytics.alerts.notifiers.payload import encode

QOS = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttNotifierConfig:
    """The broker to publish alerts to (it may differ from the one the network server uses).
    ``timeout_s`` bounds the whole exchange: connect, CONNACK, PUBACK. Prefer MQTT 5: under
    3.1.1 a broker acknowledges even a publish its ACLs drop, so a refusal goes unseen."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    protocol: Literal["5", "3.1.1"] = "5"
    tls: bool = False
    ca_file: str | None = None  # trust a private CA instead of the system's (with tls)
    client_id_prefix: str = "vigie-notify"
    timeout_s: float = 10.0


@dataclass
class _Exchange:
    """What the broker said during one send (written by paho callbacks, read by ``send``)."""

    connack: ReasonCode | None = None
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)


class MqttNotifier:
    """Publishes each notice to the topic its route names, e.g. ``vigie/alerts/<tenant>/<type>``.
    Not retained: a subscriber that connects later must not take an old alert for a new one."""

    def __init__(self, config: MqttNotifierConfig) -> None:
        self._config = config
        self._v5 = config.protocol == "5"
        # Built once: a missing or unreadable ca_file is a configuration error, seen at start-up.
        self._tls = ssl.create_default_context(cafile=config.ca_file) if config.tls else None

    @property
    def channel(self) -> str:
        return "mqtt"

    def send(self, notice: Notice, destination: str) -> None:
        _check_topic(destination)
        config = self._config
        where = f"MQTT broker {config.host}:{config.port}"
        deadline = time.monotonic() + config.timeout_s
        exchange = _Exchange()
        client = self._client(exchange)
        try:
            try:
                client.connect(config.host, config.port, keepalive=60)
            except (OSError, ValueError) as exc:
                raise NotifyError(f"{where} unreachable: {_reason(exc)}") from exc
            self._pump(client, deadline, lambda: exchange.connack is not None, "CONNACK", where)
            if exchange.connack is not None and exchange.connack.is_failure:
                raise NotifyError(f"{where} refused the connection: {exchange.connack}")
            info = client.publish(
                destination, encode(notice), qos=QOS, retain=False, properties=self._props()
            )
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise NotifyError(f"{where}: publish failed: {mqtt.error_string(info.rc)}")
            self._pump(client, deadline, lambda: info.mid in exchange.pubacks, "PUBACK", where)
            reason = exchange.pubacks[info.mid]
            if reason.is_failure:  # MQTT 5 only: e.g. not authorised on this topic
                raise NotifyError(f"{where} refused the message on {destination!r}: {reason}")
        finally:
            _close(client)

    def _client(self, exchange: _Exchange) -> mqtt.Client:
        config = self._config
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"{config.client_id_prefix}-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5 if self._v5 else mqtt.MQTTv311,
            clean_session=None if self._v5 else True,
        )
        client.connect_timeout = config.timeout_s
        if config.username:
            client.username_pw_set(config.username, config.password)
        if self._tls is not None:
            client.tls_set_context(self._tls)

        def on_connect(
            _c: mqtt.Client, _ud: object, _flags: object, reason: ReasonCode, _p: object
        ) -> None:
            exchange.connack = reason

        def on_publish(
            _c: mqtt.Client, _ud: object, mid: int, reason: ReasonCode, _p: object
        ) -> None:
            exchange.pubacks[mid] = reason

        client.on_connect = on_connect
        client.on_publish = on_publish
        return client

    def _props(self) -> Properties | None:
        if not self._v5:
            return None
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ContentType = "application/json"
        return props

    def _pump(
        self,
        client: mqtt.Client,
        deadline: float,
        done: Callable[[], bool],
        waiting_for: str,
        where: str,
    ) -> None:
        """Run the client's network loop until ``done()`` or the deadline."""
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotifyError(f"{where}: no {waiting_for} within {self._config.timeout_s:g} s")
            rc = client.loop(timeout=min(left, 0.1))
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not done():
                raise NotifyError(
                    f"{where}: connection lost before {waiting_for} ({mqtt.error_string(rc)})"
                )


def _check_topic(topic: str) -> None:
    # Checked before connecting: paho lets an empty topic through under MQTT 5 (it means "use
    # the topic alias"), and the broker then drops the connection with a protocol error.
    if not topic or "+" in topic or "#" in topic or "\0" in topic:
        raise NotifyError(f"invalid MQTT topic {topic!r}: empty, wildcard or NUL")
    if len(topic.encode("utf-8")) > 65535:
        raise NotifyError(f"invalid MQTT topic {topic[:40]!r}...: longer than 65535 bytes")


def _close(client: mqtt.Client) -> None:
    # Sends DISCONNECT and closes the socket (paho writes it at once when no loop thread runs).
    with suppress(OSError):
        client.disconnect()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (broker down?)"
    if isinstance(exc, TimeoutError):
        return "connection timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc})"
    return f"{type(exc).__name__}: {exc}"

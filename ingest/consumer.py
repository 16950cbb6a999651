"""The MQTT consumer: QoS 1, a persistent session, and acknowledgements only once durable.

paho-mqtt 2.x with ``manual_ack=True``: the network thread queues each message; the worker thread
takes batches (``batch_size`` messages or ``batch_ms``), hands them to the pipeline, and acks them
only when the pipeline has made them durable. A crash before that leaves them unacknowledged, so
the broker sends them again after reconnection (MQTT 5: ``clean_start=False`` and a session expiry
keep the session; the fixed client id finds it again). N workers share the load through a shared
subscription (``$share/<group>/<filter>``).

Broker settings this relies on (Mosquitto): ``persistence true``; ``max_queued_messages`` large
enough for an outage's worth of frames (0: unbounded); ``max_inflight_messages`` ≥ the batch size
(the default of 20 would throttle batching); ChirpStack's MQTT integration with ``qos=1``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import SQLAlchemyError

from core.config import IngestSettings, MqttSettings
from ingest.pipeline import Message, Pipeline
from ingest.spool import SpoolFull

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535


def topic_filters(settings: IngestSettings, mqtt_settings: MqttSettings) -> list[str]:
    group = mqtt_settings.shared_group
    return [f"$share/{group}/{t}" if group else t for t in settings.topics]


class Consumer:
    """Runs until ``stop`` is set; every message it acknowledged is durable."""

    def __init__(
        self,
        pipeline: Pipeline,
        mqtt_settings: MqttSettings,
        settings: IngestSettings,
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._mqtt = mqtt_settings
        self._settings = settings
        self._inbox: queue.Queue[Message] = queue.Queue(maxsize=4 * settings.batch_size)
        self._on_batch = on_batch
        self.connected = threading.Event()
        self._stopping = False
        self._v5 = mqtt_settings.protocol == "5"
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=mqtt_settings.client_id,
            protocol=mqtt.MQTTv5 if self._v5 else mqtt.MQTTv311,
            # MQTT 3.1.1 keeps the session with clean_session=False (MQTT 5 sets it at connect).
            clean_session=None if self._v5 else False,
            manual_ack=True,
        )
        if mqtt_settings.username:
            password = mqtt_settings.password.get_secret_value() if mqtt_settings.password else None
            self._client.username_pw_set(mqtt_settings.username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)

    # -- network thread ---------------------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _ud: object, _flags: object, reason: ReasonCode, _p: object
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(t, 1) for t in topic_filters(self._settings, self._mqtt)])
        self.connected.set()
        log.info("connected to %s:%s", self._mqtt.host, self._mqtt.port)

    def _on_disconnect(
        self, _c: mqtt.Client, _ud: object, _flags: object, reason: ReasonCode, _p: object
    ) -> None:
        self.connected.clear()
        if self._stopping:
            log.info("disconnected from the broker")
        else:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        # Blocks when the worker is behind: the socket stops being read, the broker holds on.
        self._inbox.put(Message(msg.topic, bytes(msg.payload), (msg.mid, msg.qos)))

    # -- worker thread ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        if self._v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = SESSION_EXPIRY_S
            props.ReceiveMaximum = RECEIVE_MAXIMUM
            self._client.connect_async(
                self._mqtt.host, self._mqtt.port, keepalive=30, clean_start=False, properties=props
            )
        else:
            self._client.connect_async(self._mqtt.host, self._mqtt.port, keepalive=30)
        self._client.loop_start()
        try:
            while not stop.is_set():
                self._pipeline.drain()
                batch = self._take()
                if batch:
                    self._handle(batch, stop)
        finally:
            self._stopping = True
            self._client.disconnect()
            self._client.loop_stop()

    def _take(self) -> list[Message]:
        try:
            first = self._inbox.get(timeout=self._settings.batch_ms / 1000)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._settings.batch_ms / 1000
        while len(batch) < self._settings.batch_size:
            left = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get(timeout=max(left, 0)) if left > 0 else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list[Message], stop: threading.Event) -> None:
        while True:
            try:
                self._pipeline.handle(batch)
                break
            except (SpoolFull, SQLAlchemyError) as exc:
                # Nothing of the batch is acknowledged: wait, then try the same batch again.
                log.error("batch not durable, retrying in %.0f s: %s", self._settings.retry_s, exc)
                if stop.wait(self._settings.retry_s):
                    return
                self._pipeline.drain()
        for message in batch:
            mid, qos = message.token
            if qos:
                self._client.ack(mid, qos)
        if self._on_batch is not None:
            self._on_batch(len(batch))

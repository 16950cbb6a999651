"""The MQTT consumer: QoS 1, a persistent session, and acknowledgements only once durable.

paho-mqtt 2.x with ``manual_ack=True``: the network thread queues each message; the worker thread
takes batches (``batch_size`` messages or ``batch_ms``), hands them to the pipeline, and acks them
only when the pipeline has made them durable. A crash before that leaves them unacknowledged, so
the broker sends them again after reconnection (MQTT 5: ``clean_start=False`` and a session expiry
keep the session; the fixed client id finds it again). N workers share the load through a shared
subscription (``$share/<group>/<filter>``).

A batch that cannot be made durable is retried with backoff (``ingest.failures``) for as long as
waiting can help; a failure that cannot heal (refused credentials, a missing database) ends
``run`` with ``Fatal``, so the process exits and says why. ``status`` tells ``/health`` how the
worker is doing (``ingest.health``).

Broker settings this relies on (Mosquitto): ``persistence true``; ``max_queued_messages`` large
enough for an outage's worth of frames (0: unbounded); ``max_inflight_messages`` ≥ the batch size
(the default of 20 would throttle batching); ChirpStack's MQTT integration with ``qos=1``.
"""

from __future__ import annotations

import functools
import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from core.clock import Clock, SystemClock
from core.config import IngestSettings, MqttSettings
from core.health import Fatal, PartState, PartStatus
from ingest.failures import Kind, RetryPolicy, describe, kind_of
from ingest.health import IngestHealth
from ingest.pipeline import Message, Pipeline

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535
# CONNACK reasons that retrying cannot change (MQTT 5 codes; paho maps 3.1.1's onto them).
_REFUSED_FOR_GOOD = {
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x8C: "bad authentication method",
}


def topic_filters(settings: IngestSettings, mqtt_settings: MqttSettings) -> list[str]:
    group = mqtt_settings.shared_group
    return [f"$share/{group}/{t}" if group else t for t in settings.topics]


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """The TLS context of the broker connection: its CA (else the system's), and our client
    certificate when the broker asks for one. A file that is missing or unreadable is Fatal."""
    if not settings.tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.cert_file:
            context.load_cert_chain(
                str(settings.cert_file), str(settings.key_file) if settings.key_file else None
            )
    except (OSError, ssl.SSLError) as exc:
        raise Fatal(f"MQTT TLS configuration: {describe(exc)}") from exc
    return context


class Consumer:
    """Runs until ``stop`` is set; every message it acknowledged is durable."""

    name = "ingest"

    def __init__(
        self,
        pipeline: Pipeline,
        mqtt_settings: MqttSettings,
        settings: IngestSettings,
        *,
        clock: Clock | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._mqtt = mqtt_settings
        self._settings = settings
        self._clock = clock or SystemClock()
        self._inbox: queue.Queue[Message] = queue.Queue(maxsize=4 * settings.batch_size)
        self._on_batch = on_batch
        self._retry = RetryPolicy(first_s=settings.retry_s, max_s=settings.retry_max_s)
        self.health = IngestHealth(
            self._clock.now(),
            down_after_s=settings.down_after_s,
            stuck_after_s=settings.stuck_after_s,
            spool_depth=lambda: pipeline.spool_depth,
        )
        self.connected = threading.Event()
        self._refused: Fatal | None = None
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
        self._tls = tls_context(mqtt_settings)
        if self._tls is not None:
            self._client.tls_set_context(self._tls)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)

    def status(self, now: datetime) -> PartStatus:
        return self.health.status(now)

    # -- network thread ---------------------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _ud: object, _flags: object, reason: ReasonCode, _p: object
    ) -> None:
        if reason.is_failure:
            why = _REFUSED_FOR_GOOD.get(reason.value)
            where = f"{self._mqtt.host}:{self._mqtt.port}"
            if why is not None:
                self._refused = Fatal(f"the MQTT broker {where} refused the connection: {why}")
            log.error("broker %s refused the connection: %s", where, reason)
            return
        client.subscribe([(t, 1) for t in topic_filters(self._settings, self._mqtt)])
        self.connected.set()
        self.health.connected(self._clock.now())
        log.info("connected to %s:%s", self._mqtt.host, self._mqtt.port)

    def _on_disconnect(
        self, _c: mqtt.Client, _ud: object, _flags: object, reason: ReasonCode, _p: object
    ) -> None:
        self.connected.clear()
        self.health.disconnected(self._clock.now())
        if self._stopping:
            log.info("disconnected from the broker")
        else:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        # Blocks when the worker is behind: the socket stops being read, the broker holds on.
        self._inbox.put(Message(msg.topic, bytes(msg.payload), (msg.mid, msg.qos)))

    # -- worker thread ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``; raises Fatal (the worker is marked failed) when a failure
        cannot heal."""
        try:
            self._connect()
            while not stop.is_set():
                if self._refused is not None:
                    raise self._refused
                if not self._until_done(self._pipeline.drain, stop):
                    break
                batch = self._take()
                if batch:
                    self.health.took(self._clock.now())
                    if not self._until_done(functools.partial(self._make_durable, batch), stop):
                        break  # stopping: the batch stays unacknowledged, the broker keeps it
                    self.health.durable(self._clock.now())
                    self._acknowledge(batch)
        except Fatal as exc:
            self.health.ended(PartState.FAILED, str(exc))
            raise
        else:
            self.health.ended(PartState.STOPPED, "stopped")
        finally:
            self._stopping = True
            self._client.disconnect()
            self._client.loop_stop()

    def _connect(self) -> None:
        if self._tls is not None:
            self._check_certificate(self._tls)
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

    def _check_certificate(self, context: ssl.SSLContext) -> None:
        """Fatal at once if the broker's certificate is not trusted: paho's connection loop
        would retry that forever without a word. A broker that does not answer yet is left to
        the loop (and to /health)."""
        host, port = self._mqtt.host, self._mqtt.port
        try:
            with (
                socket.create_connection((host, port), timeout=10) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                pass
        except ssl.SSLCertVerificationError as exc:
            raise Fatal(
                f"MQTT TLS: the broker {host}:{port} has a certificate we do not trust "
                f"({exc.verify_message}); set [mqtt] ca_file to the CA that signed it"
            ) from exc
        except OSError as exc:
            log.warning("MQTT broker %s:%s not reachable yet: %s", host, port, describe(exc))

    def _until_done(self, step: Callable[[], object], stop: threading.Event) -> bool:
        """Run ``step`` until it succeeds (True), retrying what may heal with backoff; False if
        ``stop`` was set meanwhile. Nothing is acknowledged while it fails."""
        attempt = 0
        while True:
            try:
                step()
            except Exception as exc:
                attempt += 1
                kind = kind_of(exc)
                if self._retry.gives_up(kind, attempt):
                    if isinstance(exc, Fatal):
                        raise
                    raise Fatal(describe(exc)) from exc
                pause = self._retry.delay(attempt)
                self.health.retrying(describe(exc))
                log.error(
                    "batch not durable (%s, attempt %d), retrying in %.0f s: %s",
                    kind.value,
                    attempt,
                    pause,
                    describe(exc),
                    exc_info=kind is Kind.UNEXPECTED,  # a bug: its traceback is wanted
                )
                if stop.wait(pause):
                    return False
            else:
                if attempt:
                    self.health.recovered()
                    log.info("recovered after %d attempt(s)", attempt + 1)
                return True

    def _make_durable(self, batch: list[Message]) -> None:
        # The spool drains first: a full spool (SpoolFull) empties only that way.
        self._pipeline.drain()
        self._pipeline.handle(batch)

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

    def _acknowledge(self, batch: list[Message]) -> None:
        for message in batch:
            mid, qos = message.token
            if qos:
                self._client.ack(mid, qos)
        if self._on_batch is not None:
            self._on_batch(len(batch))

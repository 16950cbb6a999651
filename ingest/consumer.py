"""The MQTT consumer: QoS 1, a persistent session, and acknowledgements only once durable.

paho-mqtt 2.x with ``manual_ack=True``, driven by one thread: ``run`` reads the socket itself
(paho's external-loop interface: ``loop_read``, ``loop_write``, ``loop_misc``) until it holds a
batch (``batch_size`` messages or ``batch_ms``), hands it to the pipeline, and acks its messages
only when the pipeline has made them durable. No network thread, no per-message queue: on a small
machine, handing every message from one thread to another cost more than decoding it. While a
batch is being made durable the socket is not read, and the broker holds on (back-pressure). A
crash before the acks leaves the messages unacknowledged, so the broker sends them again after
reconnection (MQTT 5: ``clean_start=False`` and a session expiry keep the session; the fixed
client id finds it again). N workers share the load through a shared subscription
(``$share/<group>/<filter>``).

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
import select
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
from ingest.mqtt_client import BufferedClient, Received
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
        # Messages read and not yet in a batch; read while a batch fails, up to ``_held_max``.
        self._received: list[Message] = []
        self._held_max = 4 * settings.batch_size
        self._reconnect_at = 0.0
        self._reconnect_delay = 1.0
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
        self._client = BufferedClient(
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

    def status(self, now: datetime) -> PartStatus:
        return self.health.status(now)

    # -- network callbacks (called by paho from ``run``'s own reads) -------------------------------

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
        # Not yet in a batch, not acknowledged: the broker sends them again on the new connection.
        self._received.clear()
        if self._stopping:
            log.info("disconnected from the broker")
        else:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: Received | mqtt.MQTTMessage) -> None:
        self._received.append(Message(msg.topic, bytes(msg.payload), (msg.mid, msg.qos)))

    # -- the one thread ---------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop``; raises Fatal (the worker is marked failed) when a failure
        cannot heal."""
        self._stopping = False
        self._received.clear()
        try:
            self._connect()
            while not stop.is_set():
                if self._refused is not None:
                    raise self._refused
                if not self._until_done(self._pipeline.drain, stop):
                    break
                batch = self._take(stop)
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
            self._client.disconnect()  # sent at once: paho writes when no loop thread runs

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
        self._reconnect_at = 0.0
        self._reconnect_delay = 1.0

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
                if self._idle(pause, stop):
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

    def _take(self, stop: threading.Event) -> list[Message]:
        """A batch: ``batch_size`` messages, or what came within ``batch_ms`` of the first; none
        if nothing came within ``batch_ms`` (the caller then drains the spool, checks ``stop``)."""
        size, wait = self._settings.batch_size, self._settings.batch_ms / 1000
        deadline = time.monotonic() + wait
        first = bool(self._received)
        while len(self._received) < size and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._pump(left, size)
            if self._received and not first:
                first = True
                deadline = time.monotonic() + wait
        batch, self._received = self._received[:size], self._received[size:]
        return batch

    def _idle(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds`` (True if ``stop`` was set meanwhile), keeping the connection alive
        and reading ahead, up to ``_held_max`` messages; past that, the broker holds on."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if len(self._received) >= self._held_max:
                if stop.wait(min(left, 0.5)):
                    return True
            else:
                self._pump(min(left, 0.5), self._held_max)
                if stop.is_set():
                    return True
        return stop.is_set()

    def _pump(self, timeout: float, up_to: int) -> None:
        """One turn of the network, waiting at most ``timeout``: connect if we are not; else read
        what arrived (until ``up_to`` messages are held), send what is queued, keep alive."""
        client = self._client
        sock = client.socket()
        if sock is None:
            self._reconnect(timeout)
            return
        tls_pending = getattr(sock, "pending", None)  # TLS: decrypted bytes, unseen by select
        try:
            if client.pending() or (tls_pending is not None and tls_pending()):
                readable = True
                writable = client.want_write()
            else:
                r, w, _ = select.select([sock], [sock] if client.want_write() else [], [], timeout)
                readable, writable = bool(r), bool(w)
        except (OSError, ValueError):  # closed under us: paho finds out and reconnects
            readable, writable = True, False
        if readable:
            # paho reads one packet a call: go on while whole messages keep coming.
            while client.socket() is not None and len(self._received) < up_to:
                held = len(self._received)
                if client.loop_read() != mqtt.MQTT_ERR_SUCCESS or len(self._received) == held:
                    break
        if client.socket() is not None and (writable or client.want_write()):
            client.loop_write()
        if client.socket() is not None:
            client.loop_misc()

    def _reconnect(self, timeout: float) -> None:
        """Connect (again), at most once per ``_reconnect_delay`` (1 s, doubling up to 10 s)."""
        now = time.monotonic()
        if now < self._reconnect_at:
            time.sleep(min(timeout, self._reconnect_at - now))
            return
        try:
            self._client.reconnect()
        except OSError as exc:
            self._reconnect_at = time.monotonic() + self._reconnect_delay
            self._reconnect_delay = min(2 * self._reconnect_delay, 10.0)
            log.debug("MQTT connection failed, retrying: %s", describe(exc))
        else:
            self._reconnect_delay = 1.0

    def _acknowledge(self, batch: list[Message]) -> None:
        with self._client.corked():  # one write for the batch's PUBACKs
            for message in batch:
                mid, qos = message.token
                if qos:
                    self._client.ack(mid, qos)
        if self._on_batch is not None:
            self._on_batch(len(batch))

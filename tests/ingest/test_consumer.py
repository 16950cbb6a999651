"""The MQTT consumer against a real Mosquitto: frames in, readings stored, messages acknowledged."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import trustme
from paho.mqtt.enums import CallbackAPIVersion

from core.config import IngestSettings, MqttSettings
from core.health import Fatal, PartState
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from ingest.consumer import Consumer
from simulator.envelopes import Frame, chirpstack_up_json
from tests.ingest.conftest import CLIMATE, NOW, PipelineFactory
from tests.services import MosquittoServer

LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")


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


# -- a production broker: TLS with our own CA, user names and passwords --------------------------


@dataclass(frozen=True)
class Pki:
    """A CA made for the test session (no key is ever committed), the broker's certificate, a
    client certificate, and a CA the broker's certificate has nothing to do with."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("vigie-ingest")
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    other.cert_pem.write_to_path(str(root / "other-ca.pem"))
    server.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    server.private_key_pem.write_to_path(str(root / "server.key"))
    client.cert_chain_pems[0].write_to_path(str(root / "client.pem"))
    client.private_key_pem.write_to_path(str(root / "client.key"))
    return Pki(
        root / "ca.pem",
        root / "server.pem",
        root / "server.key",
        root / "client.pem",
        root / "client.key",
        root / "other-ca.pem",
    )


class SecureMosquitto(MosquittoServer):
    """One TLS listener, no anonymous clients: user ``vigie``, password ``s3cret``; with
    ``require_certificate``, clients must also show a certificate our CA signed."""

    def __init__(self, root: Path, pki: Pki, *, require_certificate: bool = False) -> None:
        self.pki = pki
        self.require_certificate = require_certificate
        super().__init__(root)

    def configure(self) -> None:
        super().configure()
        passwords = self.root / "passwords"
        passwords.write_text("")
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwords), "vigie", "s3cret"],
            check=True,
            capture_output=True,
        )
        conf = self.config_path.read_text()
        conf = conf.replace("allow_anonymous true\n", "allow_anonymous false\n")
        conf += (
            f"password_file {passwords}\n"
            f"cafile {self.pki.ca}\n"
            f"certfile {self.pki.server_cert}\n"
            f"keyfile {self.pki.server_key}\n"
            f"require_certificate {str(self.require_certificate).lower()}\n"
        )
        self.config_path.write_text(conf)


def secure_settings(broker: SecureMosquitto, **changes: object) -> MqttSettings:
    base: dict[str, object] = {
        "host": broker.host,
        "port": broker.port,
        "client_id": "vigie-tls",
        "tls": True,
        "ca_file": broker.pki.ca,
        "username": "vigie",
        "password": "s3cret",
    }
    return MqttSettings.model_validate(base | changes)


def run_until(consumer: Consumer, condition: Callable[[], bool]) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            consumer.run(stop)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        wait_for(lambda: condition() or bool(errors))
    finally:
        stop.set()
        worker.join(10)
    assert not errors, errors


def tls_publish(broker: SecureMosquitto, frames: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ns-tls")
    client.username_pw_set("vigie", "s3cret")
    client.tls_set(
        ca_certs=str(broker.pki.ca),
        certfile=str(broker.pki.client_cert),
        keyfile=str(broker.pki.client_key),
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    for info in [client.publish(topic, payload, qos=1) for topic, payload in frames]:
        info.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


def frames(n: int) -> list[tuple[str, bytes]]:
    return [
        chirpstack_up_json(Frame(CLIMATE, k, 2, LHT65, NOW - timedelta(hours=2, seconds=-k)))
        for k in range(1, n + 1)
    ]


@pytest.mark.parametrize("client_certificate", [False, True], ids=["password", "certificate"])
def test_ingest_consumes_from_a_tls_broker_with_a_password(
    tmp_path: Path,
    pki: Pki,
    series: SqliteStore,
    make_pipeline: PipelineFactory,
    client_certificate: bool,
) -> None:
    with SecureMosquitto(
        tmp_path / "mosquitto", pki, require_certificate=client_certificate
    ) as broker:
        more = {"cert_file": pki.client_cert, "key_file": pki.client_key}
        settings = secure_settings(broker, **(more if client_certificate else {}))
        consumer = Consumer(make_pipeline(series), settings, IngestSettings(batch_ms=50))
        # The session first (QoS 1 subscription), then the frames: none may be missed.
        run_until(consumer, consumer.connected.is_set)
        tls_publish(broker, frames(20))
        run_until(consumer, lambda: humidity_count(series) == 20)
    assert consumer.status(NOW).state is PartState.STOPPED


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (
            {"password": "wrong"},
            "refused the connection: (bad user name or password|not authorized)",
        ),
        ({"username": None, "password": None}, "refused the connection: not authorized"),
        ({"ca_file": None}, "certificate we do not trust .*set \\[mqtt\\] ca_file"),
    ],
    ids=["wrong-password", "anonymous", "untrusted-certificate"],
)
def test_a_broker_that_refuses_us_for_good_stops_the_consumer_with_the_reason(
    tmp_path: Path,
    pki: Pki,
    series: SqliteStore,
    make_pipeline: PipelineFactory,
    changes: dict[str, object],
    why: str,
) -> None:
    with SecureMosquitto(tmp_path / "mosquitto", pki) as broker:
        consumer = Consumer(
            make_pipeline(series), secure_settings(broker, **changes), IngestSettings()
        )
        started = time.monotonic()
        with pytest.raises(Fatal, match=why):
            consumer.run(threading.Event())
        assert time.monotonic() - started < 15, "refused for good is not retried"
    status = consumer.status(NOW)
    assert (status.state, status.ok) == (PartState.FAILED, False)

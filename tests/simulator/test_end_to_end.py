"""Acceptance: 7 days of the sample territory through a real Mosquitto, the real consumer and a
real InfluxDB; what is stored is what the simulator says it produced, faults in dead letters."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from core.config import IngestSettings, MqttSettings
from core.stores.influx import InfluxStore
from ingest.consumer import Consumer
from simulator.engine import Engine, EngineConfig, run_physics
from simulator.output import Tally, publish
from tests.services import ExternalService, InfluxServer, MosquittoServer, influx_query
from tests.simulator.test_engine import START, Ingest, assert_matches, sample, stored

DAYS = 7


def test_seven_days_of_the_sample_territory_end_to_end(
    tmp_path: Path, influx_server: InfluxServer | ExternalService
) -> None:
    t = sample()
    run = run_physics(t, START, DAYS, 11)
    tally = Tally(keep_points=True)
    engine = Engine(t, run.truths, START, DAYS, 11, EngineConfig(format="mix"))
    database = f"vigie_sim_{uuid.uuid4().hex[:12]}"
    store = InfluxStore(influx_server.url, database)
    store.create_database()
    ing = Ingest(tmp_path, store, START + timedelta(days=DAYS, hours=1))
    delivered: list[int] = []
    try:
        with MosquittoServer(tmp_path / "mosquitto") as broker:
            settings = IngestSettings(batch_size=2000, batch_ms=100, spool_path=tmp_path / "sp")
            mqtt = MqttSettings(host=broker.host, port=broker.port, client_id="vigie-e2e")
            consumer = Consumer(ing.pipeline, mqtt, settings, on_batch=delivered.append)
            stop = threading.Event()
            worker = threading.Thread(target=consumer.run, args=(stop,))
            worker.start()
            try:
                assert consumer.connected.wait(10)
                began = time.monotonic()
                sent = publish(tally.track(engine), broker.host, broker.port)
                deadline = time.monotonic() + 300
                while sum(delivered) < sent:
                    if time.monotonic() > deadline:
                        pytest.fail(f"only {sum(delivered)} of {sent} messages consumed")
                    time.sleep(0.2)
                elapsed = time.monotonic() - began
            finally:
                stop.set()
                worker.join(30)
        got = stored(
            store,
            set(tally.quantities),
            START - timedelta(days=2),
            START + timedelta(days=DAYS + 1),
        )
        assert_matches(tally.points, got)
        assert ing.letters() == tally.letters
        assert tally.fates["lost"] > 0 and tally.letters["bad_json"] > 0
        print(
            f"\n{sent} messages, {len(got)} readings stored, letters {dict(tally.letters)}, "
            f"fates {dict(tally.fates)}, {elapsed:.1f} s"
        )
    finally:
        ing.close()
        store.close()
        influx_query(influx_server.url, f'DROP DATABASE "{database}"')

"""The demo's history replay: what is due goes through the real ingest pipeline at once, the rest
is handed back for the broker, and /health can tell how far it is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

from core.clock import ManualClock
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from simulator.engine import Emission
from simulator.envelopes import Frame, chirpstack_up_json
from tests.ingest.conftest import CLIMATE, NOW, PipelineFactory
from vigie.demo import HistoryReplay

LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")  # 28.29 °C among 8 readings


def emission(minutes_ago: float, f_cnt: int, lost: bool = False) -> Emission:
    at = NOW - timedelta(minutes=minutes_ago)
    topic, payload = chirpstack_up_json(Frame(CLIMATE, f_cnt, 2, LHT65, at))
    return Emission(at, topic, payload, CLIMATE, at, "lost" if lost else "stored")


def temperatures(series: SqliteStore) -> int:
    got = series.read(Selection.of("temperature_c", channel=None), NOW - timedelta(days=1), NOW)
    return len(list(got.readings()))


def test_due_messages_are_stored_and_the_first_future_one_is_handed_back(
    series: SqliteStore, make_pipeline: PipelineFactory, clock: ManualClock
) -> None:
    stream = [emission(50, 1), emission(40, 2, lost=True), emission(30, 3), emission(-5, 4)]
    replay = HistoryReplay(make_pipeline(series), clock, batch_size=2)
    before = replay.status(NOW)
    assert (before.state, before.ok) == ("starting", True)

    rest = iter(stream)
    first_live = replay.replay(rest, threading.Event())

    assert first_live is stream[3]  # in the future: for the broker, not for the pipeline
    assert list(rest) == []
    assert replay.messages == 2  # the lost one never reached the network server
    assert temperatures(series) == 2
    assert replay.done.is_set()
    after = replay.status(NOW)
    assert (after.state, after.facts["messages"]) == ("stopped", 2)


def test_progress_is_told_while_replaying_and_a_stop_ends_it(
    series: SqliteStore, make_pipeline: PipelineFactory, clock: ManualClock
) -> None:
    stop = threading.Event()
    replay = HistoryReplay(make_pipeline(series), clock, batch_size=1)
    seen: list[tuple[str, object]] = []

    def stream() -> Iterator[Emission]:
        yield emission(60, 1)
        yield emission(50, 2)
        status = replay.status(NOW)
        seen.append((status.state, status.facts["behind_s"]))
        stop.set()  # Ctrl-C while the history goes in
        yield emission(40, 3)

    assert replay.replay(stream(), stop) is None
    assert seen == [("starting", 3000.0)]  # 50 minutes behind the clock
    assert temperatures(series) == 2
    assert replay.done.is_set()  # the analytics runner waiting on it is released to stop

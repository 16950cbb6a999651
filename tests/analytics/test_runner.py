"""The runner end to end on real stores: level readings in, alerts opened, notified, resolved."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.alerts.dispatcher import Dispatcher
from analytics.alerts.engine import AlertEngine
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.detectors.registry import DETECTORS
from analytics.runner import AnalyticsRunner
from analytics.watch.detectors import DetectorWatch
from core.clock import ManualClock
from core.config import AlertRoute, AlertsSettings, QuietHoursSettings
from core.reading import Reading
from core.state.checkpoints import Checkpoints
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from simulator.territory_file import load_territory, write_registry
from tests.analytics.alerts.conftest import RecordingNotifier

T0 = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteStore, str]]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, write_registry(load_territory(), tmp_path / "registry.yaml"))
    store = SqliteStore(tmp_path / "ts.sqlite")
    station = next(d for d in load_territory().devices() if d.role == "level")
    yield state, store, station.dev_eui
    store.close()
    state.dispose()


LEVELS = {"river_levels": DETECTORS["river_levels"]}


def _levels(dev_eui: str, start: datetime, values: list[float]) -> list[Reading]:
    # A few millimetres of ripple, as a real river has: a flat line is what a stuck sensor gives.
    return [
        Reading(start + i * STEP, dev_eui, "water_level_m", v + 0.003 * math.sin(i))
        for i, v in enumerate(values)
    ]


def test_a_flood_opens_one_alert_notifies_and_resolves_itself(
    stores: tuple[StateStore, SqliteStore, str],
) -> None:
    state, store, eui = stores
    clock = ManualClock(T0)
    settings = AlertsSettings(
        routes=[AlertRoute(channel="webhook", to=["https://hooks.example/crue"])],
        quiet_hours=QuietHoursSettings(enabled=False),
    )
    notifier = RecordingNotifier("webhook")
    runner = AnalyticsRunner(
        [DetectorWatch(store, state, detectors=LEVELS)],
        AlertEngine(state, clock, settings),
        Dispatcher(state, clock, settings, {"webhook": notifier}),
        Checkpoints(state),
        clock,
    )
    thresholds = next(
        d.parameters["vigilance_m"] for d in load_territory().devices() if d.dev_eui == eui
    )
    low, high = thresholds["yellow"] - 0.8, thresholds["yellow"] + 0.15
    # Day 1 quiet; day 2 a 12-hour rise to just over yellow, held; day 3 back down.
    day1 = [low] * 96
    rise = [low + (high - low) * i / 48 for i in range(48)] + [high] * 48
    fall = [high - (high - low) * i / 24 for i in range(24)] + [low] * 72
    for day, values in enumerate((day1, rise, fall)):
        store.write(_levels(eui, T0 + timedelta(days=day), values))
        clock.set(T0 + timedelta(days=day + 1))
        runner.tick()
        if day == 0:
            assert list_alerts(state)[0] == 0
        if day == 1:
            _, open_ = list_alerts(state, AlertFilter(types=["river_vigilance"]))
            assert [(a.status, a.subject) for a in open_] == [(AlertStatus.OPEN, "selle-le-cateau")]
            assert len(notifier.sent) >= 1
    _, flood = list_alerts(state, AlertFilter(types=["river_vigilance"]))
    assert len(flood) == 1  # one alert for the whole episode, however many passes saw it
    assert flood[0].status == AlertStatus.RESOLVED and flood[0].resolution == "auto"
    saved = Checkpoints(state).load("detectors")
    assert saved is not None and saved.watermark == T0 + timedelta(days=3)
    levels = saved.document["river_levels"]
    assert levels["watermark"] == (T0 + timedelta(days=3)).isoformat()
    assert "selle-le-cateau" in str(levels["state"])


def test_a_restarted_runner_resumes_from_its_checkpoint(
    stores: tuple[StateStore, SqliteStore, str],
) -> None:
    state, store, eui = stores
    clock = ManualClock(T0 + timedelta(days=1))
    settings = AlertsSettings(quiet_hours=QuietHoursSettings(enabled=False))

    def runner() -> AnalyticsRunner:
        return AnalyticsRunner(
            [DetectorWatch(store, state, detectors=LEVELS)],
            AlertEngine(state, clock, settings),
            None,
            Checkpoints(state),
            clock,
        )

    store.write(_levels(eui, T0, [0.5] * 96))
    runner().tick()
    first = Checkpoints(state).load("detectors")
    assert first is not None and first.watermark == clock.now()
    clock.advance(timedelta(hours=6))
    report = runner().tick()  # a new process: state comes from the checkpoint table
    # The overlap hour only, not all history.
    assert report.counts["detectors"]["river_levels.readings"] == 4

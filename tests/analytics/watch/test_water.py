"""The water watch on real stores: a household leak found, then cleared once repaired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics.alerts.engine import AlertEngine
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.runner import AnalyticsRunner
from analytics.watch.water import WaterWatch
from core.clock import ManualClock
from core.config import AlertsSettings
from core.reading import Reading
from core.state.checkpoints import Checkpoints
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from simulator.territory_file import load_territory, write_registry

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteStore, list[str]]]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    land = load_territory()
    import_registry(state, write_registry(land, tmp_path / "registry.yaml"))
    store = SqliteStore(tmp_path / "ts.sqlite")
    homes = [d.dev_eui for d in land.devices() if d.role == "water_meter" and not d.building]
    yield state, store, homes[:20]
    store.close()
    state.dispose()


def _household(eui: str, hours: int, leak_lph: np.ndarray, seed: int) -> list[Reading]:
    """Hourly register readings: a few draws a day with quiet nights, plus the leak's flow."""
    rng = np.random.default_rng(seed)
    use = np.where(rng.random(hours) < 0.35, rng.gamma(1.5, 15.0, hours), 0.0)
    local = (np.arange(hours) + 1) % 24  # Paris is UTC+1 in March before the change
    use[(local >= 0) & (local < 6)] = 0.0
    index_l = 120_000.0 + np.cumsum(use + leak_lph)
    return [
        Reading(T0 + (i + 1) * H, eui, "volume_m3", round(float(v) / 1000, 3))
        for i, v in enumerate(index_l)
    ]


def test_a_household_leak_is_raised_then_cleared_after_repair(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, homes = stores
    days = 20
    hours = days * 24
    leak = np.zeros(hours)
    leak[6 * 24 : 12 * 24] = 15.0  # 15 L/h for six days, then repaired
    for k, eui in enumerate(homes):
        store.write(_household(eui, hours, leak if k == 3 else np.zeros(hours), k))
    clock = ManualClock(T0 + 10 * 24 * H)
    runner = AnalyticsRunner(
        [WaterWatch(store, state, lookback=timedelta(days=14))],
        AlertEngine(state, clock, AlertsSettings()),
        None,
        Checkpoints(state),
        clock,
    )
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["household_leak"]))
    assert [(a.subject, a.status) for a in alerts] == [(homes[3], AlertStatus.OPEN)]
    assert alerts[0].start >= T0 + 6 * 24 * H - H
    clock.set(T0 + 16 * 24 * H)  # four days after the repair
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["household_leak"]))
    assert [(a.subject, a.status, a.resolution) for a in alerts] == [
        (homes[3], AlertStatus.RESOLVED, "auto")
    ]

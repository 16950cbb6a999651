"""The parking board's worker process: the same snapshots as in the API process, started with the
app, replaced when it dies, and meanwhile the counts age into "not live" instead of vanishing."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.parking_board import ParkingBoard
from api.parking_json import areas_json
from api.services import Services
from core.clock import ManualClock
from core.reading import Reading
from core.state.models import ParkingSpace
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.api.hub_fixtures import GARE, THIRD
from vigie.demo import SAMPLE_TERRITORY, load_registry

T0 = datetime(2026, 12, 7, 6, 58, tzinfo=UTC)
BROKEN = "broken"  # while this file exists in the directory, a worker cannot open its stores


def stores(directory: Path) -> tuple[StateStore, SqliteStore]:
    """The worker's recipe (pickled to the spawned process): the test's embedded stores."""
    if (directory / BROKEN).exists():
        raise RuntimeError("stores unreachable (the test says so)")
    return StateStore(f"sqlite:///{directory / 'state.sqlite'}"), SqliteStore(
        directory / "series.sqlite"
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    state, store = stores(tmp_path)
    state.migrate()
    clock = ManualClock(T0)
    board = ParkingBoard(state, store, clock, worker_stores=partial(stores, tmp_path))
    services = Services(store=store, state=state, clock=clock, parking=board)
    load_registry(services, tmp_path, SAMPLE_TERRITORY)
    devices: dict[str, list[str]] = {}
    with state.session() as session:
        for space in session.scalars(select(ParkingSpace).order_by(ParkingSpace.code)):
            if space.device is not None:
                devices.setdefault(space.area.id_lieu, []).append(space.device.dev_eui)
    # GARE: four spaces taken half an hour ago, the rest free; THIRD: all taken.
    at = T0 - timedelta(minutes=30)
    store.write([Reading(at, d, "occupied", float(i < 4)) for i, d in enumerate(devices[GARE])])
    store.write([Reading(at, d, "occupied", 1.0) for d in devices[THIRD]])
    yield services
    board.close()
    store.close()
    state.dispose()


def test_the_worker_computes_what_the_api_process_would(services: Services) -> None:
    assert services.parking is not None
    in_process = ParkingBoard(services.state, services.store, services.clock)
    mine = {v.info.id_lieu: v for v in in_process.areas()}
    theirs = {v.info.id_lieu: v for v in services.parking.areas()}
    assert services.parking.worker is not None and services.parking.worker.pid != os.getpid()
    assert theirs == mine
    assert theirs[GARE].availability.occupied == 4 and theirs[THIRD].availability.free == 0
    # The list the worker serialized is the one the API process would have built.
    max_age = timedelta(seconds=120)
    built = in_process.derived("areas.json", max_age, areas_json)
    assert services.parking.derived("areas.json", max_age, _never) == built


def _never(views: object) -> bytes:
    raise AssertionError("built in the API process")


def test_a_dead_worker_is_replaced_and_meanwhile_the_counts_go_stale(
    services: Services, tmp_path: Path
) -> None:
    assert services.parking is not None and isinstance(services.clock, ManualClock)
    clock = services.clock
    with TestClient(create_app(services)) as client:
        worker = services.parking.worker
        assert worker is not None and worker.pid is not None  # started with the app

        def gare() -> dict[str, object]:
            response = client.get("/api/v1/parking/areas")
            assert response.status_code == 200
            return next(a for a in response.json() if a["id_lieu"] == GARE)

        live = gare()
        assert (live["live"], live["occupied"]) == (True, 4)
        (tmp_path / BROKEN).touch()
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        # Past the board's max_stale (60 s) and the counts' max age (120 s): the request tries
        # to refresh, the worker cannot be restarted, the last counts are kept but not live.
        clock.advance(timedelta(seconds=130))
        stale = gare()
        assert (stale["live"], stale["free"], stale["status"]) == (False, None, "unknown")
        assert stale["last_update"] == live["last_update"]
        (tmp_path / BROKEN).unlink()
        clock.advance(timedelta(seconds=1))
        back = gare()
        assert (back["live"], back["occupied"]) == (True, 4)
        assert worker.pid not in (None, first) and worker.spawned >= 3
    assert worker.pid is None  # stopped with the app


def test_ctrl_c_leaves_the_worker_to_the_api_process(services: Services) -> None:
    """A terminal's Ctrl-C signals the whole process group; the API process ends the worker."""
    assert services.parking is not None and isinstance(services.clock, ManualClock)
    with TestClient(create_app(services)) as client:
        worker = services.parking.worker
        assert worker is not None and worker.pid is not None
        first, before = worker.pid, services.parking.computed_at()
        os.kill(first, signal.SIGINT)
        # Past the board's max_stale (60 s), within the counts' max age: the request waits for one.
        services.clock.advance(timedelta(seconds=70))
        response = client.get("/api/v1/parking/areas")
        assert response.status_code == 200
        assert next(a for a in response.json() if a["id_lieu"] == GARE)["live"] is True
        assert services.parking.computed_at() > before
        assert worker.pid == first and worker.spawned == 1
    assert worker.pid is None

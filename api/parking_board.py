"""Every carpool area's availability, computed once every few seconds and shared by all requests.

Screens, feeds and the JSON API ask many times a second for the same counts; they change when a
sensor speaks, at most every few seconds per area. So one snapshot (``api.parking_snapshot``) is
computed at most every ``ttl`` and the requests read it: a request never waits on the store or
the snapshot's Python unless there is no snapshot yet. With ``worker_stores`` (the API process)
the snapshots are computed in a worker process (``api.parking_worker``) and this process only
takes them; without it (tests, the CLI's analyses) in a background thread, paced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from analytics.parking.settings import ParkingSettings
from api.parking_snapshot import (
    OCCUPIED,
    TREND_WINDOW,
    AreaInfo,
    AreaView,
    SnapshotMaker,
    is_live,
)
from api.parking_worker import ParkingWorker, StoresRecipe, WorkerFailed
from core.clock import Clock
from core.state.store import StateStore
from core.timeseries import StoreUnavailable, TimeSeriesStore

__all__ = ["OCCUPIED", "TREND_WINDOW", "AreaInfo", "AreaView", "ParkingBoard"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
IN_PROCESS_LEARN = 4  # areas learned per snapshot, by default
WORKER_LEARN = 25


@dataclass(frozen=True)
class _Snapshot:
    at: datetime
    areas: Mapping[str, AreaView] = field(default_factory=dict)
    # What requests derive from the snapshot (a serialized feed), computed once per snapshot.
    derived: dict[tuple[str, bool], Any] = field(default_factory=dict)


class ParkingBoard:
    """The snapshot of every area's availability, refreshed at most every ``ttl``."""

    def __init__(
        self,
        state: StateStore,
        store: TimeSeriesStore,
        clock: Clock,
        settings: ParkingSettings | None = None,
        *,
        ttl: timedelta = timedelta(seconds=10),
        max_stale: timedelta = timedelta(seconds=60),
        registry_ttl: timedelta = timedelta(seconds=60),
        learn_every: timedelta = timedelta(days=1),
        learn_window: timedelta = timedelta(days=28),
        learn_per_snapshot: int | None = None,
        worker_stores: StoresRecipe | None = None,
    ) -> None:
        self._clock = clock
        self._settings = settings or ParkingSettings()
        self._ttl, self._max_stale = ttl, max_stale
        self._lock = threading.Lock()
        # A background refresh in this process works a quarter of the time and sleeps the rest.
        self._paced = False
        self._slice_began = 0.0
        self._snapshot: _Snapshot | None = None
        options: dict[str, Any] = {
            "registry_ttl": registry_ttl,
            "learn_every": learn_every,
            "learn_window": learn_window,
        }
        # Learning an area costs ~65 ms of Python: in this process a few a snapshot, so that
        # requests keep the interpreter; in the worker enough that a restart relearns 200 areas
        # in 8 snapshots (80 s) rather than 50 (8 min).
        per_snapshot = IN_PROCESS_LEARN if worker_stores is None else WORKER_LEARN
        options["learn_per_snapshot"] = learn_per_snapshot or per_snapshot
        self._worker: ParkingWorker | None = None
        self._maker: SnapshotMaker | None = None
        if worker_stores is not None:
            self._worker = ParkingWorker(worker_stores, self._settings, **options)
        else:
            options["breathe"] = self._breathe
            self._maker = SnapshotMaker(state, store, self._settings, **options)

    @property
    def worker(self) -> ParkingWorker | None:
        return self._worker

    def start(self) -> None:
        """Start the worker process, if any, and compute the first snapshot in the background
        (the API's lifespan calls it, so that the first request finds one)."""
        if self._worker is None:
            return
        self._worker.start()
        if self._lock.acquire(blocking=False):
            threading.Thread(
                target=self._refresh, args=(None, self._clock.now()), daemon=True
            ).start()

    def close(self) -> None:
        """Stop the worker process, if any."""
        if self._worker is not None:
            self._worker.close()

    @property
    def settings(self) -> ParkingSettings:
        return self._settings

    def areas(self) -> list[AreaView]:
        """Every area, by id_lieu."""
        snapshot = self._current()
        return [snapshot.areas[k] for k in sorted(snapshot.areas)]

    def area(self, id_lieu: str) -> AreaView | None:
        return self._current().areas.get(id_lieu)

    def computed_at(self) -> datetime:
        return self._current().at

    def live_view(self, id_lieu: str, max_age: timedelta) -> tuple[AreaView, bool] | None:
        """One area with whether its counts are live (see ``live_views``), None if unknown."""
        snapshot = self._current()
        view = snapshot.areas.get(id_lieu)
        if view is None:
            return None
        return view, is_live(view, self._clock.now() - snapshot.at <= max_age)

    def live_views(self, max_age: timedelta) -> list[tuple[AreaView, bool]]:
        """Every area with whether its counts are live: computed within ``max_age`` (the store
        answered) and not unknown (most sensors heard within their heartbeat)."""
        snapshot = self._current()
        return self._live(snapshot, self._clock.now() - snapshot.at <= max_age)

    def derived(
        self, name: str, max_age: timedelta, build: Callable[[list[tuple[AreaView, bool]]], _T]
    ) -> _T:
        """``build(live_views)``, computed once per snapshot and freshness: a feed requested
        hundreds of times a second is serialized once."""
        snapshot = self._current()
        fresh = self._clock.now() - snapshot.at <= max_age
        key = (name, fresh)
        if key not in snapshot.derived:
            snapshot.derived[key] = build(self._live(snapshot, fresh))
        value: _T = snapshot.derived[key]
        return value

    @staticmethod
    def _live(snapshot: _Snapshot, fresh: bool) -> list[tuple[AreaView, bool]]:
        return [(v, is_live(v, fresh)) for v in (snapshot.areas[k] for k in sorted(snapshot.areas))]

    def ready(self) -> bool:
        """Whether reading the board now returns at once (a snapshot younger than
        ``max_stale`` exists; an older one is refreshed in the background)."""
        seen = self._snapshot
        return seen is not None and timedelta(0) <= self._clock.now() - seen.at < self._max_stale

    def _current(self) -> _Snapshot:
        now = self._clock.now()
        seen = self._snapshot
        if seen is not None and timedelta(0) <= now - seen.at < self._ttl:
            return seen
        if seen is not None and timedelta(0) <= now - seen.at < self._max_stale:
            # Requests keep the previous snapshot while one background thread computes the next:
            # a request never waits on the store or on the snapshot's Python.
            if self._lock.acquire(blocking=False):
                threading.Thread(
                    target=self._refresh, args=(seen, now), name="parking-board", daemon=True
                ).start()
            return seen
        # Too old (or none): one request recomputes; the others keep the previous one meanwhile.
        if not self._lock.acquire(blocking=seen is None):
            assert seen is not None
            return seen
        try:
            if self._snapshot is not seen and self._snapshot is not None:
                return self._snapshot  # another request refreshed it while this one waited
            try:
                self._snapshot = self._compute(now)
            except StoreUnavailable:
                if seen is None:
                    raise
                # The counts age on the screens (their last update says so) rather than vanish.
                log.warning("parking board not refreshed: the time-series store is unavailable")
                return seen
            except WorkerFailed as exc:
                if seen is None:
                    # Answered like a store outage (503, retry later): the next try restarts it.
                    raise StoreUnavailable(f"parking board unavailable: {exc}") from exc
                log.warning("parking board not refreshed: %s", exc)
                return seen
            return self._snapshot
        finally:
            self._lock.release()

    def _refresh(self, seen: _Snapshot | None, now: datetime) -> None:
        """The background recomputation; called with the lock held, releases it."""
        self._paced, self._slice_began = True, time.perf_counter()
        try:
            if self._snapshot is seen:
                self._snapshot = self._compute(now)
        except StoreUnavailable:
            log.warning("parking board not refreshed: the time-series store is unavailable")
        except Exception:
            # A lost worker is started again at the next refresh; the snapshot ages meanwhile.
            log.exception("parking board not refreshed")
        finally:
            self._paced = False
            self._lock.release()

    def _compute(self, now: datetime) -> _Snapshot:
        if self._worker is not None:
            views, derived = self._worker.compute(now)
            return _Snapshot(now, views, derived)
        assert self._maker is not None
        return _Snapshot(now, self._maker.compute(now))

    def _breathe(self) -> None:
        """In a background refresh, hand the GIL back to the requests for three times as long as
        the last slice of work. Python runs one thread at a time: served at 500 a second the
        requests need most of it, and a snapshot computed flat out halves their share while it
        runs, so they queue (p99 of 230 ms measured). Paced, the snapshot takes four times as
        long, well within its 10 s, and the requests keep their latency."""
        if not self._paced:
            return
        worked = time.perf_counter() - self._slice_began
        if worked >= 0.002:
            time.sleep(3 * worked)
            self._slice_began = time.perf_counter()

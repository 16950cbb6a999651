"""The parking board's worker process: snapshots computed away from the requests' interpreter.

Python runs one thread of a process at a time. At 500 requests a second the API needs most of
it, and the snapshot's 0.5 s of Python every 10 s (0.8 s while areas learn) made requests queue
behind it (p99 of 49-230 ms measured in-process). In a process of its own, the snapshot costs
the API only the time to take its answer: one pickled view per area, unpickled only when a
request reads that area. The process is not niced: on SQLite every unit of work of the state
store holds the file's write lock (``BEGIN IMMEDIATE``): a niced worker preempted while it
reads the registry on a busy machine would make the API's queries wait (seen once: "database is
locked" after the 10-s busy timeout).

The process is spawned (not forked: the API process has threads and open connections), opens its
own stores from ``open_stores`` (a picklable recipe: the stores themselves hold connections) and
keeps what it learns between snapshots. It also serializes the list endpoint's body, so that the
API process has nothing to build for it. It dies with its parent's pipe. A worker that dies,
hangs past ``timeout`` or cannot start is killed and spawned again at the next snapshot; until
then the board keeps its last snapshot, which ages and stops being live (decision 017).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from analytics.parking.settings import ParkingSettings
from api.parking_json import AREAS_JSON, areas_json
from api.parking_snapshot import AreaView, SnapshotMaker, is_live
from core.state.store import StateStore
from core.timeseries import StoreUnavailable, TimeSeriesStore

__all__ = ["ParkingWorker", "StoresRecipe", "Views", "WorkerFailed"]

log = logging.getLogger(__name__)

StoresRecipe = Callable[[], tuple[StateStore, TimeSeriesStore]]


class Views(Mapping[str, AreaView]):
    """A snapshot's views as the worker sent them, each unpickled when first read: a hub's
    document needs its few areas, the list endpoint none (the worker serialized it)."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self._blobs = blobs
        self._views: dict[str, AreaView] = {}

    def __getitem__(self, key: str) -> AreaView:
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = pickle.loads(self._blobs[key])
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


class WorkerFailed(RuntimeError):
    """The worker process died, hung or failed to compute a snapshot."""


@dataclass(frozen=True)
class _Job:
    """What the worker process is started with (pickled to it)."""

    open_stores: StoresRecipe
    settings: ParkingSettings
    options: dict[str, Any] = field(default_factory=dict)


def _serve(conn: Connection, job: _Job) -> None:
    """The worker process: one snapshot per request (``now``), until ``None`` or the pipe closes."""
    # Ctrl-C in a terminal reaches the whole process group: the API process ends this one,
    # after its last request, rather than have it die mid-snapshot with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    state, store = job.open_stores()
    maker = SnapshotMaker(state, store, job.settings, **job.options)
    try:
        while True:
            try:
                now = conn.recv()
            except (EOFError, OSError):
                return  # the API process is gone
            if now is None:
                return
            try:
                views = maker.compute(now)
                # The list endpoint's body, serialized here rather than in the API process.
                live = [(views[k], is_live(views[k], True)) for k in sorted(views)]
                reply: tuple[Any, ...] = (
                    "ok",
                    {k: pickle.dumps(v, pickle.HIGHEST_PROTOCOL) for k, v in views.items()},
                    {(AREAS_JSON, True): areas_json(live)},
                )
            except StoreUnavailable as exc:
                reply = ("unavailable", str(exc))
            except Exception:
                reply = ("error", traceback.format_exc())
            conn.send(reply)
    finally:
        store.close()
        state.dispose()


class ParkingWorker:
    """The API side of the worker process: ``compute(now)`` returns the snapshot's views."""

    def __init__(
        self,
        open_stores: StoresRecipe,
        settings: ParkingSettings,
        *,
        timeout: timedelta = timedelta(seconds=120),
        **options: Any,
    ) -> None:
        # A mapping proxy (the settings' default heartbeats) does not pickle; a dict does.
        settings = replace(settings, heartbeat_s=dict(settings.heartbeat_s))
        self._job = _Job(open_stores, settings, options)
        self._timeout = timeout
        self._lock = threading.Lock()  # one snapshot at a time through the pipe
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.spawned = 0  # processes started so far (more than one: restarts)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def start(self) -> None:
        """Spawn the process now rather than at the first snapshot."""
        with self._lock:
            self._ensure()

    def compute(self, now: datetime) -> tuple[Views, dict[tuple[str, bool], Any]]:
        """Every area's view at ``now``, and what the worker derived from them (by the board's
        keys); raises ``StoreUnavailable`` or ``WorkerFailed``. A worker found dead is started
        again once, at once: it most likely died between two snapshots."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._ensure()
                try:
                    conn.send(now)
                    if not conn.poll(self._timeout.total_seconds()):
                        raise WorkerFailed(f"no snapshot within {self._timeout}")
                    reply = conn.recv()
                    break
                except (EOFError, OSError, WorkerFailed) as exc:
                    self._stop(kill=True)
                    if attempt == 2 or isinstance(exc, WorkerFailed):
                        raise WorkerFailed(f"parking worker lost: {exc!r}") from exc
        if reply[0] == "unavailable":
            raise StoreUnavailable(reply[1])
        if reply[0] == "error":
            raise WorkerFailed(f"parking worker failed:\n{reply[1]}")
        return Views(reply[1]), reply[2]

    def close(self) -> None:
        with self._lock:
            self._stop(kill=False)

    def _ensure(self) -> Connection:
        process = self._process
        if process is not None and process.is_alive() and self._conn is not None:
            return self._conn
        if process is not None:
            log.warning("parking worker %s exited (%s)", process.pid, process.exitcode)
            self._stop(kill=True)
        if self.spawned:
            log.warning("starting the parking worker again")
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child, self._job), name="vigie-parking-worker", daemon=True
        )
        process.start()
        self.spawned += 1
        child.close()
        self._process, self._conn = process, parent
        return parent

    def _stop(self, *, kill: bool) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            if not kill:
                with contextlib.suppress(OSError):
                    conn.send(None)
            conn.close()
        if process is not None:
            process.join(0 if kill else 5)
            if process.is_alive():
                process.kill()
                process.join(5)

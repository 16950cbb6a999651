"""Every carpool area's availability, computed once every few seconds and shared by all requests.

Screens, feeds and the JSON API ask many times a second for the same counts; they change when a
sensor speaks, at most every few seconds per area. So one snapshot is computed at most every
``ttl`` from the registry and the ``occupied`` readings of the sensors' heartbeat window, and the
requests read it: a request never waits on the store unless there is no snapshot yet.

Once every ``learn_every`` (a day), each area's models are learned from ``learn_window`` (four
weeks) of its readings (``analytics.parking.learned``): how long a space plausibly stays
occupied (longer: unknown, ``frozen``), a forecast of its free spaces, and the reading that began
each space's current state. A snapshot learns at most ``learn_per_snapshot`` areas that are due
(never learned first), so no snapshot pays for the whole territory. Between learnings, each
snapshot carries those anchors forward from its own statuses and reads from the previous
snapshot at least, so a stay that began days ago is still known as such.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from analytics.parking.availability import (
    AreaAvailability,
    AreaStatus,
    area_availability,
    by_device,
)
from analytics.parking.history import occupancy_history
from analytics.parking.learned import AreaModels, anchor_of, learn_area, samples_by_device
from analytics.parking.registry import (
    SpaceRecord,
    areas_with_spaces,
    space_records,
)
from analytics.parking.settings import ParkingSettings
from api.ttl_cache import TtlCache
from core.clock import Clock
from core.reading import Reading
from core.state.models import ParkingArea
from core.state.store import StateStore
from core.timeseries import Selection, StoreUnavailable, TimeSeriesStore

__all__ = ["AreaInfo", "AreaView", "ParkingBoard"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

OCCUPIED = "occupied"
# How far back the trend looks: long enough that one car is not a trend, short enough that the
# arrow says what is happening now.
TREND_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class AreaInfo:
    """An area's static description, as the national base (BNLC) has it."""

    id_lieu: str
    tenant: str
    nom_lieu: str
    insee: str
    type: str
    xlong: float
    ylat: float
    nbre_pl: int
    nbre_pmr: int
    ouvert: bool
    updated_at: datetime  # when the registry last changed the description
    spaces: tuple[SpaceRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class AreaView:
    """One area on the board: its description, its availability and where it is heading."""

    info: AreaInfo
    availability: AreaAvailability
    trend: int  # free spaces gained (> 0) or lost (< 0) over the last 15 minutes


@dataclass(frozen=True)
class _Snapshot:
    at: datetime
    areas: dict[str, AreaView] = field(default_factory=dict)
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
        learn_per_snapshot: int = 4,
    ) -> None:
        self._state, self._store, self._clock = state, store, clock
        self._settings = settings or ParkingSettings()
        self._ttl, self._max_stale = ttl, max_stale
        self._lock = threading.Lock()
        # A background refresh works a quarter of the time and sleeps the rest (see _breathe).
        self._paced = False
        self._slice_began = 0.0
        self._snapshot: _Snapshot | None = None
        # The registry changes by imports, rarely: read it once a minute, not every snapshot.
        self._registry_cache: TtlCache[list[AreaInfo]] = TtlCache(registry_ttl)
        self._learn_every, self._learn_window = learn_every, learn_window
        self._learn_per_snapshot = learn_per_snapshot
        self._models: dict[str, AreaModels] = {}
        self._learned_at: dict[str, datetime] = {}
        # The reading that began each space's current state, valid up to ``_anchored_at``.
        self._anchors: dict[str, Reading] = {}
        self._anchored_at: datetime | None = None

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
        return [
            (v, fresh and v.availability.status is not AreaStatus.UNKNOWN)
            for v in (snapshot.areas[k] for k in sorted(snapshot.areas))
        ]

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
            return self._snapshot
        finally:
            self._lock.release()

    def _refresh(self, seen: _Snapshot, now: datetime) -> None:
        """The background recomputation; called with the lock held, releases it."""
        self._paced, self._slice_began = True, time.perf_counter()
        try:
            if self._snapshot is seen:
                self._snapshot = self._compute(now)
        except StoreUnavailable:
            log.warning("parking board not refreshed: the time-series store is unavailable")
        except Exception:
            log.exception("parking board not refreshed")
        finally:
            self._paced = False
            self._lock.release()

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

    def _paced_readings(self, readings: Iterable[Reading]) -> Iterator[Reading]:
        for n, reading in enumerate(readings):
            if n % 1000 == 0:
                self._breathe()
            yield reading

    def _compute(self, now: datetime) -> _Snapshot:
        infos = self._registry_cache.get("areas", now, self._registry)
        devices = {s.device.dev_eui: s.device for a in infos for s in a.spaces if s.device}
        if not devices:
            views = [self._view(a, {}, now, {}) for a in infos]
            return _Snapshot(now, {v.info.id_lieu: v for v in views})
        self._learn(infos, now)
        reach = max(self._settings.silent_after(d.codec_id, d.parameters) for d in devices.values())
        # A space's state at the start of the trend window needs its heartbeat window before it;
        # the anchors need every reading since they were last carried forward.
        start = now - reach - TREND_WINDOW
        if self._anchored_at is not None and self._anchored_at < start:
            start = self._anchored_at
        series = self._store.read(Selection.of(OCCUPIED, devices), start, now + timedelta(0, 1))
        self._breathe()
        grouped = by_device(self._paced_readings(series.readings()))
        # Sensors silent for the whole window: their last word is still worth telling ("last
        # update at …") on a screen that says the data is unavailable.
        silent = [d for d in devices if d not in grouped]
        last_heard = (
            {r.device: r.time for r in self._store.latest(silent, [OCCUPIED])} if silent else {}
        )
        views = []
        for info in infos:
            views.append(self._view(info, grouped, now, last_heard))
            self._breathe()
        self._anchored_at = now
        return _Snapshot(now, {v.info.id_lieu: v for v in views})

    def _learn(self, infos: Sequence[AreaInfo], now: datetime) -> None:
        """Learn the models of the areas that are due, never learned first, a few at a time."""
        due = [
            a
            for a in infos
            if a.id_lieu not in self._learned_at
            or not timedelta(0) <= now - self._learned_at[a.id_lieu] < self._learn_every
        ]
        due.sort(key=lambda a: self._learned_at.get(a.id_lieu, datetime.min.replace(tzinfo=UTC)))
        batch = due[: self._learn_per_snapshot]
        devices = [s.device.dev_eui for a in batch for s in a.spaces if s.device]
        start = now - self._learn_window
        seqs: dict[str, list[tuple[datetime, bool]]] = {}
        if devices:
            series = self._store.read(Selection.of(OCCUPIED, devices), start, now + timedelta(0, 1))
            self._breathe()
            seqs = samples_by_device(series, now)
        for info in batch:
            self._breathe()
            models = learn_area(info, info.spaces, seqs, start, now, self._settings)
            self._models[info.id_lieu] = models
            self._anchors.update(models.anchors)  # as of now, like the carried ones
            self._learned_at[info.id_lieu] = now

    def _view(
        self,
        info: AreaInfo,
        grouped: Mapping[str, Sequence[Reading]],
        now: datetime,
        last_heard: Mapping[str, datetime],
    ) -> AreaView:
        own = [r for s in info.spaces if s.device for r in grouped.get(s.device.dev_eui, ())]
        # A heard space's current state began at its anchor at the latest (a silent one stays
        # silent: its anchor is no evidence it was heard).
        anchors = [
            self._anchors[s.device.dev_eui]
            for s in info.spaces
            if s.device and s.device.dev_eui in grouped and s.device.dev_eui in self._anchors
        ]
        models = self._models.get(info.id_lieu)
        availability = area_availability(
            info,
            info.spaces,
            [*anchors, *own],
            now,
            self._settings,
            frozen=models.limits if models else None,
            forecast=models.forecast if models else None,
        )
        for s in info.spaces:
            status = availability.spaces.get(s.code)
            if s.device is None or status is None or status.last_change is None:
                continue
            held = self._anchors.get(s.device.dev_eui)
            fresh = held is None or held.time != status.last_change
            if fresh and (anchor := anchor_of(s.device.dev_eui, status)):
                self._anchors[s.device.dev_eui] = anchor
        if availability.last_update is None:
            heard = [
                last_heard[s.device.dev_eui]
                for s in info.spaces
                if s.device and s.device.dev_eui in last_heard
            ]
            if heard:
                availability = replace(availability, last_update=max(heard))
        trend = 0
        if own:
            window = (now - 2 * TREND_WINDOW, now - TREND_WINDOW, TREND_WINDOW)
            (before,) = occupancy_history(info, info.spaces, own, *window, self._settings)
            if before.unknown <= availability.unknown:
                trend = availability.free - before.free
        return AreaView(info, availability, trend)

    def _registry(self) -> list[AreaInfo]:
        with self._state.session() as session:
            return [_info(a) for a in areas_with_spaces(session)]


def _info(area: ParkingArea) -> AreaInfo:
    return AreaInfo(
        id_lieu=area.id_lieu,
        tenant=area.tenant.code,
        nom_lieu=area.nom_lieu,
        insee=area.insee,
        type=area.type,
        xlong=area.xlong,
        ylat=area.ylat,
        nbre_pl=area.nbre_pl,
        nbre_pmr=area.nbre_pmr,
        ouvert=area.ouvert,
        updated_at=area.updated_at,
        spaces=space_records(area),
    )

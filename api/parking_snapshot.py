"""Every carpool area's availability at one instant, computed from the stores (the board's work).

A ``SnapshotMaker`` computes one snapshot at a time from the registry (re-read once a minute)
and the ``occupied`` readings of the sensors' heartbeat window. It runs in the API process
(tests, small set-ups) or in the parking worker process (``api.parking_worker``), where its
Python does not compete with the requests for the interpreter.

Once every ``learn_every`` (a day), each area's models are learned from ``learn_window`` (four
weeks) of its readings (``analytics.parking.learned``): how long a space plausibly stays
occupied or free (longer: unknown, ``frozen``), a forecast of its free spaces, and the reading
that began each space's current state. A snapshot learns at most ``learn_per_snapshot`` areas
that are due (never learned first), so no snapshot pays for the whole territory. Between
learnings, each snapshot carries those anchors forward from its own statuses and reads from the
previous snapshot at least, so a stay that began days ago is still known as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from analytics.parking.availability import (
    AreaAvailability,
    AreaStatus,
    area_availability,
    by_device,
)
from analytics.parking.history import occupancy_history
from analytics.parking.learned import AreaModels, anchor_of, learn_area, samples_by_device
from analytics.parking.registry import SpaceRecord, areas_with_spaces, space_records
from analytics.parking.settings import ParkingSettings
from api.ttl_cache import TtlCache
from core.reading import Reading
from core.state.models import ParkingArea
from core.state.store import StateStore
from core.timeseries import Selection, TimeSeriesStore

__all__ = ["OCCUPIED", "TREND_WINDOW", "AreaInfo", "AreaView", "SnapshotMaker", "is_live"]

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


def is_live(view: AreaView, fresh: bool) -> bool:
    """Whether an area's counts are live: its snapshot is fresh (the store answered) and most of
    its sensors were heard within their heartbeat (its status is not unknown)."""
    return fresh and view.availability.status is not AreaStatus.UNKNOWN


def _no_pause() -> None:
    pass


class SnapshotMaker:
    """Computes snapshots from the stores and keeps what they learn (models, anchors).

    ``breathe`` is called between slices of work: a maker running in the API process is paced
    there (see ``ParkingBoard``); in the worker process it runs flat out."""

    def __init__(
        self,
        state: StateStore,
        store: TimeSeriesStore,
        settings: ParkingSettings,
        *,
        registry_ttl: timedelta = timedelta(seconds=60),
        learn_every: timedelta = timedelta(days=1),
        learn_window: timedelta = timedelta(days=28),
        learn_per_snapshot: int = 4,
        breathe: Callable[[], None] = _no_pause,
    ) -> None:
        self._state, self._store, self._settings = state, store, settings
        self.breathe = breathe
        # The registry changes by imports, rarely: read it once a minute, not every snapshot.
        self._registry_cache: TtlCache[list[AreaInfo]] = TtlCache(registry_ttl)
        self._learn_every, self._learn_window = learn_every, learn_window
        self._learn_per_snapshot = learn_per_snapshot
        self._models: dict[str, AreaModels] = {}
        self._learned_at: dict[str, datetime] = {}
        # The reading that began each space's current state, valid up to ``_anchored_at``.
        self._anchors: dict[str, Reading] = {}
        self._anchored_at: datetime | None = None

    def compute(self, now: datetime) -> dict[str, AreaView]:
        """Every area's view at ``now``, by id_lieu; raises ``StoreUnavailable``."""
        infos = self._registry_cache.get("areas", now, self._registry)
        devices = {s.device.dev_eui: s.device for a in infos for s in a.spaces if s.device}
        if not devices:
            return {a.id_lieu: self._view(a, {}, now, {}) for a in infos}
        self._learn(infos, now)
        reach = max(self._settings.silent_after(d.codec_id, d.parameters) for d in devices.values())
        # A space's state at the start of the trend window needs its heartbeat window before it;
        # the anchors need every reading since they were last carried forward.
        start = now - reach - TREND_WINDOW
        if self._anchored_at is not None and self._anchored_at < start:
            start = self._anchored_at
        series = self._store.read(Selection.of(OCCUPIED, devices), start, now + timedelta(0, 1))
        self.breathe()
        grouped = by_device(self._paced(series.readings()))
        # Sensors silent for the whole window: their last word is still worth telling ("last
        # update at …") on a screen that says the data is unavailable.
        silent = [d for d in devices if d not in grouped]
        last_heard = (
            {r.device: r.time for r in self._store.latest(silent, [OCCUPIED])} if silent else {}
        )
        views = {}
        for info in infos:
            views[info.id_lieu] = self._view(info, grouped, now, last_heard)
            self.breathe()
        self._anchored_at = now
        return views

    def _paced(self, readings: Iterable[Reading]) -> Iterator[Reading]:
        for n, reading in enumerate(readings):
            if n % 1000 == 0:
                self.breathe()
            yield reading

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
            self.breathe()
            seqs = samples_by_device(series, now)
        for info in batch:
            self.breathe()
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

"""Carpool-area sensors on the sample territory's registry and the real embedded store: a sensor
silent beyond its heartbeat, a space stuck occupied for days, one stuck free while the others
fill every morning, and an area whose count stopped changing are raised; the sensors that behave
are judged and raise nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.detectors.base import Pass, Subject
from analytics.detectors.parking_sensors import (
    DETECTOR,
    FROZEN,
    SILENT,
    STUCK_FREE,
    ParkingSensorParams,
)
from analytics.findings import Finding, SubjectKind
from analytics.watch.detectors import DetectorWatch
from core.reading import Reading
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from simulator.territory_file import load_territory, write_registry

GARE, CATEAU, THIRD = "59139-C-001", "59136-C-001", "59545-C-001"
END = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris
DAYS = 28
STUCK_SINCE = END - timedelta(days=4)
MUTE_SINCE = END - timedelta(days=3)
FREE_SINCE = END - timedelta(days=3, hours=12)  # a sensor stuck on "free" from a Thursday night
FROZEN_FROM = END - timedelta(days=5)  # Le Cateau's count stops changing


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteStore]]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, write_registry(load_territory(), tmp_path / "registry.yaml"))
    store = SqliteStore(tmp_path / "ts.sqlite")
    yield state, store
    store.close()
    state.dispose()


def _subjects(state: StateStore) -> dict[str, Subject]:
    return {s.code: s for s in DETECTOR.spec.subjects.load(state)}


def _commute(dev_eui: str, until: datetime) -> list[Reading]:
    """Occupied 07:00-08:10 in Paris every day, free otherwise, a heartbeat every 6 hours."""
    out: list[Reading] = []
    day = END.replace(hour=6) - timedelta(days=DAYS)
    while day < until:
        out += [
            Reading(day, dev_eui, "occupied", 1.0),
            Reading(day + timedelta(minutes=70), dev_eui, "occupied", 0.0),
        ]
        out += [
            Reading(day + timedelta(hours=h), dev_eui, "occupied", 0.0) for h in (6, 12, 18)
        ]  # heartbeats
        day += timedelta(days=1)
    return out


def _every_6h(dev_eui: str, start: datetime, value: float) -> list[Reading]:
    n = int((END - start) / timedelta(hours=6))
    return [Reading(start + timedelta(hours=6 * i), dev_eui, "occupied", value) for i in range(n)]


def _territory(state: StateStore, store: SqliteStore) -> dict[str, Subject]:
    subjects = _subjects(state)
    stuck, mute, free, *gare = subjects[GARE].devices
    readings = [r for d in gare for r in _commute(d, END)]
    readings += [r for r in _commute(free, FREE_SINCE) if r.time < FREE_SINCE]
    readings += _every_6h(free, FREE_SINCE, 0.0)
    readings += [r for r in _commute(stuck, STUCK_SINCE) if r.time < STUCK_SINCE]
    readings += _every_6h(stuck, STUCK_SINCE, 1.0)
    readings += [r for r in _commute(mute, MUTE_SINCE) if r.time < MUTE_SINCE]
    for d in subjects[CATEAU].devices:  # every sensor free and still talking: the count is stuck
        readings += [r for r in _commute(d, FROZEN_FROM) if r.time < FROZEN_FROM]
        readings += _every_6h(d, FROZEN_FROM, 0.0)
    store.write(readings)
    return subjects


def _pass(state: StateStore, store: SqliteStore) -> tuple[list[Finding], set[tuple[str, str]]]:
    subjects = list(_subjects(state).values())
    start = END - timedelta(days=DAYS)
    data = DETECTOR.spec.reads.load(store, subjects, start, END)
    detection = DETECTOR.detect(Pass(subjects, data, ParkingSensorParams(), start, END, None, {}))
    return detection.findings, detection.judged


def test_silent_stuck_and_frozen_are_raised(stores: tuple[StateStore, SqliteStore]) -> None:
    state, store = stores
    subjects = _territory(state, store)
    stuck, mute, free, *gare = subjects[GARE].devices
    findings, judged = _pass(state, store)
    raised = {(f.type, f.subject_kind, f.subject) for f in findings}
    assert raised == {
        (SILENT.code, SubjectKind.DEVICE, mute),
        (FROZEN.code, SubjectKind.DEVICE, stuck),
        (STUCK_FREE.code, SubjectKind.DEVICE, free),
        (FROZEN.code, SubjectKind.AREA, CATEAU),
    }
    # Le Cateau's spaces have all been free for five days, but no car came to any of them.
    assert {(STUCK_FREE.code, d) for d in subjects[CATEAU].devices} <= judged
    assert {(STUCK_FREE.code, d) for d in gare} <= judged
    # Saint-Souplet's sensors were never heard in four weeks: nothing to judge them on.
    assert not {(SILENT.code, d) for d in subjects[THIRD].devices} & judged
    # The commuters' spaces and the Gare's count were judged and are fine.
    assert {(SILENT.code, d) for d in gare} <= judged
    assert {(FROZEN.code, d) for d in gare} | {(FROZEN.code, GARE)} <= judged
    by = {(f.type, f.subject): f for f in findings}
    silent = by[(SILENT.code, mute)]
    assert silent.evidence["area"] == GARE and silent.evidence["heartbeat_s"] == 86_400
    assert silent.start == datetime.fromisoformat(silent.evidence["last_seen"]) + timedelta(
        hours=36
    )
    frozen = by[(FROZEN.code, stuck)]
    assert frozen.evidence["since"] == STUCK_SINCE.isoformat()
    assert frozen.evidence["limit_h"] == 2.0  # the area's 70-minute stays, at the floor
    stuck_free = by[(STUCK_FREE.code, free)]
    # Free since its last car left that morning, 07:10.
    assert stuck_free.evidence["since"] == FREE_SINCE.replace(hour=7, minute=10).isoformat()
    assert stuck_free.evidence["expected_arrivals"] > 9.2  # -ln(1e-4)
    # Flagged on a morning when the others' cars came, not in the night it stuck.
    assert stuck_free.start.hour == 6 and stuck_free.start > FREE_SINCE
    assert "libre" in STUCK_FREE.title_fr
    area = by[(FROZEN.code, CATEAU)]
    assert datetime.fromisoformat(area.evidence["since"]) >= FROZEN_FROM - timedelta(hours=24)
    assert area.evidence["free"] == len(subjects[CATEAU].devices)


def test_the_watch_runs_it_with_the_other_detectors(
    stores: tuple[StateStore, SqliteStore],
) -> None:
    state, store = stores
    _territory(state, store)
    result = DetectorWatch(store, state).run(END, None, {})
    assert "parking_sensors" not in result.failed
    assert result.counts["parking_sensors.subjects"] == 3
    ours = {f.subject for f in result.findings if f.type == FROZEN.code}
    assert CATEAU in ours

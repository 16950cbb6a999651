"""Carpool-area sensors for the technical services: space sensors silent beyond their heartbeat,
spaces stuck occupied or stuck free, and area counts frozen implausibly long
(``analytics.parking``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from analytics.detectors.base import Detection, Pass, Spec, Subject, Window, WindowKind
from analytics.detectors.feeds import RawReadings
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from analytics.parking.frozen import (
    FeedParams,
    FreeParams,
    FreezeParams,
    SpaceLimits,
    judge_feed,
)
from analytics.parking.history import counts_at
from analytics.parking.learned import samples_by_device
from analytics.parking.registry import SensorRecord, SpaceRecord, areas_with_spaces, space_records
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import QUANTITY, Timeline, changes
from core.state.models import ParkingArea
from core.state.store import StateStore

SILENT = AlertType("parking_sensor_silent", "Capteur de place muet", Severity.INFO)
FROZEN = AlertType("parking_data_frozen", "Données de stationnement figées", Severity.WARNING)
STUCK_FREE = AlertType(
    "parking_space_stuck_free",
    "Place toujours libre alors que l'aire se remplit : capteur bloqué ?",
    Severity.WARNING,
)
STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class ParkingSensorParams:
    """Silence is judged against each sensor's heartbeat (registry ``heartbeat_s``, else its
    model's); stillness against the area's own past, per hour of the local week."""

    grace: float = 1.5  # silent beyond grace × heartbeat
    default_heartbeat_s: int = 86_400
    stay_quantile: float = 0.98  # a space: occupied longer than quantile × factor of past stays
    stay_factor: float = 1.5
    stay_floor_s: float = 2 * 3600.0
    stay_fallback_s: float = 72 * 3600.0  # with no past stays
    feed_alpha: float = 1e-3  # an area's count: frozen when seeing no change is this unlikely
    feed_floor_s: float = 2 * 3600.0
    # A space free while the others received cars: flagged when receiving none of its share is
    # this unlikely (it needs this many arrivals in the window for its share to be known).
    free_alpha: float = 1e-4
    free_min_arrivals: int = 8


@dataclass(frozen=True, slots=True)
class _Area:
    id_lieu: str
    nbre_pl: int
    nbre_pmr: int
    ouvert: bool
    spaces: tuple[SpaceRecord, ...] = field(default=())


@dataclass(frozen=True)
class CarpoolAreas:
    """One subject per carpool area: its spaces' sensors (``parameters["area"]``)."""

    name: str = "carpool_areas"

    def load(self, state: StateStore, tenant: str | None = None) -> list[Subject]:
        with state.session() as session:
            areas = areas_with_spaces(session)
            return [_subject(a) for a in areas if tenant in (None, a.tenant.code)]


def _subject(a: ParkingArea) -> Subject:
    spaces = space_records(a)
    area = _Area(a.id_lieu, a.nbre_pl, a.nbre_pmr, a.ouvert, spaces)
    devices = tuple(s.device.dev_eui for s in spaces if s.device)
    return Subject(a.tenant.code, SubjectKind.AREA, a.id_lieu, devices, {"area": area})


class ParkingSensors:
    spec = Spec(
        name="parking_sensors",
        description=(
            "Space sensors silent beyond their heartbeat; spaces stuck occupied or free; "
            "area counts frozen"
        ),
        alert_types=(SILENT, FROZEN, STUCK_FREE),
        params=ParkingSensorParams(),
        units={
            "grace": "1",
            "default_heartbeat_s": "s",
            "stay_quantile": "1",
            "stay_factor": "1",
            "stay_floor_s": "s",
            "stay_fallback_s": "s",
            "feed_alpha": "1",
            "feed_floor_s": "s",
            "free_alpha": "1",
            "free_min_arrivals": "1",
        },
        subjects=CarpoolAreas(),
        reads=RawReadings("occupied_readings", QUANTITY),
        # Four weeks: the stays and count changes of each hour of the week, seen four times.
        window=Window(WindowKind.LOOKBACK, lookback=timedelta(days=28)),
        evidence=(
            "area",
            "space",
            "last_seen",
            "heartbeat_s",
            "since",
            "limit_h",
            "free",
            "expected_arrivals",
        ),
    )

    def detect(self, run: Pass) -> Detection:
        p: ParkingSensorParams = run.params
        settings = ParkingSettings(
            default_heartbeat_s=p.default_heartbeat_s, grace=p.grace, zone=run.zone
        )
        seqs = samples_by_device(run.data, run.end)
        out = Detection(counts={"subjects": len(run.subjects)})
        for subject in run.subjects:
            area: _Area = subject.parameters["area"]
            heard = {
                s.code: (s.device, seq)
                for s in area.spaces
                if s.device is not None and (seq := seqs.get(s.device.dev_eui))
            }
            _silent(out, subject, area, heard, run.end, settings)
            _frozen_spaces(out, subject, area, heard, run.end, settings, p)
            if area.ouvert and heard:  # a closed area's count is still by design
                _frozen_feed(out, subject, area, seqs, run.start, run.end, settings, p)
        out.counts["findings"] = len(out.findings)
        return out


# A space heard in the window: its sensor and samples (sorted, one per instant).
_Heard = Mapping[str, tuple[SensorRecord, Sequence[tuple[datetime, bool]]]]


def _finding(
    type_: AlertType,
    subject: Subject,
    kind: SubjectKind,
    code: str,
    start: datetime,
    end: datetime,
    evidence: dict[str, Any],
) -> Finding:
    return Finding(type_.code, subject.tenant, kind, code, start, end, evidence=evidence)


def _silent(
    out: Detection,
    subject: Subject,
    area: _Area,
    heard: _Heard,
    end: datetime,
    settings: ParkingSettings,
) -> None:
    """A sensor heard in the window is judged: within heartbeat × grace it clears, beyond it
    raises; one never heard in the window says nothing (silence is no evidence of a fault)."""
    for code, (d, seq) in heard.items():
        out.judged.add((SILENT.code, d.dev_eui))
        last = seq[-1][0]
        silent_after = settings.silent_after(d.codec_id, d.parameters)
        if end - last <= silent_after:
            continue
        evidence = {
            "area": area.id_lieu,
            "space": code,
            "last_seen": last.isoformat(),
            "heartbeat_s": settings.heartbeat(d.codec_id, d.parameters).total_seconds(),
        }
        start = last + silent_after
        out.findings.append(
            _finding(SILENT, subject, SubjectKind.DEVICE, d.dev_eui, start, end, evidence)
        )


def _frozen_spaces(
    out: Detection,
    subject: Subject,
    area: _Area,
    heard: _Heard,
    end: datetime,
    settings: ParkingSettings,
    p: ParkingSensorParams,
) -> None:
    """A space still heard, occupied far longer than the area's stays that began at that hour
    (``SpaceLimits``, learned from the area's stays in the window), or free while the other
    spaces received so many cars that some of its share should have come (``FreeLimits``)."""
    shown = {d.dev_eui: changes(seq, settings.hold, end) for d, seq in heard.values()}
    freeze = FreezeParams(p.stay_quantile, p.stay_factor, p.stay_floor_s, p.stay_fallback_s)
    free = FreeParams(p.free_alpha, p.stay_floor_s, p.free_min_arrivals)
    limits = SpaceLimits.learn(shown, params=freeze, until=end, free=free)
    assert limits.free is not None
    for code, (d, seq) in heard.items():
        last_seen = seq[-1][0]
        if end - last_seen > settings.silent_after(d.codec_id, d.parameters):
            continue  # silence is the other alert's
        out.judged.add((FROZEN.code, d.dev_eui))
        out.judged.add((STUCK_FREE.code, d.dev_eui))
        since = shown[d.dev_eui][-1]
        evidence: dict[str, Any] = {
            "area": area.id_lieu,
            "space": code,
            "since": since.time.isoformat(),
            "last_seen": last_seen.isoformat(),
        }
        if not since.occupied:
            flagged = limits.free.flagged_at(d.dev_eui, since.time, end)
            if flagged is not None:
                expected = limits.free.expected(d.dev_eui, since.time, end)
                evidence["expected_arrivals"] = round(expected or 0.0, 1)
                kind = SubjectKind.DEVICE
                found = _finding(STUCK_FREE, subject, kind, d.dev_eui, flagged, end, evidence)
                out.findings.append(found)
            continue
        if not limits.exceeded(since.occupied, since.time, end):
            continue
        limit = limits.occupied.limit(since.time)
        evidence["limit_h"] = round(limit.total_seconds() / 3600, 1)
        out.findings.append(
            _finding(
                FROZEN, subject, SubjectKind.DEVICE, d.dev_eui, since.time + limit, end, evidence
            )
        )


def _frozen_feed(
    out: Detection,
    subject: Subject,
    area: _Area,
    seqs: Mapping[str, Sequence[tuple[datetime, bool]]],
    start: datetime,
    end: datetime,
    settings: ParkingSettings,
    p: ParkingSensorParams,
) -> None:
    """The area's free count, every 15 minutes it is known, unchanged implausibly long."""
    lines = [
        Timeline.of_samples(
            seqs.get(s.device.dev_eui, ()),
            end,
            settings.silent_after(s.device.codec_id, s.device.parameters),
            settings.hold,
        )
        for s in area.spaces
        if s.device is not None
    ]
    points = counts_at(lines, max(area.nbre_pl, len(area.spaces)), start, end, STEP)
    known = [pt for pt in points if pt.free + pt.occupied > 0]
    if not known:
        return
    t = np.array([pt.time.timestamp() for pt in known], dtype=np.float64)
    x = np.array([pt.free for pt in known], dtype=np.float64)
    judged = judge_feed(t, x, end, params=FeedParams(alpha=p.feed_alpha, floor_s=p.feed_floor_s))
    out.judged.add((FROZEN.code, area.id_lieu))
    if not judged.frozen or judged.unchanged_since is None:
        return
    evidence = {
        "area": area.id_lieu,
        "since": judged.unchanged_since.isoformat(),
        "last_seen": judged.last_sample.isoformat() if judged.last_sample else None,
        "free": int(x[-1]),
    }
    out.findings.append(
        _finding(
            FROZEN, subject, SubjectKind.AREA, area.id_lieu, judged.unchanged_since, end, evidence
        )
    )


DETECTOR = ParkingSensors()

"""Scoring detections against injected faults: recall, precision, false alarms, time to detect."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Injected:
    """A fault put in on purpose (from a simulator's ground truth); ``end`` None: still on."""

    subject: str
    start: datetime
    end: datetime | None
    magnitude: float | None = None


@dataclass(frozen=True, slots=True)
class Detected:
    """What a detector raised: when it raised it (``alert``) and the onset it estimated."""

    subject: str
    alert: datetime
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Score:
    injected: int  # faults that could be judged (not censored by the end of the run)
    found: int  # of those, detected within the allowed delay
    censored: int  # faults starting too close to the end of the run to be judged
    detections: int
    false_alarms: int  # detections that match no fault on their subject
    delays_h: tuple[float, ...]

    @property
    def recall(self) -> float | None:
        return self.found / self.injected if self.injected else None

    @property
    def precision(self) -> float | None:
        if not self.detections:
            return None
        return (self.detections - self.false_alarms) / self.detections

    @property
    def median_delay_h(self) -> float | None:
        return statistics.median(self.delays_h) if self.delays_h else None


def score(
    injected: Sequence[Injected],
    detected: Sequence[Detected],
    run_end: datetime,
    *,
    max_delay: timedelta,
    grace: timedelta = timedelta(hours=24),
) -> Score:
    """Match detections to faults on the same subject.

    A detection *explains* a fault when its alert falls in ``[fault start, fault end + grace]``
    (the grace lets a detector confirm a fault that has just been repaired). A fault is *found*
    when its first explaining alert comes within ``max_delay`` of its start. Faults starting later
    than ``run_end - max_delay`` are censored: the run ended before they could be judged.
    Detections that explain no fault are false alarms.
    """
    by_subject: dict[str, list[Injected]] = defaultdict(list)
    for f in injected:
        by_subject[f.subject].append(f)
    alerts: dict[str, list[datetime]] = defaultdict(list)
    false_alarms = 0
    for d in detected:
        alerts[d.subject].append(d.alert)
        if not any(_explains(d.alert, f, run_end, grace) for f in by_subject.get(d.subject, [])):
            false_alarms += 1
    judged = found = censored = 0
    delays: list[float] = []
    for f in injected:
        if f.start > run_end - max_delay:
            censored += 1
            continue
        judged += 1
        hits = sorted(a for a in alerts.get(f.subject, []) if _explains(a, f, run_end, grace))
        if hits and hits[0] - f.start <= max_delay:
            found += 1
            delays.append((hits[0] - f.start).total_seconds() / 3600)
    return Score(judged, found, censored, len(detected), false_alarms, tuple(delays))


def _explains(alert: datetime, fault: Injected, run_end: datetime, grace: timedelta) -> bool:
    end = fault.end if fault.end is not None else run_end
    return fault.start <= alert <= end + grace

"""Events of the hourly water-meter detectors (one row per subject) as findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from analytics.detectors.base import Detection, Subject
from analytics.findings import Estimates, Finding
from analytics.water.meter_hours import MeterHours

HOUR = timedelta(hours=1)
METER_EVIDENCE = ("detected_at", "flow_lph", "series")
# A meter that sends its hourly history in one daily frame is up to a day and its network's
# delay behind: silence shorter than this is the next frame not being due yet.
RECENT_HOURS = 48


def meter_detection(
    type_: str,
    subjects: Sequence[Subject],
    mh: MeterHours,
    events: Iterable[Any],
    *,
    flow: Callable[[Any], float],
    skip: set[int] | None = None,
) -> Detection:
    """An event still open at the end of the window is a finding; a subject with data in the
    last ``RECENT_HOURS`` and no open event is judged (its open alert clears). A silent meter,
    or one the rule could not judge (``skip``), is neither: its alert stays as it was."""
    col = ColumnTime(mh)
    open_rows = {e.meter: e for e in events if e.end is None}
    recent = np.isfinite(mh.volume_l[:, -RECENT_HOURS:]).any(axis=1)
    out = Detection(counts={"subjects": len(subjects)})
    for r, subject in enumerate(subjects):
        e = open_rows.get(r)
        if not recent[r] or (e is None and skip is not None and r in skip):
            continue
        out.judged.add((type_, subject.code))
        if e is None:
            continue
        lph = float(flow(e))
        known = bool(np.isfinite(lph))
        out.findings.append(
            Finding(
                type=type_,
                tenant=subject.tenant,
                subject_kind=subject.kind,
                subject=subject.code,
                start=col.at(e.start),
                observed_at=col.end,
                evidence={
                    "detected_at": col.at(e.alert).isoformat(),
                    "flow_lph": round(lph, 1) if known else None,
                    "series": {
                        "device": subject.devices[0],
                        "quantity": "volume_m3",
                        "start": col.at(max(0, e.start - 48)).isoformat(),
                        "end": col.end.isoformat(),
                    },
                },
                estimates=Estimates(
                    flow_lph=lph if known else None,
                    volume_m3=float(e.volume_l) / 1000 if np.isfinite(e.volume_l) else None,
                ),
            )
        )
    out.counts["findings"] = len(out.findings)
    return out


class ColumnTime:
    """UTC datetimes of a matrix's columns."""

    def __init__(self, mh: MeterHours) -> None:
        self._first = _utc(mh.axis.utc[0])
        self._step = (
            timedelta(seconds=int((mh.axis.utc[1] - mh.axis.utc[0]) / np.timedelta64(1, "s")))
            if len(mh.axis.utc) > 1
            else HOUR
        )
        self.end = self._first + self._step * len(mh.axis.utc)

    def at(self, column: int) -> datetime:
        return self._first + self._step * column


def _utc(t: np.datetime64) -> datetime:
    seconds = int(t.astype("datetime64[s]").astype(np.int64))
    return datetime.fromtimestamp(seconds, UTC)

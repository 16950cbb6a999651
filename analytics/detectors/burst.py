"""Sector inflow far above its hour-of-week envelope for a sustained time: a burst
(``analytics.water.burst``)."""

from __future__ import annotations

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.feeds import SECTOR_QUARTER_HOURS
from analytics.detectors.meter_events import METER_EVIDENCE, meter_detection
from analytics.detectors.subjects import SECTOR_INFLOWS
from analytics.findings import AlertType, Severity
from analytics.water.burst import SECTOR_BURST_PARAMS, detect_bursts


class Burst:
    spec = Spec(
        name="burst",
        description="A sector's inflow above its hour-of-week envelope for a sustained time",
        alert_types=(
            AlertType("burst", "Débit anormalement élevé (casse probable)", Severity.CRITICAL),
        ),
        params=SECTOR_BURST_PARAMS,
        units={
            "history_weeks": "weeks",
            "min_history_weeks": "weeks",
            "pool_h": "h",
            "factor": "1",
            "floor_lph": "L/h",
            "min_duration_h": "h",
            "chunk_meters": "meters",
        },
        subjects=SECTOR_INFLOWS,
        reads=SECTOR_QUARTER_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=METER_EVIDENCE,
    )

    def detect(self, run: Pass) -> Detection:
        mh = run.data
        bursts = detect_bursts(mh.volume_l, mh.axis, run.params)
        return meter_detection("burst", run.subjects, mh, bursts, flow=lambda e: e.excess_flow_lph)


DETECTOR = Burst()

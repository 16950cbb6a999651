"""Household meters: a continuous flow night after night (``analytics.water.household``)."""

from __future__ import annotations

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.feeds import HOUSEHOLD_REGISTERS
from analytics.detectors.meter_events import METER_EVIDENCE, meter_detection
from analytics.detectors.subjects import HOUSEHOLD_METERS
from analytics.findings import AlertType, Severity
from analytics.water.household import ContinuousFlowParams, detect_continuous_flow

CONTINUOUS_FLOW_UNITS = {
    "zero_eps": "L",
    "max_hourly_l": "L",
    "max_gap_hours": "h",
    "night_start_hour": "h (local)",
    "night_end_hour": "h (local)",
    "min_night_valid_hours": "h",
    "min_night_flow_lph": "L/h",
    "min_nights": "nights",
    "min_run_valid_hours": "h",
    "steady_run_valid_hours": "h",
    "flat_tolerance_l": "L",
    "flat_tolerance_share": "1",
    "merge_gap_hours": "h",
    "chunk_meters": "meters",
}


class HouseholdLeak:
    spec = Spec(
        name="household_leak",
        description="A household meter that never stops: no zero hour for days, flow at night",
        alert_types=(
            AlertType("household_leak", "Fuite probable chez un abonné", Severity.WARNING),
        ),
        params=ContinuousFlowParams(),
        units=CONTINUOUS_FLOW_UNITS,
        subjects=HOUSEHOLD_METERS,
        reads=HOUSEHOLD_REGISTERS,
        window=Window(WindowKind.LOOKBACK),
        evidence=METER_EVIDENCE,
    )

    def detect(self, run: Pass) -> Detection:
        mh = run.data
        events = detect_continuous_flow(
            mh.volume_l, mh.axis.local_hour, mh.axis.local_date, run.params
        )
        return meter_detection(
            "household_leak", run.subjects, mh, events, flow=lambda e: e.flow_lph_estimate
        )


DETECTOR = HouseholdLeak()

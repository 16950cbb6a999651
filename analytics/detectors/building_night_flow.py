"""Building meters: night flow above the building's own recent nights
(``analytics.water.building``)."""

from __future__ import annotations

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.feeds import BUILDING_REGISTERS
from analytics.detectors.meter_events import METER_EVIDENCE, meter_detection
from analytics.detectors.subjects import BUILDING_WATER_METERS
from analytics.findings import AlertType, Severity
from analytics.water.building import NightFlowParams, detect_night_flow


class BuildingNightFlow:
    spec = Spec(
        name="building_night_flow",
        description="A building's night flow above its baseline of recent nights",
        alert_types=(
            AlertType("building_night_flow", "Consommation nocturne anormale", Severity.WARNING),
        ),
        params=NightFlowParams(),
        units={
            "night_start_hour": "h (local)",
            "night_end_hour": "h (local)",
            "min_night_coverage": "1",
            "baseline_nights": "nights",
            "min_baseline_nights": "nights",
            "floor_lph": "L/h",
            "k_spread": "1",
            "min_nights": "nights",
        },
        subjects=BUILDING_WATER_METERS,
        reads=BUILDING_REGISTERS,
        window=Window(WindowKind.LOOKBACK),
        evidence=METER_EVIDENCE,
    )

    def detect(self, run: Pass) -> Detection:
        mh = run.data
        nights = detect_night_flow(mh.volume_l, mh.axis, run.params)
        return meter_detection(
            "building_night_flow", run.subjects, mh, nights, flow=lambda e: e.excess_flow_lph
        )


DETECTOR = BuildingNightFlow()

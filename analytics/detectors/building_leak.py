"""Building meters: a continuous flow, judged against the building's own nights, so that a
building whose normal use never stops (a pool) is not a leak (``analytics.water.building``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.feeds import BUILDING_REGISTERS
from analytics.detectors.household_leak import CONTINUOUS_FLOW_UNITS
from analytics.detectors.meter_events import METER_EVIDENCE, meter_detection
from analytics.detectors.subjects import BUILDING_WATER_METERS
from analytics.findings import AlertType, Severity
from analytics.water.building import BUILDING_PARAMS, AlwaysOnParams, building_continuous_flow
from analytics.water.household import ContinuousFlowParams
from analytics.water.loading import continuous_use


@dataclass(frozen=True)
class BuildingLeakParams:
    flow: ContinuousFlowParams = BUILDING_PARAMS
    always_on: AlwaysOnParams = field(default_factory=AlwaysOnParams)


class BuildingLeak:
    spec = Spec(
        name="building_leak",
        description="A building meter with a continuous flow its own past nights do not explain",
        alert_types=(
            AlertType("building_leak", "Débit continu dans un bâtiment", Severity.WARNING),
        ),
        params=BuildingLeakParams(),
        units={
            **{f"flow.{k}": v for k, v in CONTINUOUS_FLOW_UNITS.items()},
            "always_on.reference_nights": "nights",
            "always_on.min_reference_nights": "nights",
            "always_on.busy_share": "1",
        },
        subjects=BUILDING_WATER_METERS,
        reads=BUILDING_REGISTERS,
        window=Window(WindowKind.LOOKBACK),
        evidence=METER_EVIDENCE,
    )

    def detect(self, run: Pass) -> Detection:
        mh, p = run.data, run.params
        declared = [continuous_use(s.parameters) for s in run.subjects]
        leaks = building_continuous_flow(
            mh.volume_l, mh.axis, declared, params=p.flow, always_on=p.always_on
        )
        # A run the rule cannot judge (it started with the window) is no evidence that the leak
        # of an open alert stopped: neither a finding nor a clearance, like silence.
        unjudged = {e.meter for e in leaks.unjudged if e.end is None}
        return meter_detection(
            "building_leak",
            run.subjects,
            mh,
            leaks.alerts,
            flow=lambda e: e.flow_lph_estimate,
            skip=unjudged,
        )


DETECTOR = BuildingLeak()

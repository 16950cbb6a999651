"""A day whose load shape differs from the building's past days of its kind
(``analytics.energy.load_shape``)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS
from analytics.energy.load_shape import LoadShapeParams, latest_shape_anomaly
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.series import from_ns

TYPE = AlertType("energy_load_shape", "Profil de consommation inhabituel", Severity.INFO)


class EnergyLoadShape:
    spec = Spec(
        name="energy_load_shape",
        description="A day whose hourly load shape differs from the building's past days",
        alert_types=(TYPE,),
        params=LoadShapeParams(),
        units={
            "reference_days": "days",
            "min_reference_days": "days",
            "neighbours": "days",
            "k_mad": "MAD",
            "min_distance": "× day mean",
        },
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=("day", "distance", "usual_distance", "day_kwh", "usual_day_kwh", "hours"),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        for b in run.data:
            if b.n == 0 or not b.registers:
                continue
            anomaly, judged = latest_shape_anomaly(b, run.params)
            if judged:
                out.judged.add((TYPE.code, b.code))
            if anomaly is None:
                continue
            day = datetime.combine(anomaly.day.astype(object), time(0), ZoneInfo(b.zone))
            out.findings.append(
                Finding(
                    type=TYPE.code,
                    tenant=b.tenant,
                    subject_kind=SubjectKind.BUILDING,
                    subject=b.code,
                    start=day.astimezone(UTC),
                    observed_at=from_ns(int(b.hours_ns[-1]) + HOUR_NS),
                    evidence=anomaly.evidence,
                )
            )
        out.counts["findings"] = len(out.findings)
        return out


DETECTOR = EnergyLoadShape()

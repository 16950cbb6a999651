"""Heating setpoints against the Code de l'énergie: occupied hours drifting above 19 °C, and
absences heated above 16 °C (24-48 h) or held above 8 °C (beyond 48 h)
(``analytics.energy.comfort_rules``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS, BuildingHours
from analytics.energy.comfort_rules import (
    Event,
    SetpointParams,
    UnoccupiedHeatingParams,
    heated_while_unoccupied,
    setpoint_drift,
)
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.series import from_ns

DRIFT = AlertType(
    "comfort_setpoint_drift", "Température de chauffage au-dessus de 19 °C", Severity.WARNING
)
UNOCCUPIED = AlertType(
    "comfort_unoccupied_heating", "Chauffage maintenu pendant l'inoccupation", Severity.WARNING
)


@dataclass(frozen=True)
class ComfortParams:
    drift: SetpointParams = field(default_factory=SetpointParams)
    unoccupied: UnoccupiedHeatingParams = field(default_factory=UnoccupiedHeatingParams)
    # Pools are kept warm by design (water, humidity): their setpoints are not judged here.
    exempt_categories: str = field(
        default="piscine", metadata={"doc": "activity categories, comma-separated"}
    )


UNITS = {
    "drift.max_c": "°C",
    "drift.tolerance_c": "°C",
    "drift.drift_c": "°C",
    "drift.min_occupied_hours": "h",
    "drift.baseline_days": "days",
    "drift.min_baseline_days": "days",
    "drift.baseline_quantile": "1",
    "drift.max_outdoor_c": "°C",
    "drift.min_heating_share": "1",
    "drift.min_days": "days",
    "unoccupied.start_hours": "h",
    "unoccupied.limit_c": "°C",
    "unoccupied.long_after_hours": "h",
    "unoccupied.long_limit_c": "°C",
    "unoccupied.recovery_hours": "h",
    "unoccupied.preheat_hours": "h",
    "unoccupied.tolerance_c": "°C",
    "unoccupied.hold_hours": "h",
    "unoccupied.min_drop_c": "°C",
    "unoccupied.min_gap_c": "°C",
    "unoccupied.min_hours": "h",
    "unoccupied.min_heating_share": "1",
    "exempt_categories": "activity category",
}


class ComfortSetpoints:
    spec = Spec(
        name="comfort_setpoints",
        description="Occupied heating drifting above 19 °C; absences heated above 16 °C / 8 °C",
        alert_types=(DRIFT, UNOCCUPIED),
        params=ComfortParams(),
        units=UNITS,
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=(
            "occupied_mean_c",
            "held_c",
            "usual_c",
            "share_hours_above_limit",
            "heating_kwh_per_day",
            "absence_hours",
            "hours_above_limit",
            "mean_indoor_c",
            "limits_c",
            "heating_kwh",
        ),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        exempt = {c.strip() for c in run.params.exempt_categories.split(",") if c.strip()}
        # Each building's drift days counted so far (a building skipped this pass keeps its own).
        remembered: dict[str, dict[str, float]] = dict(run.state.get(DRIFT.code, {}))
        out.state[DRIFT.code] = remembered
        for subject, b in zip(run.subjects, run.data, strict=True):
            if b.n == 0 or not (b.indoor_c[-48:] == b.indoor_c[-48:]).any():
                continue  # no indoor temperature lately: not judged
            if getattr(subject.parameters.get("info"), "activity_category", None) in exempt:
                continue
            drift, judged, remembered[b.code] = setpoint_drift(
                b, run.params.drift, remembered.get(b.code)
            )
            if judged:
                out.judged.add((DRIFT.code, b.code))
                out.findings.extend(_finding(DRIFT.code, b, e) for e in drift if e.open)
            out.judged.add((UNOCCUPIED.code, b.code))
            out.findings.extend(
                _finding(UNOCCUPIED.code, b, e)
                for e in heated_while_unoccupied(b, run.params.unoccupied)
                if e.open
            )
        out.counts["findings"] = len(out.findings)
        return out


def _finding(type_: str, b: BuildingHours, e: Event) -> Finding:
    return Finding(
        type=type_,
        tenant=b.tenant,
        subject_kind=SubjectKind.BUILDING,
        subject=b.code,
        start=from_ns(int(b.hours_ns[e.start])),
        observed_at=from_ns(int(b.hours_ns[-1]) + HOUR_NS),
        evidence=e.evidence,
    )


DETECTOR = ComfortSetpoints()

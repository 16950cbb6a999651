"""CO2 in occupied rooms above 800 and 1,500 ppm (``analytics.energy.comfort_rules``)."""

from __future__ import annotations

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS
from analytics.energy.comfort_rules import Co2Params, co2_levels
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.series import from_ns

TYPE = AlertType("indoor_co2", "Air intérieur confiné (CO2)", Severity.WARNING)


class IndoorCo2:
    spec = Spec(
        name="indoor_co2",
        description="Occupied rooms above 800 ppm of CO2 (critical above 1,500 ppm)",
        alert_types=(TYPE,),
        params=Co2Params(),
        units={"warn_ppm": "ppm", "alarm_ppm": "ppm", "min_hours": "h"},
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=(
            "building",
            "day",
            "occupied_hours",
            "hours_above_800_ppm",
            "hours_above_1500_ppm",
            "max_ppm",
        ),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        for b in run.data:
            if b.n == 0:
                continue
            events, judged = co2_levels(b, run.params)
            out.judged |= {(TYPE.code, b.co2_devices[s]) for s in judged}
            for s, e in events:
                out.findings.append(
                    Finding(
                        type=TYPE.code,
                        tenant=b.tenant,
                        subject_kind=SubjectKind.DEVICE,
                        subject=b.co2_devices[s],
                        start=from_ns(int(b.hours_ns[e.start])),
                        observed_at=from_ns(int(b.hours_ns[-1]) + HOUR_NS),
                        severity=Severity.CRITICAL if e.critical else None,
                        evidence={"building": b.code, **e.evidence},
                    )
                )
        out.counts["findings"] = len(out.findings)
        return out


DETECTOR = IndoorCo2()

"""Consumption in unoccupied periods above the building's own baseload
(``analytics.energy.unoccupied``)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS
from analytics.energy.unoccupied import UnoccupiedParams, detect_unoccupied
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.calendar import FrenchCalendar
from core.config import KpiSettings
from core.series import from_ns

TYPE = AlertType(
    "energy_unoccupied_excess", "Consommation hors occupation au-dessus du talon", Severity.WARNING
)
PRICES = KpiSettings().prices_eur_kwh  # the default prices: evidence, not an invoice
CALENDAR = FrenchCalendar()


class EnergyUnoccupied:
    spec = Spec(
        name="energy_unoccupied",
        description="Nights, weekends and holidays using more than the building's baseload",
        alert_types=(TYPE,),
        params=UnoccupiedParams(),
        units={
            "margin_hours": "h",
            "min_unoccupied_hours": "h",
            "low_quantile": "1",
            "baseline_days": "days",
            "min_baseline_days": "days",
            "baseline_quantile": "1",
            "base_c": "°C",
            "rise_share": "1",
            "min_rise_kwh_h": "kWh/h",
            "k_spread": "1",
            "max_colder_c": "°C",
            "setback_c": "°C",
            "min_days": "days",
        },
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=(
            "device",
            "carrier",
            "baseload_kw",
            "unoccupied_kw",
            "extra_kwh",
            "extra_eur",
            "days",
            "period",
        ),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        for subject, b in zip(run.subjects, run.data, strict=True):
            if b.n == 0 or not b.registers:
                continue
            zone = getattr(subject.parameters.get("info"), "holiday_zone", None)
            events = [e for e in detect_unoccupied(b, run.params, CALENDAR, zone) if e.open]
            if not events and not (b.kwh[:, -24:] == b.kwh[:, -24:]).any():
                continue  # no recent data: not judged
            out.judged.add((TYPE.code, b.code))
            if not events:
                continue
            worst = max(events, key=lambda e: float(e.evidence["extra_kwh"]))
            price = PRICES.get(str(worst.evidence["carrier"]))
            extra = float(worst.evidence["extra_kwh"])
            first = datetime.combine(worst.first_day.astype(object), time(0), ZoneInfo(b.zone))
            end_ns = int(b.hours_ns[-1]) + HOUR_NS
            out.findings.append(
                Finding(
                    type=TYPE.code,
                    tenant=b.tenant,
                    subject_kind=SubjectKind.BUILDING,
                    subject=b.code,
                    start=first.astimezone(UTC),
                    observed_at=from_ns(end_ns),
                    evidence={
                        **worst.evidence,
                        "extra_eur": None if price is None else round(extra * price, 0),
                        "period": [str(worst.first_day), str(worst.last_day)],
                        "registers_above": len(events),
                    },
                )
            )
        out.counts["findings"] = len(out.findings)
        return out


DETECTOR = EnergyUnoccupied()

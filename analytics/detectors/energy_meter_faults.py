"""Energy registers that freeze, reset, jump or read zero (``analytics.energy.meter_faults``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS, BuildingHours
from analytics.energy.meter_faults import MeterFaultParams, recent, register_faults, usual_max
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.series import from_ns

TYPES = {
    "frozen": AlertType("energy_meter_frozen", "Compteur d'énergie figé", Severity.WARNING),
    "reset": AlertType(
        "energy_meter_reset", "Remise à zéro du compteur d'énergie", Severity.WARNING
    ),
    "jump": AlertType(
        "energy_meter_jump", "Saut impossible d'un compteur d'énergie", Severity.WARNING
    ),
    "zeros": AlertType(
        "energy_meter_zeros", "Relevés à zéro d'un compteur d'énergie", Severity.INFO
    ),
}


class EnergyMeterFaults:
    spec = Spec(
        name="energy_meter_faults",
        description="An energy register that stays flat while occupied, drops, jumps or reads 0",
        alert_types=tuple(TYPES.values()),
        params=MeterFaultParams(),
        units={
            "reverse_tolerance_kwh": "kWh",
            "zero_kwh": "kWh",
            "jump_factor": "1",
            "min_jump_kwh": "kWh",
            "min_flat_hours": "h",
            "min_flat_readings": "readings",
            "min_occupied_hours": "h",
            "recent_hours": "h",
        },
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK),
        evidence=("building", "channel", "since", "index_kwh", "frozen_hours", "rise_kwh"),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        for b in run.data:
            found = building_meter_faults(b, run.params, run.state)
            out.findings.extend(found.findings)
            out.judged |= found.judged
            for key, values in found.state.items():
                out.state.setdefault(key, {}).update(values)
        out.counts["findings"] = len(out.findings)
        return out


def building_meter_faults(
    b: BuildingHours, p: MeterFaultParams, state: Mapping[str, Any]
) -> Detection:
    """Findings (subject: the meter's DevEUI) and judged meters of one building; the state keeps
    each register's highest usual hourly kWh seen (``usual_max_kwh_h``), for the jump rule."""
    out = Detection()
    if b.n == 0:
        return out
    end_ns = int(b.hours_ns[-1]) + HOUR_NS
    for r, reg in enumerate(b.registers):
        key = f"{reg.device}/{reg.channel or ''}"
        seen = float(state.get("usual_max_kwh_h", {}).get(key, 0.0))
        out.state.setdefault("usual_max_kwh_h", {})[key] = max(seen, usual_max(b.kwh[r]))
        if len(reg.times_ns) == 0 or int(reg.times_ns.max()) < end_ns - 24 * HOUR_NS:
            continue  # silent: nothing to say
        for t in TYPES.values():
            out.judged.add((t.code, reg.device))
        faults = register_faults(
            reg.times_ns, reg.index_kwh, b.hours_ns, b.occupied, b.kwh[r], p, seen
        )
        for f in recent(faults, end_ns, p):
            out.findings.append(
                Finding(
                    type=TYPES[f.kind].code,
                    tenant=b.tenant,
                    subject_kind=SubjectKind.DEVICE,
                    subject=reg.device,
                    start=from_ns(f.start_ns),
                    observed_at=from_ns(end_ns),
                    evidence={
                        "building": b.code,
                        "channel": reg.channel,
                        "carrier": reg.carrier,
                        "since": from_ns(f.start_ns).isoformat(),
                        **f.evidence,
                    },
                )
            )
    return out


DETECTOR = EnergyMeterFaults()

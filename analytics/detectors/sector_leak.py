"""Sector inflow: leaks as steps of the day's mean and night flow, re-anchored after each, one
alert per sector summing the running ones (``analytics.water.sector``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from analytics.detectors.base import Detection, Pass, Spec, Subject, Window, WindowKind
from analytics.detectors.feeds import SECTOR_INFLOWS as INFLOW_SERIES
from analytics.detectors.subjects import SECTOR_INFLOWS
from analytics.findings import AlertType, Estimates, Finding, Severity
from analytics.water.sector import SectorLeak, SectorLeakParams, detect_sector_leaks
from analytics.water.sector_days import SectorDayParams, sector_days
from core.series import NS

TYPE = "sector_leak"


@dataclass(frozen=True)
class SectorLeakDetectorParams:
    days: SectorDayParams = field(default_factory=SectorDayParams)
    steps: SectorLeakParams = field(default_factory=SectorLeakParams)


class SectorLeakDetector:
    spec = Spec(
        name=TYPE,
        description="Leaks on a sector's network: steps of its daily and night inflow",
        alert_types=(AlertType(TYPE, "Fuite probable sur le réseau du secteur", Severity.WARNING),),
        params=SectorLeakDetectorParams(),
        units={
            "days.day_start_hour": "h (local)",
            "days.night_start_hour": "h (local)",
            "days.min_coverage": "1",
            "days.holidays_country": "ISO 3166 code",
            "steps.warmup_days": "days",
            "steps.reference_days": "days",
            "steps.kind_days": "days",
            "steps.spread_days": "days",
            "steps.allowance": "σ",
            "steps.decision": "σ",
            "steps.day_cap": "σ",
            "steps.min_days": "days",
            "steps.min_sigma_m3h": "m³/h",
            "steps.min_step_m3h": "m³/h",
            "steps.min_step_share": "1",
            "steps.significance": "σ",
            "steps.max_run_days": "days",
            "steps.max_gap_days": "days",
            "steps.repair_ratio": "1",
            "steps.settle_days": "days",
            "steps.min_ratio": "1",
            "steps.fast_hours": "h",
            "steps.fast_sigmas": "σ",
            "steps.fast_share": "1",
            "steps.fast_low_ratio": "1",
            "steps.fast_max_share": "1",
            "steps.merge_days": "days",
        },
        subjects=SECTOR_INFLOWS,
        reads=INFLOW_SERIES,
        window=Window(WindowKind.LOOKBACK),
        evidence=("detected_at", "baseline_m3h", "added_flow_m3h", "steps", "series"),
    )

    def detect(self, run: Pass) -> Detection:
        out = Detection(counts={"subjects": len(run.subjects)})
        fresh_after = int((run.end - timedelta(days=1)).timestamp()) * NS
        for subject in run.subjects:
            times, flow = run.data[subject.code]
            if len(times) < 2:
                continue
            if times[-1] >= fresh_after:
                out.judged.add((TYPE, subject.code))
            days = sector_days(times, flow, params=run.params.days)
            running = [
                leak for leak in detect_sector_leaks(days, run.params.steps) if leak.end is None
            ]
            if running:
                out.findings.append(_finding(subject, running, run))
        out.counts["findings"] = len(out.findings)
        return out


def _finding(subject: Subject, running: list[SectorLeak], run: Pass) -> Finding:
    """One alert per sector: its running leaks (each a step of the day's and the night's flow,
    a growing leak several) add up to the flow lost since the first one's onset."""
    return Finding(
        type=TYPE,
        tenant=subject.tenant,
        subject_kind=subject.kind,
        subject=subject.code,
        start=running[0].start,
        observed_at=run.end,
        evidence={
            "detected_at": running[0].detected_at.isoformat(),
            "baseline_m3h": round(running[0].baseline_m3h, 3),
            "added_flow_m3h": round(sum(leak.flow_m3h_estimate for leak in running), 3),
            "steps": [
                {
                    "start": leak.start.isoformat(),
                    "detected_at": leak.detected_at.isoformat(),
                    "flow_m3h": round(leak.flow_m3h_estimate, 3),
                    "baseline_m3h": round(leak.baseline_m3h, 3),
                    "days": [d.isoformat() for d in leak.day_dates],
                    "day_mean_m3h": [round(x, 3) for x in leak.day_mean_m3h],
                    "night_m3h": [round(x, 3) for x in leak.night_m3h],
                }
                for leak in running
            ],
            "series": {
                "device": subject.devices[0],
                "quantity": "volume_m3",
                "start": run.start.isoformat(),
                "end": run.end.isoformat(),
            },
        },
        estimates=Estimates(
            flow_lph=sum(leak.flow_m3h_estimate for leak in running) * 1000,
            volume_m3=sum(leak.volume_m3 for leak in running),
        ),
    )


DETECTOR = SectorLeakDetector()

"""River and groundwater stations: vigilance colours, rapid rises and sensor faults, read
incrementally with each station's state carried over (``analytics.levels``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.feeds import LEVEL_READINGS
from analytics.detectors.subjects import LEVEL_STATIONS
from analytics.findings import AlertType, Clearance, Finding, Severity
from analytics.levels.findings import (
    FAULT,
    RISE,
    VIGILANCE,
    LevelsState,
    StationConfig,
    evaluate_levels,
    station_series,
)
from analytics.levels.rise import RiseParams
from analytics.levels.vigilance import VigilanceParams


@dataclass(frozen=True)
class LevelParams:
    """Station-independent tuning; a station's thresholds, reference height and stuck time come
    from its registry parameters."""

    vigilance: VigilanceParams = field(default_factory=VigilanceParams)
    rise: RiseParams = field(default_factory=RiseParams)
    fault_quiet_s: float = 6 * 3600.0


class RiverLevels:
    spec = Spec(
        name="river_levels",
        description="Vigilance colours crossed, rapid rises and faulty level sensors",
        alert_types=(
            AlertType(VIGILANCE, "Niveau de vigilance crue atteint", Severity.WARNING),
            AlertType(RISE, "Montée rapide du niveau", Severity.WARNING),
            AlertType(FAULT, "Capteur de niveau suspect", Severity.INFO),
        ),
        params=LevelParams(),
        units={
            "vigilance.enter_readings": "readings",
            "vigilance.enter_s": "s",
            "vigilance.hysteresis_m": "m",
            "vigilance.hysteresis_fraction": "1",
            "vigilance.exit_s": "s",
            "rise.rise_cm_h": "cm/h",
            "rise.clear_cm_h": "cm/h",
            "rise.window_s": "s",
            "rise.min_points": "readings",
            "rise.min_span_fraction": "1",
            "rise.min_duration_s": "s",
            "fault_quiet_s": "s",
        },
        subjects=LEVEL_STATIONS,
        reads=LEVEL_READINGS,
        window=Window(WindowKind.SINCE_LAST),
        evidence=(
            *("colour", "threshold_m", "level_m", "peak_m", "peak_at", "left"),
            *("rise_cm_h", "max_rise_cm_h", "threshold_cm_h"),
            *("kind", "start", "end", "points", "series"),
        ),
    )

    def detect(self, run: Pass) -> Detection:
        p: LevelParams = run.params
        configs = {
            s.code: StationConfig.from_registry(
                s.code,
                s.tenant,
                s.parameters,
                device=s.devices[0],
                vigilance=p.vigilance,
                rise=p.rise,
                fault_quiet_s=p.fault_quiet_s,
            )
            for s in run.subjects
        }
        series = station_series(run.data, {s.devices[0]: s.code for s in run.subjects})
        previous = LevelsState.from_dict(dict(run.state)) if run.state else None
        events, state = evaluate_levels(configs, series, previous)
        return Detection(
            findings=[e for e in events if isinstance(e, Finding)],
            clearances=[e for e in events if isinstance(e, Clearance)],
            state=state.to_dict(),
            counts={"stations": len(configs), "readings": len(run.data.times)},
        )


DETECTOR = RiverLevels()

"""``vigie evaluate water``: the water detectors scored against a simulated run's ground truth.

Protocol
--------
The period is the truth's run, ``[start, start + days)``. Each detector reads the stores the way
the periodic runner would (``analytics.water.loading``) and its alerts are matched to the faults
of its kind:

- *household continuous flow* on household meters (hourly litres) against ``household_leak``;
  the target applies to leaks of at least 10 L/h: recall ≥ 0.9, precision ≥ 0.9, median time
  to detect ≤ 48 h. Recall is also given by leak size (5-10, 10-20, ≥ 20 L/h).
- *building continuous flow* and *building night flow* on building meters against
  ``building_leak`` (no target in the issue; the night-flow rule cannot judge a leak starting in
  its first ``min_baseline_nights`` nights, nor the continuous-flow rule one starting in its
  first ``min_reference_nights``, before it can tell whether the building is always on: see
  :mod:`analytics.water.building`).
- *sector night-flow steps* on each sector's net inflow as measured (interval flows) against
  ``sector_leak``, scored by :mod:`analytics.water.sector_evaluation` (warm-up, eligibility
  ≥ 2 % of mean inflow, found within 7 days, false alarms per sector-month): recall ≥ 0.8 and
  ≤ 1 false alarm a sector-month.
- *sector bursts* on each sector's net volume per 15-minute step against ``burst`` (no target;
  bursts in the detector's first ``min_history_weeks`` are not judged).

Customer and burst alerts are scored by :func:`analytics.scoring.score` (customer leaks: found
within 7 days, 24 h of grace after the leak's end; bursts: 24 h and 2 h): an alert explains a
fault on its subject when it falls between the fault's start and its end plus the grace; a fault
is found when explained within the delay; faults too close to the run's end are censored. A
fault is judged only when its subject has a meter whose data is known for at least half of the
fault's first delay (a meter that fell silent cannot be scored) and, for rules with a warm-up,
when it starts after it; an alert explaining no fault of its kind, judged or not, is a false
alarm. An alert's time is the end of the step that raised it: time in the data,
before any transmission delay (household meters send their hours once a day).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol

import numpy as np
import typer
from pydantic import SecretStr

from analytics.scoring import Detected, Injected, Score, score
from analytics.water.axis import HourlyAxis
from analytics.water.building import (
    AlwaysOnParams,
    NightFlowParams,
    building_continuous_flow,
    detect_night_flow,
)
from analytics.water.burst import SECTOR_BURST_PARAMS, detect_bursts
from analytics.water.household import detect_continuous_flow
from analytics.water.loading import (
    BUILDING_HOURLY_RULES,
    WaterMeters,
    register_matrix,
    sector_inflow,
    sector_matrix,
    water_meters,
)
from analytics.water.meter_hours import MeterHours
from analytics.water.sector_evaluation import (
    InjectedLeak,
    SectorEvaluation,
    SectorInflow,
    evaluate_sector_detector,
)
from api.services import Services
from core.clock import ManualClock
from core.config import Settings, StateSettings, StoreSettings, load_settings
from core.state.registry_io import import_registry
from core.timeseries import TimeSeriesStore
from ingest.pipeline import Pipeline
from simulator.territory_file import SAMPLE_TERRITORY, load_territory, write_registry
from vigie.replay_file import FileOutcome, ingest_file
from vigie.wiring import build_pipeline, build_services

evaluate_app = typer.Typer(
    help="Score detectors against the ground truth of a simulated run.", no_args_is_help=True
)

CUSTOMER_DELAY = timedelta(days=7)
CUSTOMER_GRACE = timedelta(hours=24)
BURST_DELAY = timedelta(hours=24)
BURST_GRACE = timedelta(hours=2)
SIZES: tuple[tuple[str, float, float], ...] = (
    ("5-10 L/h", 0.0, 10.0),
    ("10-20 L/h", 10.0, 20.0),
    (">= 20 L/h", 20.0, float("inf")),
)


@dataclass(frozen=True)
class Fault:
    kind: str
    subject: str
    start: datetime
    end: datetime | None
    magnitude: float
    details: dict[str, Any]


@dataclass(frozen=True)
class Run:
    start: datetime
    end: datetime
    seed: int | None
    territory: str | None
    faults: list[Fault]

    def of(self, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind]


@dataclass
class Row:
    """One line of the table: a detector against one kind (or size) of fault."""

    detector: str
    faults: str
    injected: int
    found: int
    recall: float | None
    median_delay_h: float | None
    detections: int | None = None
    false_alarms: int | None = None
    precision: float | None = None
    false_alarms_per_sector_month: float | None = None
    censored: int = 0
    target: str = ""
    result: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


class _Event(Protocol):
    @property
    def meter(self) -> int: ...
    @property
    def alert(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int | None: ...


def read_truth(path: Path) -> Run:
    doc = json.loads(path.read_text(encoding="utf-8"))
    run = doc["run"]
    start = datetime.fromisoformat(run["start"])
    faults = [
        Fault(
            f["kind"],
            f["subject"],
            _when(f["start"]),
            _when(f["end"]) if f["end"] else None,
            float(f["magnitude"] or 0.0),
            dict(f.get("details") or {}),
        )
        for f in doc["faults"]
    ]
    return Run(
        start, start + timedelta(days=run["days"]), run.get("seed"), run.get("territory"), faults
    )


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _alerts(subjects: Sequence[str], axis: HourlyAxis, events: Sequence[_Event]) -> list[Detected]:
    """Detections with times: an alert at the end of the step that raised it."""
    t = axis.utc.astype("datetime64[s]").astype(np.int64)
    step = int(t[1] - t[0]) if t.size > 1 else 3600

    def at(col: int) -> datetime:
        return datetime.fromtimestamp(int(t[0]) + col * step, UTC)

    return [
        Detected(
            subjects[e.meter],
            at(e.alert + 1),
            at(e.start),
            None if e.end is None else at(e.end),
        )
        for e in events
    ]


def _observed(
    faults: Sequence[Fault], subjects: Sequence[str], mh: MeterHours, run: Run, span: timedelta
) -> tuple[list[Fault], dict[str, int]]:
    """Faults a detector could see: their subject has a meter (row of ``mh``, named by
    ``subjects``) whose data is known for at least half of the fault's first ``span``."""
    rows: dict[str, list[int]] = {}
    for r, subject in enumerate(subjects):
        rows.setdefault(subject, []).append(r)
    t = mh.axis.utc.astype("datetime64[s]").astype(np.int64)
    known = np.isfinite(mh.volume_l)
    seen: list[Fault] = []
    for f in faults:
        if f.subject not in rows:
            continue
        stop = min(f.end or run.end, f.start + span, run.end)
        a, b = np.searchsorted(t, [f.start.timestamp(), stop.timestamp()])
        if b > a and known[rows[f.subject], a:b].any(axis=0).mean() >= 0.5:
            seen.append(f)
    metered = sum(f.subject in rows for f in faults)
    return seen, {"no_meter": len(faults) - metered, "no_data": metered - len(seen)}


def _injected(faults: Sequence[Fault]) -> list[Injected]:
    return [Injected(f.subject, f.start, f.end, f.magnitude) for f in faults]


@dataclass(frozen=True)
class _Judge:
    """:func:`analytics.scoring.score` with one run's end, delay and grace. Recall is over the
    faults judged; an alert is a false alarm only when it explains none of ``every`` fault of
    the kind (a leak in a warm-up or on a meter short of data is not judged, yet real)."""

    run_end: datetime
    max_delay: timedelta
    grace: timedelta
    every: Sequence[Fault]

    def __call__(self, judged: Sequence[Fault], detected: Sequence[Detected]) -> Score:
        found = self._score(judged, detected)
        return replace(found, false_alarms=self._score(self.every, detected).false_alarms)

    def _score(self, faults: Sequence[Fault], detected: Sequence[Detected]) -> Score:
        return score(
            _injected(faults), detected, self.run_end, max_delay=self.max_delay, grace=self.grace
        )

    def false_alarms(self, detected: Sequence[Detected]) -> list[str]:
        """``subject@alert`` of each detection that explains no fault (for the JSON report)."""
        return [
            f"{d.subject}@{d.alert:%Y-%m-%dT%H:%MZ}"
            for d in detected
            if self._score(self.every, [d]).false_alarms
        ]


def _row(detector: str, faults: str, s: Score, **extra: Any) -> Row:
    return Row(
        detector,
        faults,
        injected=s.injected,
        found=s.found,
        recall=s.recall,
        median_delay_h=s.median_delay_h,
        detections=s.detections,
        false_alarms=s.false_alarms,
        precision=s.precision,
        censored=s.censored,
        **extra,
    )


def _verdict(injected: int, ok: bool) -> str:
    return "n/a" if injected == 0 else "PASS" if ok else "MISS"


def household_rows(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Continuous flow on household meters: the ≥ 10 L/h target, then recall by leak size."""
    subjects = meters.households
    if not subjects:
        return []
    mh = register_matrix(store, subjects, run.start, run.end)
    ax = mh.axis
    events = detect_continuous_flow(mh.volume_l, ax.local_hour, ax.local_date)
    detected = _alerts(subjects, ax, events)
    leaks, unseen = _observed(run.of("household_leak"), subjects, mh, run, CUSTOMER_DELAY)
    judge = _Judge(run.end, CUSTOMER_DELAY, CUSTOMER_GRACE, run.of("household_leak"))
    every = judge(leaks, detected)
    big = judge([f for f in leaks if f.magnitude >= 10.0], detected)
    ok = (
        (big.recall or 0.0) >= 0.9
        and (every.precision or 0.0) >= 0.9
        and big.median_delay_h is not None
        and big.median_delay_h <= 48.0
    )
    head = Row(
        "household continuous flow",
        "household_leak >= 10 L/h",
        injected=big.injected,
        found=big.found,
        recall=big.recall,
        median_delay_h=big.median_delay_h,
        detections=every.detections,
        false_alarms=every.false_alarms,  # precision and false alarms: leaks of every size
        precision=every.precision,
        censored=big.censored,
        target="recall>=0.9 precision>=0.9 median<=48h",
        result=_verdict(big.injected, ok),
        notes={
            "meters": len(subjects),
            "unknown_hours_share": round(float(np.isnan(mh.volume_l).mean()), 4),
            **unseen,
            "false_alarms": judge.false_alarms(detected),
        },
    )
    rows = [head, _row("household continuous flow", "household_leak, every size", every)]
    for label, lo, hi in SIZES:
        s = judge([f for f in leaks if lo <= f.magnitude < hi], detected)
        rows.append(
            Row(
                "  by size",
                f"household_leak {label}",
                s.injected,
                s.found,
                s.recall,
                s.median_delay_h,
                censored=s.censored,
            )
        )
    return rows


def building_rows(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Continuous flow and night flow on building meters against ``building_leak``."""
    devices = list(meters.buildings)
    if not devices:
        return []
    subjects = [meters.buildings[d] for d in devices]
    mh = register_matrix(store, devices, run.start, run.end, rules=BUILDING_HOURLY_RULES)
    ax = mh.axis
    declared = [meters.continuous_use.get(d) for d in devices]
    continuous = building_continuous_flow(mh.volume_l, ax, declared)
    flow = _alerts(subjects, ax, continuous.alerts)
    nights = _alerts(subjects, ax, detect_night_flow(mh.volume_l, ax))
    leaks, unseen = _observed(run.of("building_leak"), subjects, mh, run, CUSTOMER_DELAY)
    judge = _Judge(run.end, CUSTOMER_DELAY, CUSTOMER_GRACE, run.of("building_leak"))
    # A leak in the first nights is unjudged by either rule: no baseline, no reference yet.
    reference = run.start + timedelta(days=AlwaysOnParams().min_reference_nights + 1)
    warmup = run.start + timedelta(days=NightFlowParams().min_baseline_nights + 1)
    early = [f for f in leaks if f.start < warmup]
    return [
        _row(
            "building continuous flow",
            "building_leak",
            judge([f for f in leaks if f.start >= reference], flow),
            notes={
                "meters": len(devices),
                **unseen,
                "in_warmup": sum(f.start < reference for f in leaks),
                "always_on": sorted({subjects[e.meter] for e in continuous.always_on}),
                "unjudged": sorted({subjects[e.meter] for e in continuous.unjudged}),
                "unknown_hours_share": round(float(np.isnan(mh.volume_l).mean()), 4),
                "false_alarms": judge.false_alarms(flow),
            },
        ),
        _row(
            "building night flow",
            "building_leak",
            judge([f for f in leaks if f.start >= warmup], nights),
            notes={"in_warmup": len(early), "false_alarms": judge.false_alarms(nights)},
        ),
        _row("building, either detector", "building_leak", judge(leaks, flow + nights)),
    ]


def sector_rows(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Night-flow steps and bursts on each sector's net inflow."""
    sectors = {c: m for c, m in meters.sectors.items() if m.inflow}
    if not sectors:
        return []
    codes = list(sectors)
    inflows: list[SectorInflow] = []
    for code, m in sectors.items():
        times, flow = sector_inflow(store, m, run.start, run.end)
        if times.size > 1:  # a sector without data has no night to judge
            inflows.append(SectorInflow(code, times, flow))
    leaks = [
        InjectedLeak(f.subject, f.start, f.end, f.magnitude, str(f.details.get("onset", "abrupt")))
        for f in run.of("sector_leak")
    ] + [InjectedLeak(f.subject, f.start, f.end, f.magnitude, "burst") for f in run.of("burst")]
    ev = evaluate_sector_detector(inflows, [lk for lk in leaks if lk.sector in sectors])
    rows = [_sector_row(ev, kind) for kind in ("all", "abrupt", "incipient")]
    mh = sector_matrix(store, list(sectors.values()), run.start, run.end)
    bursts = _alerts(codes, mh.axis, detect_bursts(mh.volume_l, mh.axis, SECTOR_BURST_PARAMS))
    warmup = run.start + timedelta(weeks=SECTOR_BURST_PARAMS.min_history_weeks)
    judge = _Judge(run.end, BURST_DELAY, BURST_GRACE, run.of("burst"))
    mine, unseen = _observed(run.of("burst"), codes, mh, run, BURST_DELAY)
    rows.append(
        _row(
            "sector bursts",
            "burst",
            judge([f for f in mine if f.start >= warmup], bursts),
            notes={
                "in_warmup": sum(f.start < warmup for f in mine),
                **unseen,
                "false_alarms": judge.false_alarms(bursts),
            },
        )
    )
    return rows


def _sector_row(ev: SectorEvaluation, kind: str) -> Row:
    k = ev.by_kind[kind]
    if kind != "all":
        return Row(
            "  by onset",
            f"sector_leak {kind}",
            k.eligible,
            k.found_within,
            k.recall,
            k.median_delay_h,
        )
    wrong = ev.false_alarms + ev.burst_alarms
    ok = k.recall is not None and k.recall >= 0.8 and ev.false_alarms_per_sector_month <= 1.0
    return Row(
        "sector night-flow steps",
        "sector_leak >= 2 % of inflow",
        injected=k.eligible,
        found=k.found_within,
        recall=k.recall,
        median_delay_h=k.median_delay_h,
        detections=ev.events,
        false_alarms=ev.false_alarms,
        precision=(ev.events - wrong) / ev.events if ev.events else None,
        false_alarms_per_sector_month=ev.false_alarms_per_sector_month,
        target="recall>=0.8 in 7 d, <=1 FA/sector-month",
        result=_verdict(k.eligible, ok),
        notes={
            "burst_alarms": ev.burst_alarms,
            "duplicates": ev.duplicates,
            "sector_months": round(ev.sector_months, 2),
            "found_any": k.found_any,
            "median_onset_error_h": k.median_onset_error_h,
            "median_flow_error_pct": k.median_flow_error_pct,
        },
    )


def evaluate_water(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Every water detector scored over the run (see the module docstring)."""
    return [
        *household_rows(store, meters, run),
        *building_rows(store, meters, run),
        *sector_rows(store, meters, run),
    ]


def _fmt(x: float | int | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def render(rows: Sequence[Row]) -> str:
    """The table: one line per row, the target and its verdict last."""
    head = (
        f"{'detector':<27} {'faults':<29} {'found/inj':>9} {'recall':>6} {'precision':>9} "
        f"{'alerts':>6} {'false al.':>9} {'FA/s-m':>6} {'median h':>8}  target"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (
            f"{r.detector:<27} {r.faults:<29} {f'{r.found}/{r.injected}':>9} "
            f"{_fmt(r.recall, '.2f'):>6} {_fmt(r.precision, '.2f'):>9} "
            f"{_fmt(r.detections, 'd'):>6} {_fmt(r.false_alarms, 'd'):>9} "
            f"{_fmt(r.false_alarms_per_sector_month, '.2f'):>6} "
            f"{_fmt(r.median_delay_h, '.1f'):>8}  {r.target} {r.result}"
        )
        lines.append(line.rstrip())
    notes = [(r, r.notes) for r in rows if r.notes]
    if notes:
        lines.append("notes:")
    for r, n in notes:
        text = ", ".join(f"{k} {_note(v)}" for k, v in n.items())
        lines.append(f"  {r.detector.strip()}: {text}")
    return "\n".join(lines)


def _note(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value)) if value else "none"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@contextmanager
def replay_services(
    settings: Settings, replay: Path, territory: Path
) -> Iterator[tuple[Services, FileOutcome]]:
    """Temporary SQLite stores holding the territory's registry and the replay, ingested."""
    with tempfile.TemporaryDirectory(prefix="vigie-evaluate-") as tmp:
        root = Path(tmp)
        local = settings.model_copy(
            update={
                "store": StoreSettings(backend="sqlite", sqlite_path=root / "timeseries.sqlite"),
                "state": StateSettings(url=SecretStr(f"sqlite:///{root / 'state.sqlite'}")),
                "ingest": settings.ingest.model_copy(update={"spool_path": root / "spool.sqlite"}),
            }
        )
        services = build_services(local)
        try:
            registry = write_registry(load_territory(territory), root / "registry.yaml")
            import_registry(services.state, registry)

            def make(clock: ManualClock) -> Pipeline:
                return build_pipeline(local, Services(services.store, services.state, clock))

            yield services, ingest_file(replay, make)
        finally:
            services.store.close()
            services.state.dispose()


@contextmanager
def _stores(
    settings: Settings, replay: Path | None, territory: Path, report: dict[str, Any]
) -> Iterator[Services]:
    if replay is None:
        services = build_services(settings)
        try:
            yield services
        finally:
            services.store.close()
            services.state.dispose()
        return
    began = time.perf_counter()
    with replay_services(settings, replay, territory) as (services, outcome):
        seconds = round(time.perf_counter() - began, 1)
        letters = ", ".join(f"{k} {n}" for k, n in sorted(outcome.dead_letters.items()))
        typer.echo(
            f"ingest: {outcome.messages} messages, {outcome.stored} readings stored, "
            f"{outcome.duplicates} duplicates, dead letters: {letters or 'none'} ({seconds} s)"
        )
        report["ingest"] = {**asdict(outcome), "seconds": seconds}
        yield services


@evaluate_app.command("water")
def water(
    truth: Annotated[
        Path,
        typer.Option(help="Ground-truth file of the run (vigie simulate --truth)", exists=True),
    ],
    replay: Annotated[
        Path | None,
        typer.Option(help="Ingest this replay file into temporary stores first", exists=True),
    ] = None,
    territory: Annotated[
        Path, typer.Option(help="Territory file whose registry the replay needs", exists=True)
    ] = SAMPLE_TERRITORY,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="vigie.toml; also VIGIE_* variables")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the numbers as JSON")
    ] = None,
) -> None:
    """Score the water detectors against a simulated run: detected/injected, false alarms and
    median time to detect per detector, with the issue's targets."""
    run = read_truth(truth)
    settings = load_settings(config)
    report: dict[str, Any] = {
        "run": {
            "start": run.start.isoformat(),
            "end": run.end.isoformat(),
            "seed": run.seed,
            "territory": run.territory,
        }
    }
    with _stores(settings, replay, territory, report) as services:
        began = time.perf_counter()
        rows = evaluate_water(services.store, water_meters(services.state), run)
        report["evaluate_s"] = round(time.perf_counter() - began, 1)
    typer.echo(f"run: {run.start:%Y-%m-%d} + {(run.end - run.start).days} days, seed {run.seed}")
    typer.echo(render(rows))
    typer.echo(f"detectors: {report['evaluate_s']} s")
    report["rows"] = [asdict(r) for r in rows]
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"numbers → {json_out}")

"""`vigie analytics`: the detectors on files exported from any system, and the periodic runner."""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from analytics.detectors.base import Window
from analytics.detectors.registry import DETECTORS
from analytics.parking.stale_csv import parking_stale_csv
from analytics.water.household_csv import household_leaks_csv
from analytics.water.sector_csv import sector_leaks_csv
from core.config import DEFAULT_ZONE, load_settings
from vigie import logs
from vigie.baseline_cli import baseline_fit
from vigie.energy_anomalies_cli import energy_anomalies
from vigie.wiring import build_runner, build_services

analytics_app = typer.Typer(
    help="Run the analytics: leak detectors on CSV exports, or the periodic runner.",
    no_args_is_help=True,
)

TzOption = Annotated[
    str, typer.Option("--tz", help="Zone of naive timestamps and of local nights (IANA name)")
]


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


@analytics_app.command("sector-leaks")
def sector_leaks(
    inflow: Annotated[
        Path,
        typer.Option(
            help="CSV `timestamp,flow_m3h` (or `timestamp_utc`; ISO 8601, hourly or finer)",
            dir_okay=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Events CSV to write: `start,detected_at,end,flow_m3h_estimate,volume_m3`"
        ),
    ],
    tz: TzOption = DEFAULT_ZONE,
) -> None:
    """Network leaks of one district from its inflow: steps of the day's mean and night flow.

    `start` is the estimated onset, `detected_at` when the rule, reading the series in time
    order, first knew (the last sample it had read): measure delays from it."""
    try:
        events = sector_leaks_csv(inflow, out, tz)
    except (OSError, ValueError) as exc:
        raise _fail(f"sector-leaks: {exc}") from None
    typer.echo(f"{len(events)} leak(s) → {out}", err=True)


@analytics_app.command("household-leaks")
def household_leaks(
    readings: Annotated[
        Path,
        typer.Option(
            help="CSV `household_id,timestamp_local,meter_reading_l` (register, litres)",
            dir_okay=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Events CSV to write: `household_id,start,detected_at,end,flow_lph_estimate`"
        ),
    ],
    tz: TzOption = DEFAULT_ZONE,
) -> None:
    """Continuous-flow leaks of households from their meter register readings.

    `start` is the onset, `detected_at` the reading that completed the hour that raised the
    alert: measure delays from it."""
    try:
        events = household_leaks_csv(readings, out, tz)
    except (OSError, ValueError) as exc:
        raise _fail(f"household-leaks: {exc}") from None
    typer.echo(f"{len(events)} leak(s) → {out}", err=True)


@analytics_app.command("parking-stale")
def parking_stale(
    occupancy: Annotated[
        Path,
        typer.Option(
            help="CSV `area_id,timestamp,free_spaces,total_spaces` (ISO 8601, any order)",
            dir_okay=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="CSV to write: `area_id,stale`, one row per area")],
    tz: TzOption = DEFAULT_ZONE,
    holidays: Annotated[
        str, typer.Option(help="Country whose public holidays count as Sundays ('' for none)")
    ] = "FR",
) -> None:
    """Carpool-area feeds frozen or stale at the end of the file: `stale` 1 when an area's free
    count has not changed, or not come, for longer than its own past makes plausible at that
    hour of the week (nights and closed weekends are learned, not flagged)."""
    try:
        verdicts = parking_stale_csv(occupancy, out, tz, holidays=holidays or None)
    except (OSError, ValueError) as exc:
        raise _fail(f"parking-stale: {exc}") from None
    flagged = sum(v.judgement.suspect for v in verdicts)
    typer.echo(f"{flagged} of {len(verdicts)} area(s) stale → {out}", err=True)


@analytics_app.command("run")
def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="vigie.toml; settings also from VIGIE_* variables"),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, print what it did, exit")] = False,
) -> None:
    """Run the detectors, the alert engine and the notifications every `analytics.every_s`."""
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    services = build_services(settings)
    try:
        runner = build_runner(settings, services)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if once:
        try:
            report = runner.tick()
        finally:
            runner.leave()
        out: dict[str, object] = {
            "changes": dict(report.changes),
            "scanned": report.counts,
            "failed": report.failed,
            "dispatch": asdict(report.dispatch) if report.dispatch else None,
        }
        if report.tenants is not None:
            out["tenants"] = report.tenants  # partitioned: the ones this runner judged
        typer.echo(json.dumps(out, default=str, indent=2))
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner.run(stop)


@analytics_app.command("detectors")
def detectors(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
) -> None:
    """Every detector: the alerts it raises, what it watches and reads, its parameters (default
    and unit; override them in [analytics.detectors.<name>]) and the evidence it gives."""
    catalogue: list[dict[str, Any]] = [
        {
            "name": d.spec.name,
            "description": d.spec.description,
            "alert_types": [
                {"code": t.code, "title_fr": t.title_fr, "severity": t.severity.value}
                for t in d.spec.alert_types
            ],
            "watches": d.spec.subjects.name,
            "reads": d.spec.reads.name,
            "window": _window(d.spec.window),
            "parameters": [
                {"name": p.name, "default": p.default, "unit": p.unit} for p in d.spec.parameters()
            ],
            "evidence": list(d.spec.evidence),
        }
        for d in DETECTORS.values()
    ]
    if as_json:
        typer.echo(json.dumps(catalogue, indent=2, ensure_ascii=False))
        return
    for d in catalogue:
        types = ", ".join(f"{t['code']} ({t['severity']})" for t in d["alert_types"])
        typer.echo(f"{d['name']}: {d['description']}")
        typer.echo(f"  alerts:     {types}")
        typer.echo(f"  watches:    {d['watches']}, reads {d['reads']} ({d['window']})")
        typer.echo(f"  evidence:   {', '.join(d['evidence'])}")
        for p in d["parameters"]:
            typer.echo(f"  {p['name']:<34} {p['default']!s:>10}  {p['unit']}")


def _window(window: Window) -> str:
    """``lookback``, ``since_last``, or ``lookback 400 d`` for a detector's own lookback."""
    if window.lookback is None:
        return window.kind.value
    return f"{window.kind.value} {window.lookback.total_seconds() / 86_400:g} d"


analytics_app.command("baseline-fit")(baseline_fit)
analytics_app.command("energy-anomalies")(energy_anomalies)

"""``vigie simulate``: a virtual territory's frames to a replay file or to the MQTT broker."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, get_args

import typer

from core.config import load_settings
from simulator.engine import FORMATS, Engine, EngineConfig, Format, run_physics
from simulator.output import Progress, Tally, publish, write_replay, write_truth
from simulator.stats import figures, report
from simulator.territory_file import (
    SAMPLE_TERRITORY,
    TerritoryFileError,
    load_territory,
    write_registry,
)


def _month_start() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def simulate(
    territory: Annotated[
        Path, typer.Option(help="Territory file (YAML)", exists=True, dir_okay=False)
    ] = SAMPLE_TERRITORY,
    days: Annotated[int, typer.Option(min=1, max=3660, help="Days to simulate")] = 7,
    start: Annotated[
        datetime | None,
        typer.Option(help="First instant, UTC (default: the start of the current month)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same output")] = 1,
    format: Annotated[
        str, typer.Option("--format", help=f"Envelopes: {' | '.join(FORMATS)}")
    ] = "chirpstack-json",
    out: Annotated[Path | None, typer.Option(help="Write a replay file (JSONL)")] = None,
    publish_: Annotated[
        bool, typer.Option("--publish", help="Publish to the configured MQTT broker")
    ] = False,
    speed: Annotated[
        float, typer.Option(min=0, help="Simulated seconds per wall second (0: at once)")
    ] = 0.0,
    truth: Annotated[Path | None, typer.Option(help="Write the ground-truth file (JSON)")] = None,
    export_registry: Annotated[
        Path | None, typer.Option(help="Write the registry file `vigie registry import` takes")
    ] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Print sanity figures")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Only these device roles (repeatable), e.g. --only water_meter --only "
            "sector_inflow; physics, faults and ground truth still cover the whole territory",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"
        ),
    ] = None,
) -> None:
    """Simulate a territory's sensors: real codec payloads in real network-server envelopes."""
    if format not in FORMATS:
        raise typer.BadParameter(
            f"{format!r}: choose one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if out is not None and publish_:
        raise typer.BadParameter("give --out or --publish, not both", param_hint="--out")
    try:
        land = load_territory(territory)
    except TerritoryFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    first = (
        start.replace(tzinfo=UTC) if start and start.tzinfo is None else start
    ) or _month_start()
    if export_registry is not None:
        write_registry(land, export_registry)
        typer.echo(f"registry: {len(land.devices())} devices → {export_registry}", err=True)
    wants_stream = out is not None or publish_ or truth is not None
    if not (wants_stream or stats):
        return
    began = time.perf_counter()
    run = run_physics(land, first, days, seed)
    typer.echo(f"physics: {days} days in {time.perf_counter() - began:.1f} s", err=True)
    if stats:
        # Annual figures from a whole simulated year (physics is cheap: seconds a year), so a
        # January run does not report winter consumption as if it lasted twelve months.
        year = first.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        annual = run if (first, days) == (year, 365) else run_physics(land, year, 365, seed)
        typer.echo(report(figures(land, annual, year, 365, seed)))
    if not wants_stream:
        return
    fmt: Format = format  # type: ignore[assignment]
    assert fmt in get_args(Format)
    truths = run.truths
    if only:
        roles = set(only)
        unknown = roles - {d.role for d in land.devices()}
        if unknown:
            raise typer.BadParameter(f"no device has role {sorted(unknown)}", param_hint="--only")
        keep = {d.dev_eui for d in land.devices() if d.role in roles}
        truths = {eui: t for eui, t in truths.items() if eui in keep}
    engine = Engine(land, truths, first, days, seed, EngineConfig(format=fmt))
    tally = Tally()
    stream = tally.track(engine)
    progress = Progress(first, first + timedelta(days=days)) if days > 1 else None
    if out is not None:
        n = write_replay(stream, out, progress)
        typer.echo(f"replay: {n} messages → {out}", err=True)
    elif publish_:
        settings = load_settings(config)
        mqtt = settings.mqtt
        n = publish(
            stream,
            mqtt.host,
            mqtt.port,
            speed=speed,
            username=mqtt.username,
            password=mqtt.password.get_secret_value() if mqtt.password else None,
            progress=progress,
        )
        typer.echo(f"published: {n} messages to {mqtt.host}:{mqtt.port}", err=True)
    else:
        for _ in stream:
            pass
    if truth is not None:
        run_doc = {
            "territory": land.name,
            "start": first.isoformat(),
            "days": days,
            "seed": seed,
            "format": format,
        }
        write_truth(truth, run=run_doc, faults=[*run.faults, *engine.faults], tally=tally)
        typer.echo(f"ground truth → {truth}", err=True)
    typer.echo(f"done in {time.perf_counter() - began:.1f} s", err=True)

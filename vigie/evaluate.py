"""``vigie evaluate water``: the water detectors scored against a simulated run's ground truth.

The protocol is in :mod:`analytics.evaluation.water_truth`; this module ingests a replay into
temporary stores when asked, runs it and prints the table.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import SecretStr

from analytics.water.loading import water_meters
from api.services import Services
from core.clock import ManualClock
from core.config import Settings, StateSettings, StoreSettings, load_settings
from core.state.registry_io import import_registry
from ingest.pipeline import Pipeline
from simulator.territory_file import SAMPLE_TERRITORY, load_territory, write_registry
from vigie.evaluate_energy import energy
from vigie.replay_file import FileOutcome, arrival_times, ingest_file
from vigie.wiring import build_pipeline, build_services

if TYPE_CHECKING:  # the harness is imported when a command runs, not by every process
    from analytics.evaluation.water_truth import Row

evaluate_app = typer.Typer(
    help="Score detectors against the ground truth of a simulated run.", no_args_is_help=True
)
evaluate_app.command("energy")(energy)


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
    from analytics.evaluation.water_truth import evaluate_water, read_truth

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
        arrivals = None if replay is None else arrival_times(replay)
        rows = evaluate_water(services.store, water_meters(services.state), run, arrivals)
        report["evaluate_s"] = round(time.perf_counter() - began, 1)
    typer.echo(f"run: {run.start:%Y-%m-%d} + {(run.end - run.start).days} days, seed {run.seed}")
    typer.echo(render(rows))
    typer.echo(f"detectors: {report['evaluate_s']} s")
    report["rows"] = [asdict(r) for r in rows]
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"numbers → {json_out}")

"""`vigie store`: keep the rollups up to date and purge what is past its retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from core.clock import SystemClock
from core.config import load_settings
from core.quantities import QUANTITIES
from core.retention import Granularity, counted
from core.stores.influx import InfluxStore
from core.timeseries import RollupStore, StoreError, StoreUnavailable
from vigie import logs, operator
from vigie.wiring import build_state, build_store

store_app = typer.Typer(help="Rollups and retention of the time-series store.")
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="vigie.toml")]


def _store(config: Path | None) -> RollupStore:
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    store = build_store(settings.store)
    if not settings.store.rollups.enabled or not isinstance(store, RollupStore):
        typer.echo("rollups are disabled (store.rollups.enabled = false)", err=True)
        raise typer.Exit(1)
    return store


@store_app.command("setup")
def setup(config: ConfigOption = None) -> None:
    """InfluxDB: create or alter the rollup retention policy (and the raw one's duration)."""
    settings = load_settings(config)
    store = _store(config)
    if isinstance(store, InfluxStore):
        influx = settings.store.influxdb
        store.ensure_retention(influx.raw_duration, influx.rollup_duration)
    typer.echo("retention policies are in place")


@store_app.command("rollup")
def rollup(config: ConfigOption = None) -> None:
    """Recompute the rollups of every hour written since they were last computed."""
    store = _store(config)
    try:
        typer.echo(f"{store.refresh_rollups()} hour(s) of rollups recomputed")
    except (StoreUnavailable, StoreError) as exc:
        typer.echo(f"rollups not refreshed: {exc}", err=True)
        raise typer.Exit(1) from None


@store_app.command("retention")
def retention(config: ConfigOption = None) -> None:
    """How long each quantity is kept at each granularity, and the purposes that ask for it."""
    settings = load_settings(config)
    plan = settings.store.retention_plan()
    named = settings.store.retention.named()
    if not plan:
        typer.echo("every quantity is kept forever (no purpose, no raw retention)")
    for q, keep in sorted(plan.items()):
        spans = " ".join(f"{g}={_days(keep.of(g))}" for g in Granularity)
        why = ", ".join(named.get(q, [])) or "[store.rollups] raw retention"
        typer.echo(f"{q}: {spans}  ({why})")
    typer.echo("other quantities: raw readings and rollups kept forever")
    if settings.store.backend == "influxdb":
        # InfluxQL deletes whole points: a measurement goes by its longest-kept quantity.
        for domain, quantities in _domains().items():
            held = [q for q in quantities if q not in plan]
            if held and len(held) < len(quantities):
                typer.echo(f"InfluxDB: {domain} kept forever while {', '.join(held)} is")


def _domains() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for q, spec in QUANTITIES.items():
        out.setdefault(spec.domain.value, []).append(q)
    return out


def _days(span: timedelta | None) -> str:
    return "forever" if span is None else f"{span.days}d"


@store_app.command("purge")
def purge(config: ConfigOption = None) -> None:
    """Delete raw readings and rollups past their retention (per purpose, or the per-quantity
    raw retention), raw readings only once their rollups cover them."""
    settings = load_settings(config)
    plan = settings.store.retention_plan()
    if not plan:
        typer.echo("no retention configured: nothing to purge")
        return
    store = _store(config)
    try:
        purged = store.purge(plan, SystemClock().now())
    except (StoreUnavailable, StoreError) as exc:
        typer.echo(f"purge failed: {exc}", err=True)
        raise typer.Exit(1) from None
    if any(any(counts.values()) for counts in purged.values()):
        state = build_state(settings)
        try:
            operator.audit(state, "store purge")
        finally:
            state.dispose()
    for q, counts in sorted(purged.items()):
        typer.echo(f"{q}: {counted(counts)}")

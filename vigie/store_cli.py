"""`vigie store`: keep the rollups up to date and purge raw readings past their retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.clock import SystemClock
from core.config import load_settings
from core.stores.influx import InfluxStore
from core.timeseries import RollupStore, StoreError, StoreUnavailable
from vigie import logs
from vigie.wiring import build_store

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


@store_app.command("purge")
def purge(config: ConfigOption = None) -> None:
    """Delete raw readings past their quantity's retention, once their rollups cover them."""
    settings = load_settings(config)
    retention = settings.store.rollups.retention()
    if not retention:
        typer.echo("no raw retention configured: nothing to purge")
        return
    store = _store(config)
    try:
        purged = store.purge(retention, SystemClock().now())
    except (StoreUnavailable, StoreError) as exc:
        typer.echo(f"purge failed: {exc}", err=True)
        raise typer.Exit(1) from None
    for name, count in sorted(purged.items()):
        typer.echo(f"{name}: {count}")

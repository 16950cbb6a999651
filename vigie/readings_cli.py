"""`vigie readings`: readings from outside LoRaWAN (another system's export, a load curve)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.clock import SystemClock
from core.config import load_settings
from core.timeseries import StoreError, StoreUnavailable
from ingest.readings_file import Columns, ReadingsFileError, import_readings
from vigie import logs, operator
from vigie.wiring import build_services

readings_app = typer.Typer(help="Readings from outside LoRaWAN: import a CSV export.")


@readings_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV file", exists=True, dir_okay=False)],
    device: Annotated[
        str | None, typer.Option(help="A load curve of one meter: its DevEUI (no device column)")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option(help="The quantity of every line (no quantity column)")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="The channel of every line")] = None,
    time_column: Annotated[str, typer.Option(help="Column of the time")] = "timestamp",
    value_column: Annotated[str, typer.Option(help="Column of the value")] = "value",
    scale: Annotated[float, typer.Option(help="Multiply values by this (kW → W: 1000)")] = 1.0,
    delimiter: Annotated[str, typer.Option(help="Column separator")] = ",",
    decimal_comma: Annotated[bool, typer.Option(help="Values use a decimal comma")] = False,
    skip_lines: Annotated[int, typer.Option(help="Lines before the header (a preamble)")] = 0,
    tz: Annotated[
        str | None,
        typer.Option(help="Zone of times without an offset; default: the territory's zone"),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="vigie.toml")] = None,
) -> None:
    """Load readings of registered devices, `device,timestamp,quantity,value[,channel]` (or a
    mapped load curve); every bad line is reported with its number and nothing is written if
    one is bad. Importing the same file again changes nothing."""
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    services = build_services(settings)
    columns = Columns(
        time=time_column,
        value=value_column,
        device=None if device else "device",
        quantity=None if quantity else "quantity",
        channel=None if channel else "channel",
        fixed_device=device,
        fixed_quantity=quantity,
        fixed_channel=channel,
        scale=scale,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        skip_lines=skip_lines,
        tz=tz or settings.zone,
    )
    tags = services.state.device_tags()
    try:
        report = import_readings(file, columns, services.store, tags.get, SystemClock().now())
    except ReadingsFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except (StoreUnavailable, StoreError) as exc:
        typer.echo(f"the store did not take the readings: {exc}", err=True)
        raise typer.Exit(1) from None
    operator.audit(services.state, f"readings import {file}")
    typer.echo(str(report))

"""The ``vigie`` command line: every process and every operator task starts here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.main import create_app
from core.config import Settings, load_settings
from core.config_example import render_example
from core.state.registry_io import RegistryImportError, export_registry, import_registry
from vigie import logs
from vigie.wiring import build_services, build_state, demo_settings

SAMPLE_REGISTRY = Path(__file__).parent / "data" / "sample_registry.yaml"

app = typer.Typer(
    help="Vigie: telemetry of public buildings, water networks and carpool areas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
registry_app = typer.Typer(help="Import and export the registry (tenants, sites, devices, …).")
config_app = typer.Typer(help="Inspect the configuration.")
app.add_typer(registry_app, name="registry")
app.add_typer(config_app, name="config")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"),
]


def _settings(config: Path | None) -> Settings:
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    return settings


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its data")] = Path(
        "var/demo"
    ),
    host: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port")] = 8000,
) -> None:
    """Run everything on embedded defaults (SQLite stores, sample registry) and print the URLs."""
    logs.configure(json_lines=False)
    settings = demo_settings(directory)
    services = build_services(settings)
    report = import_registry(services.state, SAMPLE_REGISTRY)
    base = f"http://{host}:{port}"
    typer.echo(f"Vigie demo — data in {directory}/")
    typer.echo(f"  registry: {report}")
    typer.echo(f"  API docs:  {base}/docs")
    typer.echo(f"  health:    {base}/health")
    typer.echo(f"  devices:   {base}/api/v1/devices")
    typer.echo(f"  metrics:   {base}/metrics")
    typer.echo("Press Ctrl+C to stop.")
    uvicorn.run(create_app(services), host=host, port=port, log_level="warning")


@app.command()
def api(config: ConfigOption = None) -> None:
    """Serve the HTTP API (REST, docs, health, metrics) with the configured stores."""
    settings = _settings(config)
    services = build_services(settings)
    services.store.ping()
    uvicorn.run(create_app(services), host=settings.api.host, port=settings.api.port)


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the production set against external services (today: the API; ingest and analytics
    join as they are built)."""
    api(config)


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(help="CSV (one kind per file) or YAML", exists=True)],
    kind: Annotated[
        str | None, typer.Option(help="Kind of a CSV's rows; default: the file name, e.g. devices")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Import or update registry rows, all or nothing; every bad line is reported."""
    state = build_state(_settings(config))
    try:
        report = import_registry(state, file, kind=kind)
    except RegistryImportError as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} bad line(s): nothing imported", err=True)
        raise typer.Exit(1) from None
    typer.echo(str(report))


@registry_app.command("export")
def registry_export(
    file: Annotated[Path, typer.Argument(help="YAML file to write")],
    config: ConfigOption = None,
) -> None:
    """Write the whole registry as YAML that `vigie registry import` reads back."""
    export_registry(build_state(_settings(config)), file)
    typer.echo(f"registry written to {file}")


@config_app.command("example")
def config_example() -> None:
    """Print a commented vigie.toml with every setting and its default."""
    typer.echo(render_example(), nl=False)


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and print it, secrets masked."""
    typer.echo(_settings(config).model_dump_json(indent=2))


def main() -> None:
    app()

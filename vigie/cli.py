"""The ``vigie`` command line: every process and every operator task starts here."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import prometheus_client
import typer
import uvicorn

from api.display_tokens import issue_display_token
from api.main import create_app
from api.part_metrics import PartsCollector
from api.services import Services
from core.clock import ScaledClock, SystemClock
from core.config import Settings, load_settings
from core.config_example import render_example
from core.health import Fatal
from core.state.dead_letter_store import DeadLetterStore
from core.state.dead_letters import LetterStatus
from core.state.registry_io import RegistryImportError, export_registry, import_registry
from core.timeseries import StoreError, StoreUnavailable
from ingest.directory import DeviceDirectory
from ingest.inspect import inspect
from ingest.spool import SpoolLocked
from vigie import heap, logs, operator
from vigie.alerts_cli import alerts_app
from vigie.analytics_cli import analytics_app
from vigie.broker import demo_broker
from vigie.dashboards_cli import dashboards_app
from vigie.demo import (
    SAMPLE_TERRITORY,
    HistoryReplay,
    after,
    demo_hubs,
    demo_key,
    demo_settings,
    free_port,
    live_days,
    load_registry,
    report_tenant,
    run_realtime_feed,
    run_simulator,
    write_bus_network,
)
from vigie.evaluate import evaluate_app
from vigie.hub_cli import hub_app, screen_url
from vigie.keys_cli import keys_app
from vigie.readings_cli import readings_app
from vigie.replay import replay, replay_spool_path
from vigie.report_cli import report_app
from vigie.simulate import simulate
from vigie.store_cli import store_app
from vigie.supervisor import EXIT_FAILED, Supervisor
from vigie.wiring import (
    build_consumer,
    build_housekeeping,
    build_pipeline,
    build_runner,
    build_services,
    build_state,
)

SAMPLE_REGISTRY = Path(__file__).parent / "data" / "sample_registry.yaml"
log = logging.getLogger("vigie")

app = typer.Typer(
    help="Vigie: telemetry of public buildings, water networks and carpool areas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
registry_app = typer.Typer(help="Import and export the registry (tenants, sites, devices, …).")
config_app = typer.Typer(help="Inspect the configuration.")
ingest_app = typer.Typer(
    help="Consume network-server events from MQTT into the time-series store.",
    invoke_without_command=True,
)
letters_app = typer.Typer(help="Frames ingest refused: list them, replay them after a fix.")
app.add_typer(registry_app, name="registry")
app.add_typer(config_app, name="config")
app.add_typer(ingest_app, name="ingest")
app.add_typer(letters_app, name="deadletters")
app.add_typer(alerts_app, name="alerts")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(analytics_app, name="analytics")
app.add_typer(readings_app, name="readings")
app.add_typer(report_app, name="report")
app.add_typer(hub_app, name="hub")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(store_app, name="store")
app.add_typer(keys_app, name="keys")
app.command()(simulate)

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
    host: Annotated[str, typer.Option(help="Listen address of the API")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port of the API")] = 8000,
    broker_port: Annotated[
        int, typer.Option(help="Port of the embedded MQTT broker (another if taken)")
    ] = 1883,
    history_days: Annotated[
        int, typer.Option(min=1, max=365, help="Days of history replayed at start")
    ] = 30,
    speed: Annotated[
        float, typer.Option(min=1, max=3600, help="Simulated seconds per second once live")
    ] = 60,
    seed: Annotated[int, typer.Option(help="The simulation's seed (its weather and faults)")] = 1,
) -> None:
    """Run the whole chain on embedded defaults: MQTT broker, simulated territory, ingest,
    SQLite stores, analytics and API; print the URLs."""
    logs.configure(json_lines=False)
    broker = demo_broker("127.0.0.1", free_port("127.0.0.1", broker_port))
    settings = demo_settings(directory, broker.port, broker.protocol, speed)
    services = build_services(settings, ScaledClock(speed))
    services.wall_clock = SystemClock()  # parts' liveness stays in wall time
    report = load_registry(services, directory, SAMPLE_TERRITORY)
    gtfs, realtime = write_bus_network(directory, SAMPLE_TERRITORY, services.clock)
    broker.start()
    supervisor = Supervisor()
    history = HistoryReplay(
        build_pipeline(settings, services, spool_path=directory / "spool.history.sqlite"),
        services.clock,
    )
    services.parts.append(history)
    heap.settle()
    _start_workers(supervisor, settings, services, analytics_after=history.done)
    supervisor.start(
        "bus feed", lambda stop: run_realtime_feed(gtfs, realtime, services.clock, stop)
    )
    supervisor.start(
        "simulator",
        lambda stop: run_simulator(
            SAMPLE_TERRITORY,
            (broker.host, broker.port),
            history,
            services.clock,
            stop,
            history_days=history_days,
            future_days=live_days(speed),
            seed=seed,
        ),
    )
    base = f"http://{host}:{port}"
    kind = type(broker).__name__.removesuffix("Broker").lower()
    year = services.clock.now().astimezone(ZoneInfo(settings.zone)).year
    typer.echo(
        f"Vigie demo — data in {directory}/, {kind} MQTT broker on {broker.host}:{broker.port}"
    )
    typer.echo(f"  registry:  {report}")
    typer.echo(
        f"  simulator: the Caudrésis, {history_days} days of history replayed now, then live "
        f"at {speed:g}× (analytics start once the history is in)"
    )
    typer.echo(f"  API docs:  {base}/docs")
    typer.echo(f"  health:    {base}/health")
    typer.echo(f"  alerts:    {base}/api/v1/alerts?status=open")
    if (tenant := report_tenant(services)) is not None:
        typer.echo(f"  report:    {base}/api/v1/kpis/portfolio.html?tenant={tenant}&year={year}")
    typer.echo(f"  devices:   {base}/api/v1/devices")
    typer.echo(f"  metrics:   {base}/metrics")
    typer.echo(f"  API key:   {demo_key(services)}  (admin; header Authorization: Bearer …)")
    for code in demo_hubs(services):
        token = issue_display_token(services.state, code)
        typer.echo(f"  hub screen: {screen_url(base, code, token)}")
    typer.echo("Press Ctrl+C to stop.")
    try:
        _serve(services, host, port, supervisor, log_level="warning")
    finally:
        broker.stop()


def _start_workers(
    supervisor: Supervisor,
    settings: Settings,
    services: Services,
    analytics_after: threading.Event | None = None,
) -> None:
    """The ingest worker, and the analytics runner when enabled (once ``analytics_after`` is
    set, if given), as parts of the process."""
    consumer = build_consumer(settings, services)
    services.parts.append(consumer)
    supervisor.start("ingest", consumer.run)
    if not settings.analytics.enabled:
        return
    if analytics_after is None:
        runner = build_runner(settings, services)  # a configuration error stops the start here
        services.parts.append(runner)
        supervisor.start("analytics", runner.run)
        return

    def analytics(stop: threading.Event) -> None:
        late = build_runner(settings, services)  # its health counts from when it starts
        services.parts.append(late)
        late.run(stop)

    supervisor.start("analytics", after(analytics_after, analytics))


class _Server(uvicorn.Server):
    """uvicorn's server, without raising SIGINT/SIGTERM again once it has shut down: that would
    end the process before the workers have stopped (and SIGINT would exit with 130)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()  # read by the parent once this block has ended


def _serve(
    services: Services, host: str, port: int, supervisor: Supervisor, log_level: str = "info"
) -> None:
    """Serve the API until a signal or a failed worker; then stop every worker. A failed worker
    makes the process exit non-zero (its reason is already logged)."""
    server = _Server(
        uvicorn.Config(create_app(services), host=host, port=port, log_level=log_level)
    )
    supervisor.on_failure(lambda: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        supervisor.shutdown()
    if supervisor.failure is not None:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def api(config: ConfigOption = None) -> None:
    """Serve the HTTP API (REST, docs, health, metrics) with the configured stores."""
    settings = _settings(config)
    with _startup():
        services = _services(settings)
    uvicorn.run(create_app(services), host=settings.api.host, port=settings.api.port)


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the production set in one process: the ingest worker, the analytics runner, the
    daily housekeeping (rollups and purge) and the API, on one /health and one /metrics. A
    worker that fails for good stops the process."""
    settings = _settings(config)
    supervisor = Supervisor()
    with _startup():
        services = _services(settings)
        _start_workers(supervisor, settings, services)
        if (housekeeping := build_housekeeping(settings, services)) is not None:
            services.parts.append(housekeeping)
            supervisor.start("housekeeping", housekeeping.run)
    heap.settle()
    _serve(services, settings.api.host, settings.api.port, supervisor)


def _services(settings: Settings) -> Services:
    """The stores; a store that refuses us (credentials, database) stops the start, one that
    does not answer yet only warns — ingest spools until it does."""
    services = build_services(settings)
    try:
        services.store.ping()
    except StoreUnavailable as exc:
        log.warning("the time-series store does not answer yet (%s): starting anyway", exc)
    return services


@contextmanager
def _startup() -> Iterator[None]:
    """A start-up failure that is the configuration's or the environment's, not a bug: one line
    that says what to fix, and a non-zero exit (no traceback)."""
    try:
        yield
    except (Fatal, StoreError, SpoolLocked) as exc:
        log.critical("Vigie cannot start: %s", exc)
        raise typer.Exit(EXIT_FAILED) from None


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
    operator.audit(state, f"registry import {file}" + (f" --kind {kind}" if kind else ""))
    typer.echo(str(report))


@registry_app.command("export")
def registry_export(
    file: Annotated[Path, typer.Argument(help="YAML file to write")],
    config: ConfigOption = None,
) -> None:
    """Write the whole registry as YAML that `vigie registry import` reads back."""
    export_registry(build_state(_settings(config)), file)
    typer.echo(f"registry written to {file}")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@ingest_app.callback()
def ingest(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Run an ingest worker (QoS 1, persistent session, ack once durable) until SIGTERM."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(config)
    with _startup():
        services = _services(settings)
        consumer = build_consumer(settings, services)
    heap.settle()
    if settings.ingest.metrics_port:
        services.metrics.register(PartsCollector(lambda: [consumer], services.wall))
        prometheus_client.start_http_server(
            settings.ingest.metrics_port, addr=settings.api.host, registry=services.metrics
        )
    try:
        consumer.run(_stop_on_signals())
    except Fatal as exc:
        log.critical("ingest failed, Vigie stops: %s", exc)
        raise typer.Exit(EXIT_FAILED) from None


@ingest_app.command("inspect")
def ingest_inspect(
    file: Annotated[
        Path, typer.Argument(help="One MQTT payload (JSON or binary protobuf)", exists=True)
    ],
    topic: Annotated[str | None, typer.Option(help="The MQTT topic it came on")] = None,
    codec: Annotated[str | None, typer.Option(help="Decode with this codec id")] = None,
    config: ConfigOption = None,
) -> None:
    """Print, as JSON, what ingest would store from one payload, or why it would refuse it."""
    settings = _settings(config)
    state = build_state(settings)
    clock = SystemClock()
    report = inspect(
        file.read_bytes(),
        topic=topic,
        codec_id=codec,
        directory=DeviceDirectory(state, clock),
        settings=settings.ingest,
        now=clock.now(),
    )
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))


@letters_app.command("list")
def letters_list(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason, e.g. unknown_device")
    ] = None,
    status: Annotated[
        LetterStatus, typer.Option(help="open, replayed or discarded")
    ] = LetterStatus.OPEN,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    config: ConfigOption = None,
) -> None:
    """Dead letters with their reason, device and time; counts per reason first."""
    letters = DeadLetterStore(build_state(_settings(config)))
    for (why, state_), n in sorted(letters.counts().items()):
        typer.echo(f"{n:>8}  {why:<16} {state_}")
    for x in letters.list(reason=reason, status=status, limit=limit):
        when = x.event_time.isoformat() if x.event_time else "-"
        typer.echo(f"#{x.id} {x.reason} {x.device or '-'} {when} ×{x.attempts}: {x.detail}")


@letters_app.command("replay")
def letters_replay(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason, e.g. unknown_device")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 10_000,
    config: ConfigOption = None,
) -> None:
    """Run open dead letters through ingest again (after a registry or codec fix)."""
    settings = _settings(config)
    services = build_services(settings)
    spool = replay_spool_path(settings.ingest)
    with _startup():
        pipeline = build_pipeline(settings, services, spool_path=spool)
    try:
        replayed, still = replay(pipeline, services, reason, limit)
        waiting = pipeline.spool_depth
    finally:
        pipeline.close()
    if replayed:
        operator.audit(services.state, "letters replay" + (f" --reason {reason}" if reason else ""))
    typer.echo(f"{replayed} replayed, {still} still refused")
    if waiting:
        typer.echo(
            f"{waiting} readings wait in {spool}: the store is unavailable; run the replay "
            "again once it is back",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)


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

"""``vigie demo``: the whole chain in one process on embedded defaults.

An embedded MQTT broker, the simulated Caudrésis publishing ChirpStack/TTS envelopes on it (the
last ``history_days`` at once, then live, each message when its time comes), the ingest worker
(the real consumer and pipeline), SQLite stores, and the API.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.services import Services
from core.clock import Clock
from core.config import (
    AnalyticsSettings,
    HubSettings,
    IngestSettings,
    MqttSettings,
    Settings,
    StateSettings,
    StoreSettings,
)
from core.state.api_keys import Role, create_key
from core.state.models import Hub, Tenant
from core.state.registry_io import ImportReport, import_registry
from core.state.vocabulary import TenantKind
from simulator.engine import Emission, Engine, EngineConfig, run_physics
from simulator.output import publish
from simulator.territory_file import load_territory, write_registry
from simulator.transit import bus_network, realtime_feed

SAMPLE_TERRITORY = Path(__file__).parents[1] / "simulator" / "data" / "caudresis.yaml"
PARIS = ZoneInfo("Europe/Paris")


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if nothing listens there (a machine may run its own Mosquitto), else any."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


def demo_settings(directory: Path, broker_port: int, protocol: str) -> Settings:
    """Embedded defaults under one directory: nothing to install, nothing to configure."""
    return Settings(
        store=StoreSettings(backend="sqlite", sqlite_path=directory / "timeseries.sqlite"),
        state=StateSettings.model_validate({"url": f"sqlite:///{directory / 'state.sqlite'}"}),
        mqtt=MqttSettings.model_validate(
            {"port": broker_port, "client_id": "vigie-demo", "protocol": protocol}
        ),
        # Small batches: acknowledgements come quickly, which the in-process broker needs.
        ingest=IngestSettings(
            spool_path=directory / "spool.sqlite", metrics_port=None, batch_size=250, batch_ms=100
        ),
        # A pass a minute: the demo's alerts appear while someone is watching.
        analytics=AnalyticsSettings(every_s=60.0),
        # The simulated bus network of the hubs (simulator/transit.py), as files.
        hub=HubSettings(
            gtfs=str(directory / "gtfs.zip"), gtfs_realtime=str(directory / "gtfs-rt.pb")
        ),
    )


def load_registry(services: Services, directory: Path, territory_file: Path) -> ImportReport:
    registry = directory / "registry.yaml"
    write_registry(load_territory(territory_file), registry)
    return import_registry(services.state, registry)


def paced(
    emissions: Iterable[Emission], clock: Clock, stop: threading.Event, backlog_rate: float = 600
) -> Iterator[Emission]:
    """Messages whose time has come: the past at ``backlog_rate`` a second, the future on time.

    The embedded broker (amqtt) drops a QoS 1 message whose PUBACK takes more than 5 s, and ingest
    acknowledges a batch only once it is durable: pacing the history keeps it well inside that.
    """
    began = time.monotonic()
    for n, e in enumerate(emissions):
        ahead = began + n / backlog_rate - time.monotonic()
        if ahead > 0 and stop.wait(ahead):
            return
        while e.publish_time > clock.now():
            wait = (e.publish_time - clock.now()).total_seconds()
            if stop.wait(min(max(wait, 0.05), 1.0)):
                return
        if stop.is_set():
            return
        yield e


def run_simulator(
    territory_file: Path,
    broker: tuple[str, int],
    clock: Clock,
    stop: threading.Event,
    history_days: int = 2,
    seed: int = 1,
) -> None:
    """Publish from local midnight ``history_days`` ago until the end of tomorrow."""
    today = clock.now().astimezone(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=history_days)
    days = history_days + 2
    territory = load_territory(territory_file)
    physics = run_physics(territory, start, days, seed)
    engine = Engine(territory, physics.truths, start, days, seed, EngineConfig(format="mix"))
    try:
        publish(paced(engine, clock, stop), broker[0], broker[1], client_id="vigie-demo-simulator")
    except RuntimeError:
        if not stop.is_set():
            raise  # a broker lost while the demo runs is an error; at shutdown it is expected


def write_bus_network(directory: Path, territory_file: Path, clock: Clock) -> tuple[Path, Path]:
    """The simulated network's GTFS zip and the path its real-time feed is written to."""
    gtfs, realtime = directory / "gtfs.zip", directory / "gtfs-rt.pb"
    start = clock.now().astimezone(PARIS).date() - timedelta(days=7)
    gtfs.write_bytes(bus_network(load_territory(territory_file), start))
    return gtfs, realtime


def run_realtime_feed(
    gtfs: Path, realtime: Path, clock: Clock, stop: threading.Event, every_s: float = 20
) -> None:
    """Rewrite the GTFS-Realtime feed every ``every_s``, as a network's server would publish it."""
    data = gtfs.read_bytes()
    while True:
        partial = realtime.with_suffix(".partial")
        partial.write_bytes(realtime_feed(data, clock.now()))
        partial.replace(realtime)  # readers never see half a feed
        if stop.wait(every_s):
            return


def demo_hubs(services: Services) -> list[str]:
    """The codes of the registry's hubs, whose screens the demo opens."""
    with services.state.session() as session:
        return list(session.scalars(select(Hub.code).order_by(Hub.code)))


def demo_key(services: Services) -> str:
    """An administrator key of the territory's agglomeration, to try the API with."""
    with services.state.session() as session:
        tenant = session.scalars(
            select(Tenant.code).where(Tenant.kind == TenantKind.AGGLOMERATION).order_by(Tenant.id)
        ).first()
        assert tenant is not None, "the sample territory has an agglomeration"
        _, secret = create_key(session, "demo", Role.ADMIN, tenant, services.clock.now())
    return secret

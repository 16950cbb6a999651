"""``vigie demo``: the whole chain in one process on embedded defaults.

An embedded MQTT broker; the simulated Caudrésis, whose last ``history_days`` of ChirpStack/TTS
envelopes go through the ingest pipeline at once (a catch-up, as after an outage) and whose
later ones are published on the broker when their time comes, in accelerated time; the ingest
worker (the real consumer and pipeline), SQLite stores, the analytics runner once the history
is in, and the API.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain
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
from core.health import Fact, PartState, PartStatus, age_s
from core.state.api_keys import Role, create_key
from core.state.models import Hub, Tenant
from core.state.registry_io import ImportReport, import_registry
from core.state.vocabulary import TenantKind
from ingest.pipeline import Message, Pipeline
from simulator.buildings import baseload_increase
from simulator.engine import Emission, Engine, EngineConfig, run_physics
from simulator.output import publish
from simulator.territory import Territory
from simulator.territory_file import load_territory, write_registry
from simulator.transit import bus_network, realtime_feed
from simulator.truth import Fault

log = logging.getLogger("vigie")
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


def demo_settings(directory: Path, broker_port: int, protocol: str, speed: float = 1.0) -> Settings:
    """Embedded defaults under one directory: nothing to install, nothing to configure.

    The hub's freshness limits are ages in the clock's time, which runs ``speed`` times faster
    than the machine's caches and refreshes: they are scaled with it, so that a screen still
    calls stale what has been silent for two minutes of wall time, not two seconds.
    """
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
            gtfs=str(directory / "gtfs.zip"),
            gtfs_realtime=str(directory / "gtfs-rt.pb"),
            parking_max_age_s=HubSettings().parking_max_age_s * speed,
            realtime_max_age_s=HubSettings().realtime_max_age_s * speed,
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


class HistoryReplay:
    """The demo's history going through the ingest pipeline, as a part: ``/health`` says how far
    it is, and ``done`` tells the analytics runner it may start."""

    name = "history"

    def __init__(self, pipeline: Pipeline, clock: Clock, batch_size: int = 1000) -> None:
        self._pipeline = pipeline
        self._clock = clock
        self._batch_size = batch_size
        self.done = threading.Event()
        self.messages = 0
        self.reached: datetime | None = None  # the publish time of the last message handed over

    def status(self, now: datetime) -> PartStatus:
        facts: dict[str, Fact] = {"messages": self.messages}
        if self.done.is_set():
            return PartStatus(self.name, PartState.STOPPED, True, "history replayed", facts)
        behind = age_s(self._clock.now(), self.reached)
        detail = f"replaying the history: {self.messages} messages so far"
        return PartStatus(
            self.name, PartState.STARTING, True, detail, {**facts, "behind_s": behind}
        )

    def replay(self, stream: Iterator[Emission], stop: threading.Event) -> Emission | None:
        """Hand every message already due to the pipeline, in batches, and return the first one
        not yet due (None at the end of the stream or on stop); ``done`` is set on the way out.

        Through the broker, a month of a territory's messages would take minutes even on
        Mosquitto (far longer on the in-process broker); the pipeline is the worker's own.
        """
        batch: list[Message] = []
        try:
            for e in stream:
                if stop.is_set():
                    return None
                if e.publish_time > self._clock.now():
                    return e
                if e.published:
                    batch.append(Message(e.topic, e.payload))
                if len(batch) >= self._batch_size:
                    self._hand(batch, e.publish_time)
                    batch = []
            return None
        finally:
            if batch:
                self._hand(batch, self.reached)
            self._pipeline.drain()
            self.done.set()
            if not stop.is_set():
                log.info("demo: history replayed, %d messages; analytics start", self.messages)

    def _hand(self, batch: list[Message], reached: datetime | None) -> None:
        self._pipeline.handle(batch)
        self.messages += len(batch)
        self.reached = reached


def live_days(speed: float, hours: float = 6.0) -> int:
    """Days of simulated future for ``hours`` of demo at ``speed`` (at least two)."""
    return max(2, math.ceil(speed * hours / 24))


def run_simulator(
    territory_file: Path,
    broker: tuple[str, int],
    history: HistoryReplay,
    clock: Clock,
    stop: threading.Event,
    history_days: int = 30,
    future_days: int = 2,
    seed: int = 1,
) -> None:
    """From local midnight ``history_days`` ago: the past through ``history`` at once, the next
    ``future_days`` on the broker, each message on time."""
    today = clock.now().astimezone(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=history_days)
    days = history_days + 1 + future_days
    territory = load_territory(territory_file)
    physics = run_physics(territory, start, days, seed, showcase(territory, today))
    stream = iter(Engine(territory, physics.truths, start, days, seed, EngineConfig(format="mix")))
    first_live = history.replay(stream, stop)
    if first_live is None:
        return
    try:
        publish(
            paced(chain([first_live], stream), clock, stop),
            broker[0],
            broker[1],
            client_id="vigie-demo-simulator",
        )
    except RuntimeError:
        if not stop.is_set():
            raise  # a broker lost while the demo runs is an error; at shutdown it is expected


# The drawn faults depend on the seed and the season: one placed fault makes sure an energy
# alert opens on any day of the year. A town hall's baseload doubles a week before today,
# after the 7 days the unoccupied-excess detector learns a baseload on (3 days late, it rises).
SHOWCASE_BUILDING = "caudry-mairie"
SHOWCASE_DAYS_AGO = 7


def showcase(territory: Territory, today: datetime) -> list[Fault]:
    """The faults the demo places on purpose (besides those the seed draws)."""
    building = next((b for b in territory.buildings if b.code == SHOWCASE_BUILDING), None)
    if building is None:  # another territory file: only the drawn faults
        return []
    since = (today - timedelta(days=SHOWCASE_DAYS_AGO)).astimezone(UTC)  # local midnight
    return [baseload_increase(building, since, 1.0)]


def after(
    event: threading.Event, worker: Callable[[threading.Event], None]
) -> Callable[[threading.Event], None]:
    """``worker``, started once ``event`` is set (or never, if the process stops first)."""

    def run(stop: threading.Event) -> None:
        while not event.wait(0.5):
            if stop.is_set():
                return
        worker(stop)

    return run


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


def report_tenant(services: Services) -> str | None:
    """The code of the territory's agglomeration (a tenant that groups others), for its report."""
    with services.state.session() as session:
        return session.scalars(
            select(Tenant.code).where(Tenant.parent_id.is_(None)).order_by(Tenant.id)
        ).first()


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

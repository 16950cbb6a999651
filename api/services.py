"""The services an API process is built from, handed to the app factory by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from analytics.transit.feeds import TransitFeeds
from api.parking_board import ParkingBoard
from core.clock import Clock, SystemClock
from core.config import DEFAULT_ZONE, ApiSettings, HubSettings, KpiSettings
from core.health import Part
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore


@dataclass
class Services:
    """Everything a request handler may reach; tests build it from real implementations."""

    store: TimeSeriesStore
    state: StateStore
    clock: Clock = field(default_factory=SystemClock)
    # The parts' liveness is wall time even when ``clock`` runs faster (the demo): how long since
    # a part last did its work is the machine's business. None: ``clock``.
    wall_clock: Clock | None = None
    zone: str = DEFAULT_ZONE  # the territory's: local days, months, windows
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    parts: list[Part] = field(default_factory=list)  # the process's workers, for /health
    kpi: KpiSettings = field(default_factory=KpiSettings)  # emission factors, prices, normals
    hub: HubSettings = field(default_factory=HubSettings)  # hub screens: freshness, feeds
    api: ApiSettings = field(default_factory=ApiSettings)  # CORS origins, public rate limits
    transit: TransitFeeds | None = None  # the bus network's feeds, when configured
    parking: ParkingBoard | None = None  # built on the stores when not given

    @property
    def wall(self) -> Clock:
        return self.wall_clock or self.clock

    def __post_init__(self) -> None:
        if self.parking is None:
            self.parking = ParkingBoard(self.state, self.store, self.clock)

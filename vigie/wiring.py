"""Process wiring: settings in, real implementations out — the one place that picks them."""

from __future__ import annotations

from api.services import Services
from core.clock import SystemClock
from core.config import Settings, StoreSettings
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from core.stores.sqlite import SqliteStore
from core.timeseries import TimeSeriesStore
from ingest.consumer import Consumer
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.spool import Spool


def build_store(settings: StoreSettings) -> TimeSeriesStore:
    if settings.backend == "sqlite":
        return SqliteStore(settings.sqlite_path)
    influx = settings.influxdb
    return InfluxStore(
        influx.url,
        influx.database,
        username=influx.username,
        password=influx.password.get_secret_value() if influx.password else None,
        token=influx.token.get_secret_value() if influx.token else None,
        retention_policy=influx.retention_policy,
        timeout_s=influx.timeout_s,
        batch_size=influx.batch_size,
        gzip=influx.gzip,
    )


def build_state(settings: Settings) -> StateStore:
    state = StateStore(settings.state.url.get_secret_value())
    state.migrate()
    return state


def build_services(settings: Settings) -> Services:
    return Services(
        store=build_store(settings.store), state=build_state(settings), clock=SystemClock()
    )


def build_pipeline(settings: Settings, services: Services) -> Pipeline:
    ingest = settings.ingest
    return Pipeline(
        DeviceDirectory(services.state, services.clock),
        services.store,
        services.state,
        Spool(ingest.spool_path, ingest.spool_max_readings),
        services.clock,
        IngestMetrics.on(services.metrics),
        ingest,
    )


def build_consumer(settings: Settings, services: Services) -> Consumer:
    return Consumer(build_pipeline(settings, services), settings.mqtt, settings.ingest)

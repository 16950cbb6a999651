"""Process wiring: settings in, real implementations out — the one place that picks them."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from functools import partial
from pathlib import Path

from pydantic import SecretStr

from analytics.alerts.channel import Notifier
from analytics.alerts.dispatcher import Dispatcher
from analytics.alerts.engine import AlertEngine
from analytics.alerts.notifiers.mqtt import MqttNotifier, MqttNotifierConfig
from analytics.alerts.notifiers.smtp import SmtpConfig, SmtpNotifier
from analytics.alerts.notifiers.webhook import WebhookNotifier
from analytics.parking.settings import ParkingSettings
from analytics.runner import AnalyticsRunner
from analytics.transit.feeds import TransitFeeds
from analytics.watch.base import Watch
from analytics.watch.detectors import DetectorWatch
from api.parking_board import ParkingBoard
from api.services import Services
from core.clock import Clock, SystemClock
from core.config import HubSettings, Settings, StoreSettings
from core.state.checkpoints import Checkpoints
from core.state.leases import RUNNER_LENGTH, TenantLeases
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from core.stores.rollup import RollupConfig
from core.stores.sqlite import SqliteStore
from core.timeseries import RollupStore, TimeSeriesStore
from ingest.consumer import Consumer
from ingest.directory import DeviceDirectory
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.spool import Spool
from vigie.housekeeping import Housekeeping


def build_store(settings: StoreSettings) -> TimeSeriesStore:
    r = settings.rollups
    rollups = (
        RollupConfig(r.zone, timedelta(days=r.min_span_days), r.refresh_in_writes)
        if r.enabled
        else None
    )
    if settings.backend == "sqlite":
        return SqliteStore(settings.sqlite_path, rollups=rollups)
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
        rollups=rollups,
        rollup_retention_policy=influx.rollup_retention_policy,
    )


def build_housekeeping(settings: Settings, services: Services) -> Housekeeping | None:
    """The daily rollup refresh and purge of `vigie run`, when enabled and the store has
    rollups."""
    store = services.store
    if not settings.store.retention.housekeeping or not isinstance(store, RollupStore):
        return None
    if not settings.store.rollups.enabled:
        return None
    return Housekeeping(
        store,
        settings.store.retention_plan(),
        services.clock,
        at=settings.store.retention.purge_at,
        zone=settings.zone,
        wall_clock=services.wall,
    )


def build_state(settings: Settings) -> StateStore:
    state = StateStore(settings.state.url.get_secret_value())
    state.migrate()
    return state


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """The process's stores and services, on the machine's clock unless another is given."""
    clock = clock or SystemClock()
    store, state = build_store(settings.store), build_state(settings)
    return Services(
        store=store,
        state=state,
        clock=clock,
        kpi=settings.kpi,
        hub=settings.hub,
        zone=settings.zone,
        api=settings.api,
        transit=build_transit(settings.hub, clock),
        # Snapshots in a worker process, started by the API only (lazily elsewhere: never).
        parking=ParkingBoard(
            state,
            store,
            clock,
            ParkingSettings(zone=settings.hub.zone),
            worker_stores=partial(parking_stores, settings.store, settings.state.url),
        ),
    )


def parking_stores(
    store: StoreSettings, state_url: SecretStr
) -> tuple[StateStore, TimeSeriesStore]:
    """The stores of the parking board's worker process, opened there."""
    return StateStore(state_url.get_secret_value()), build_store(store)


def build_transit(hub: HubSettings, clock: Clock) -> TransitFeeds | None:
    """The bus network's feeds for the hub screens, when a GTFS feed is configured."""
    if hub.gtfs is None:
        return None
    return TransitFeeds(
        hub.gtfs,
        hub.gtfs_realtime,
        clock,
        reload_every=timedelta(hours=hub.gtfs_reload_h),
        poll_every=timedelta(seconds=hub.realtime_poll_s),
        realtime_max_age=timedelta(seconds=hub.realtime_max_age_s),
    )


def build_pipeline(
    settings: Settings, services: Services, *, spool_path: Path | None = None
) -> Pipeline:
    """The ingest pipeline on the process's stores, with the spool at ``spool_path`` (default:
    the configured one, which only one process may hold)."""
    ingest = settings.ingest
    return Pipeline(
        DeviceDirectory(services.state, services.clock),
        services.store,
        services.state,
        Spool(spool_path or ingest.spool_path, ingest.spool_max_readings),
        services.clock,
        IngestMetrics.on(services.metrics),
        ingest,
    )


def build_consumer(settings: Settings, services: Services) -> Consumer:
    return Consumer(build_pipeline(settings, services), settings.mqtt, settings.ingest)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_notifiers(settings: Settings, clock: Clock) -> dict[str, Notifier]:
    """One notifier per channel the routes use. Webhooks are always signed: a webhook route
    without a secret is a configuration error, raised here at start-up."""
    alerts = settings.alerts
    channels = {route.channel for route in alerts.routes}
    out: dict[str, Notifier] = {}
    if "email" in channels:
        smtp = alerts.smtp
        out["email"] = SmtpNotifier(
            SmtpConfig(
                host=smtp.host,
                sender=smtp.sender,
                port=smtp.port,
                username=smtp.username,
                password=_secret(smtp.password),
                starttls=smtp.starttls,
                timeout_s=smtp.timeout_s,
            ),
            clock=clock,
        )
    if "webhook" in channels:
        secret = _secret(alerts.webhook.secret)
        if not secret:
            raise ValueError("alerts: a webhook route needs [alerts.webhook] secret (HMAC key)")
        out["webhook"] = WebhookNotifier(secret, clock=clock, timeout_s=alerts.webhook.timeout_s)
    if "mqtt" in channels:
        mqtt = settings.mqtt
        out["mqtt"] = MqttNotifier(
            MqttNotifierConfig(
                host=mqtt.host,
                port=mqtt.port,
                username=mqtt.username,
                password=_secret(mqtt.password),
                protocol=mqtt.protocol,
                tls=mqtt.tls,
                ca_file=str(mqtt.ca_file) if mqtt.ca_file else None,
            )
        )
    return out


def build_detector_watch(settings: Settings, services: Services) -> DetectorWatch:
    """Every registered detector, with the settings' parameters, on the process's stores."""
    analytics = settings.analytics
    return DetectorWatch(
        services.store,
        services.state,
        lookback=timedelta(days=analytics.water_lookback_days),
        parameters=analytics.detectors,
        disabled=analytics.disabled_detectors,
        zone=settings.zone,
    )


def build_runner(settings: Settings, services: Services) -> AnalyticsRunner:
    """The analytics runner on the process's stores, with the notifiers its routes need."""
    clock = services.clock
    analytics = settings.analytics
    watches: list[Watch] = [build_detector_watch(settings, services)]
    leases = None
    if analytics.partition:
        name = analytics.runner_id or f"{socket.gethostname()}-{os.getpid()}"[:RUNNER_LENGTH]
        leases = TenantLeases(services.state, name, timedelta(seconds=analytics.lease_ttl_s))
    return AnalyticsRunner(
        watches,
        AlertEngine(services.state, clock, settings.alerts),
        Dispatcher(services.state, clock, settings.alerts, build_notifiers(settings, clock)),
        Checkpoints(services.state),
        clock,
        every_s=settings.analytics.every_s,
        wall_clock=services.wall,
        leases=leases,
    )

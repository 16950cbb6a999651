"""Settings: one pydantic-settings model, read from ``vigie.toml`` and ``VIGIE_*`` variables."""

from __future__ import annotations

import itertools
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.quantities import QUANTITIES
from core.retention import KeepFor, longest
from core.state.vocabulary import EnergyCarrier

PLACEHOLDER_SECRET = "change-me"


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


# An IANA zone name that this machine's tz database knows.
ZoneName = Annotated[str, AfterValidator(_known_zone)]
# The territory's zone when none is configured: French authorities, mainland.
DEFAULT_ZONE = "Europe/Paris"


class InfluxSettings(BaseModel):
    """InfluxDB through its HTTP API v1 (1.x natively; 2.x and 3.x via v1 compatibility)."""

    url: str = Field("http://127.0.0.1:8086", description="Base URL of the InfluxDB HTTP API")
    database: str = Field("vigie", description="Database (1.x) or DBRP-mapped database (2.x)")
    username: str | None = Field(None, description="User for basic auth (1.x)")
    password: SecretStr | None = Field(None, description="Password for basic auth (1.x)")
    token: SecretStr | None = Field(None, description="API token, sent as 'Token …' (2.x, 3.x)")
    retention_policy: str | None = Field(None, description="Retention policy; default: the DB's")
    timeout_s: float = Field(5.0, gt=0, description="Per-request timeout, seconds")
    batch_size: int = Field(5000, ge=1, description="Lines per /write request")
    gzip: bool = Field(True, description="Compress write bodies")
    rollup_retention_policy: str = Field(
        "vigie_rollups", description="Retention policy of hourly and daily rollups"
    )
    rollup_duration: str = Field("INF", description="Rollup policy duration (InfluxQL: 3650d, INF)")
    raw_duration: str | None = Field(
        None,
        description="Raw policy duration, a backstop blind to rollups: above every retention",
    )


class RollupSettings(BaseModel):
    """Hourly and daily rollups, and how long raw readings are kept once rolled up."""

    enabled: bool = Field(True, description="Keep rollups; long-span queries read them")
    zone: ZoneName = Field(
        DEFAULT_ZONE, description="Zone of the daily rollups' local days; default: the territory's"
    )
    min_span_days: float = Field(
        2, gt=0, description="Aggregates over at least this span read rollups, not raw points"
    )
    refresh_in_writes: bool = Field(
        False,
        description="Writes roll up the days they leave behind (slows ingest); else reads and "
        "`vigie store rollup` do",
    )
    raw_retention_days: dict[str, int] = Field(
        {}, description="Days of raw readings kept per quantity; absent: the default"
    )
    default_raw_retention_days: int | None = Field(
        None, ge=1, description="Days of raw readings kept; none: raw readings are kept forever"
    )

    @field_validator("raw_retention_days")
    @classmethod
    def _known_quantities(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(QUANTITIES))
        if unknown:
            raise ValueError(f"unknown quantities: {', '.join(unknown)}")
        if any(days < 1 for days in value.values()):
            raise ValueError("raw retention is at least one day")
        return value

    def retention(self) -> dict[str, timedelta]:
        """Raw retention per quantity; quantities kept forever are absent."""
        out = {}
        for q in QUANTITIES:
            days = self.raw_retention_days.get(q, self.default_raw_retention_days)
            if days is not None:
                out[q] = timedelta(days=days)
        return out


Days = Annotated[int, Field(ge=0)] | Literal["forever"]
_PURPOSE_NAME = r"^[a-z][a-z0-9_]*$"


def _span(days: Days | None) -> timedelta | None:
    """Absent: not needed (0 days); "forever": None."""
    if days == "forever":
        return None
    return timedelta(days=days or 0)


class PurposeSettings(BaseModel):
    """One purpose of the register of processing: the quantities it needs and for how long."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field("", description="What the data is kept for, for the register")
    quantities: list[str] = Field(description="Quantities this purpose needs, e.g. volume_m3")
    raw_days: Days | None = Field(
        None, description='Days of raw readings it needs ("forever"; absent: none)'
    )
    hourly_days: Days | None = Field(None, description="Days of hourly rollups it needs")
    daily_days: Days | None = Field(None, description="Days of daily rollups it needs")

    @field_validator("quantities")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(QUANTITIES))
        if unknown:
            raise ValueError(f"unknown quantities: {', '.join(unknown)}")
        if not value:
            raise ValueError("a purpose names the quantities it needs")
        return value

    @model_validator(mode="after")
    def _coarser_kept_longer(self) -> PurposeSettings:
        # A rollup summarises the finer data and answers its queries once that is gone: kept
        # shorter, the aggregates of the finer data still kept would read nothing.
        given = [
            (name, _span(days))
            for name, days in (
                ("raw_days", self.raw_days),
                ("hourly_days", self.hourly_days),
                ("daily_days", self.daily_days),
            )
            if days is not None
        ]
        if not given:
            raise ValueError("a purpose keeps raw readings, hourly or daily rollups")
        for (fine, a), (coarse, b) in itertools.pairwise(given):
            if b is not None and (a is None or b < a):
                raise ValueError(
                    f"{coarse} is shorter than {fine}: a rollup is kept at least as long as "
                    "the finer data it summarises"
                )
        return self

    def keep(self) -> KeepFor:
        return KeepFor(_span(self.raw_days), _span(self.hourly_days), _span(self.daily_days))


_PURPOSES_EXAMPLE = """\
[{section}.purposes.leak_detection]
description = "Leak alerts on household and network meters (35 days of baselines)"
quantities = ["volume_m3", "flow_m3h", "leak"]
raw_days = 60
hourly_days = 400

[{section}.purposes.billing_history]
description = "Daily consumption shown to subscribers, kept for disputes"
quantities = ["volume_m3"]
daily_days = 1830

[{section}.purposes.network_indicators]
description = "Sector inflows for the yearly RPQS indicators"
quantities = ["flow_m3h"]
daily_days = "forever"
"""


class RetentionSettings(BaseModel):
    """Retention per purpose, and the daily purge that `vigie run` applies it with."""

    housekeeping: bool = Field(
        True,
        description="`vigie run` refreshes the rollups and purges once a day (else run "
        "`vigie store purge` from a timer)",
    )
    purge_at: time = Field(
        time(3, 30), description="Local time of the daily purge, in the territory's zone"
    )
    purposes: dict[str, PurposeSettings] = Field(
        {},
        description="Purposes of the register of processing, as tables: quantities, raw_days, "
        'hourly_days, daily_days (days or "forever"; absent: not needed). A quantity keeps each '
        "granularity as long as the longest purpose naming it asks (daily ≥ hourly ≥ raw); one "
        "no purpose names keeps [store.rollups] raw retention and its rollups forever. None by "
        "default: nothing is deleted unless asked. For household water data, e.g.:",
        json_schema_extra={"toml_tables": _PURPOSES_EXAMPLE},
    )

    @field_validator("purposes")
    @classmethod
    def _names(cls, value: dict[str, PurposeSettings]) -> dict[str, PurposeSettings]:
        bad = sorted(name for name in value if not re.match(_PURPOSE_NAME, name))
        if bad:
            raise ValueError(f"purpose names are lower-case identifiers: {', '.join(bad)}")
        return value

    def named(self) -> dict[str, list[str]]:
        """The purposes naming each quantity."""
        out: dict[str, list[str]] = {}
        for name, purpose in sorted(self.purposes.items()):
            for q in purpose.quantities:
                out.setdefault(q, []).append(name)
        return out


class StoreSettings(BaseModel):
    """Where readings live."""

    backend: Literal["sqlite", "influxdb"] = Field("sqlite", description="sqlite or influxdb")
    sqlite_path: Path = Field(
        Path("var/vigie/timeseries.sqlite"), description="SQLite file of the embedded store"
    )
    influxdb: InfluxSettings = InfluxSettings()
    rollups: RollupSettings = RollupSettings()
    retention: RetentionSettings = RetentionSettings()

    @model_validator(mode="after")
    def _one_raw_setting(self) -> StoreSettings:
        both = sorted(set(self.rollups.raw_retention_days) & set(self.retention.named()))
        if both:
            raise ValueError(
                f"raw retention of {', '.join(both)} set in [store.rollups] "
                "raw_retention_days and by a purpose: keep it in the purposes"
            )
        return self

    def retention_plan(self) -> dict[str, KeepFor]:
        """Per quantity that is ever deleted, how long each granularity is kept: the longest
        any purpose naming it asks; a quantity no purpose names keeps its [store.rollups] raw
        retention and its rollups forever."""
        out = {q: KeepFor(raw=keep) for q, keep in self.rollups.retention().items()}
        for q, names in self.retention.named().items():
            keeps = [self.retention.purposes[n].keep() for n in names]
            out[q] = longest(keeps)
        return {q: keep for q, keep in out.items() if keep.finite}


class StateSettings(BaseModel):
    """The relational state store: registry, alerts, dead letters, API keys."""

    url: SecretStr = Field(
        SecretStr("sqlite:///var/vigie/state.sqlite"),
        description="SQLAlchemy URL, e.g. postgresql+psycopg://vigie:…@db/vigie",
    )


class MqttSettings(BaseModel):
    """The MQTT broker the network server publishes to."""

    host: str = Field("127.0.0.1", description="Broker host")
    port: int = Field(1883, ge=1, le=65535, description="Broker port")
    username: str | None = Field(None, description="Broker user")
    password: SecretStr | None = Field(None, description="Broker password")
    client_id: str = Field("vigie-ingest", description="Fixed client id: the session persists")
    protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT version; 3.1.1 for brokers without MQTT 5 (no session expiry)"
    )
    shared_group: str | None = Field(None, description="Shared-subscription group for N workers")
    tls: bool = Field(False, description="Connect with TLS (the port is then usually 8883)")
    ca_file: Path | None = Field(
        None, description="CA certificate(s) that signed the broker's, PEM; none: the system's"
    )
    cert_file: Path | None = Field(
        None, description="Client certificate, PEM, for brokers that require one (with tls)"
    )
    key_file: Path | None = Field(
        None, description="Private key of cert_file, PEM (none: it is inside cert_file)"
    )


class ObjectField(BaseModel):
    """How one key of a network server's decoded object becomes a reading."""

    quantity: str = Field(description="Quantity of the vocabulary, e.g. temperature_c")
    channel: str | None = Field(None, description="Channel, e.g. ext")
    scale: float = Field(1.0, description="Multiply the NS value by this (e.g. 0.001 for mV→V)")


class IngestSettings(BaseModel):
    """Ingest: topics, batching, time checks, the outage spool, NS-decoded payload mappings."""

    topics: list[str] = Field(
        ["application/+/device/+/event/+", "v3/+/devices/+/up"],
        description="MQTT topic filters (ChirpStack v4 and TTS v3)",
    )
    batch_size: int = Field(2000, ge=1, description="Messages per store write, at most")
    batch_ms: int = Field(200, ge=1, description="Longest wait to fill a batch, ms")
    max_future_s: float = Field(300, ge=0, description="Frames further in the future: bad_time")
    max_age_days: float = Field(60, gt=0, description="Frames older than this: bad_time")
    spool_path: Path = Field(Path("var/vigie/spool.sqlite"), description="Outage spool file")
    spool_max_readings: int = Field(20_000_000, ge=1, description="Spool bound; then back-pressure")
    retry_s: float = Field(
        5.0, gt=0, description="Pause before retrying the store, or a batch that failed; doubles"
    )
    retry_max_s: float = Field(60.0, gt=0, description="Longest pause between two retries")
    stuck_after_s: float = Field(
        120.0, gt=0, description="A batch not durable after this long: ingest is stuck (503)"
    )
    down_after_s: float = Field(
        30.0, gt=0, description="No broker connection for this long: ingest is down (503)"
    )
    metrics_port: int | None = Field(
        9108, description="Port of `vigie ingest`'s /metrics (none: not served)"
    )
    object_fields: dict[str, dict[str, ObjectField]] = Field(
        {},
        description="Per device profile (or codec id): NS object key → reading, for devices "
        "decoded by the network server",
    )


class ApiSettings(BaseModel):
    """The HTTP API and pages."""

    host: str = Field("127.0.0.1", description="Listen address")
    port: int = Field(8000, ge=1, le=65535, description="Listen port")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may call the API from a browser (e.g. a screen "
        "vendor's player, https://affichage.example.fr); empty: none",
    )
    public_rate_per_s: float = Field(
        5.0, gt=0, description="Requests a second one client address may make to public routes"
    )
    public_burst: int = Field(
        60, ge=1, description="Requests a client may make at once to public routes before 429"
    )
    pseudonym_key: SecretStr | None = Field(
        None,
        description="Key of the HMAC that pseudonymises household meter ids for roles other "
        "than water and admin; none: a random key per process (pseudonyms change at restart)",
    )


class HubSettings(BaseModel):
    """The hub screens: what counts as live, and the bus network's feeds."""

    gtfs: str | None = Field(
        None,
        description="The bus network's GTFS zip: a file path or an http(s) URL, as published on "
        "transport.data.gouv.fr",
    )
    gtfs_realtime: str | None = Field(
        None, description="Its GTFS-Realtime feed (trip updates and alerts): a URL or a file path"
    )
    gtfs_reload_h: float = Field(24, gt=0, description="Reload the GTFS zip this often, hours")
    realtime_poll_s: float = Field(
        20, gt=0, description="Fetch the GTFS-Realtime feed at most this often, seconds"
    )
    realtime_max_age_s: float = Field(
        300, gt=0, description="Older real-time news is not applied: the timetable is shown as such"
    )
    parking_max_age_s: float = Field(
        120,
        gt=0,
        description="Counts computed longer ago (store unreachable) show 'données indisponibles'",
    )
    departures: int = Field(8, ge=1, le=30, description="Departures listed per screen")
    zone: ZoneName = Field(
        DEFAULT_ZONE, description="Zone of the times the screens show; default: the territory's"
    )
    refresh_s: float = Field(15, ge=2, description="How often the screens ask for new data")


class QuietHoursSettings(BaseModel):
    """Quiet hours: non-critical notices wait until they end; critical ones go out at once."""

    enabled: bool = Field(True, description="Hold non-critical notices during the window")
    start: time = Field(time(20, 0), description="Local start; the window may cross midnight")
    end: time = Field(time(7, 30), description="Local end; held notices go out after it")
    timezone: ZoneName = Field(
        DEFAULT_ZONE, description="Zone of start and end (DST-aware); default: the territory's"
    )


class AlertRoute(BaseModel):
    """Who hears about which alerts, on which channel."""

    tenants: list[str] = Field([], description="Tenant codes; empty: every tenant")
    types: list[str] = Field([], description="Alert types, e.g. burst; empty: every type")
    min_severity: Literal["info", "warning", "critical"] = Field(
        "warning", description="Lowest severity routed"
    )
    channel: Literal["email", "webhook", "mqtt"] = Field(description="email, webhook or mqtt")
    to: list[str] = Field([], description="Addresses, URLs or MQTT topics for every notice")
    escalate_to: list[str] = Field(
        [], description="Destinations of escalations (unacknowledged alerts)"
    )


class SmtpSettings(BaseModel):
    """The mail server that sends e-mail notices."""

    host: str = Field("127.0.0.1", description="SMTP host")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 submission, 25 relay)")
    username: str | None = Field(None, description="SMTP user; none: no authentication")
    password: SecretStr | None = Field(None, description="SMTP password")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS")
    sender: str = Field("vigie@localhost", description="From address of notices")
    timeout_s: float = Field(10.0, gt=0, description="Connection and command timeout, seconds")


class WebhookSettings(BaseModel):
    """Webhook notices: JSON POSTs, signed with HMAC-SHA256 when a secret is set."""

    secret: SecretStr | None = Field(None, description="HMAC key of the signature header")
    timeout_s: float = Field(5.0, gt=0, description="Per-request timeout, seconds")


class AlertsSettings(BaseModel):
    """Alerts: cost estimates, notification routes, quiet hours, rate limit, escalation."""

    zone: ZoneName = Field(
        DEFAULT_ZONE, description="Zone of the times notices show; default: the territory's"
    )

    price_eur_m3: float = Field(
        4.0,
        ge=0,
        description="Water price, €/m³, for the cost of losses; 4 € is the order of magnitude "
        "of the French average (water + sanitation): set your tariff",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public base URL of the API, for links in notices"
    )
    rate_limit: int = Field(
        20,
        ge=0,
        description="Notices per destination per rolling hour (0: no limit); the excess is "
        "recorded as suppressed, critical ones excepted",
    )
    escalate_after_h: float = Field(
        4.0, ge=0, description="Escalate an alert open and unacknowledged this long (0: never)"
    )
    escalation_levels: int = Field(
        1, ge=1, description="Escalations per alert; level k comes after k × escalate_after_h"
    )
    retry_after_s: float = Field(
        60.0, gt=0, description="First retry of a failed send; doubles per attempt, ≤ 1 h"
    )
    max_attempts: int = Field(8, ge=1, description="Send attempts before a notice stays failed")
    mqtt_topic_prefix: str = Field("vigie/alerts", description="Prefix of MQTT notice topics")
    routes: list[AlertRoute] = Field(
        [],
        description="Routes, as [[alerts.routes]] tables: tenants, types, min_severity, "
        'channel, to, escalate_to; e.g. channel = "email", to = ["eau@agglo.fr"]',
    )
    quiet_hours: QuietHoursSettings = QuietHoursSettings()
    smtp: SmtpSettings = SmtpSettings()
    webhook: WebhookSettings = WebhookSettings()


class AnalyticsSettings(BaseModel):
    """The periodic analytics runner: detectors, alert engine, escalation, notification."""

    enabled: bool = Field(True, description="Run the analytics in `vigie run` and `vigie demo`")
    every_s: float = Field(300.0, gt=0, description="Seconds between two passes")
    water_lookback_days: int = Field(
        35,
        ge=3,
        le=120,
        description="Days of data each pass reads for detectors that need baselines (water)",
    )
    detectors: dict[str, dict[str, float | int | bool | str | None]] = Field(
        {},
        description="Per detector, parameters overriding its defaults, as "
        "[analytics.detectors.<name>] tables (vigie analytics detectors lists them all)",
    )
    disabled_detectors: list[str] = Field([], description="Detectors not to run, by name")
    partition: bool = Field(
        False,
        description="Share the tenants between several analytics runners on one state store "
        "(PostgreSQL): each runner claims a fair share of tenant leases and judges only those",
    )
    runner_id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="This runner's name among the partitioned runners; each needs its own "
        "(none: host name and process id)",
    )
    lease_ttl_s: float = Field(
        900.0,
        gt=0,
        description="A partitioned runner silent this long loses its tenants to the others; "
        "longer than every_s plus the longest pass",
    )

    @model_validator(mode="after")
    def _lease_outlives_a_pass(self) -> AnalyticsSettings:
        if self.partition and self.lease_ttl_s <= self.every_s:
            raise ValueError(
                f"lease_ttl_s ({self.lease_ttl_s:g}) must be longer than every_s "
                f"({self.every_s:g}): a runner would lose its tenants between two passes"
            )
        return self


def _carriers(value: dict[str, float]) -> dict[str, float]:
    known = {c.value for c in EnergyCarrier}
    unknown = sorted(set(value) - known)
    if unknown:
        listed = ", ".join(sorted(known))
        raise ValueError(f"unknown carrier(s) {', '.join(unknown)}: carriers are {listed}")
    return value


class KpiSettings(BaseModel):
    """Energy KPIs and sobriety reports: emission factors, prices, climate normals, references."""

    zone: ZoneName = Field(
        DEFAULT_ZONE, description="Zone of local days and months; default: the territory's `zone`"
    )

    emission_factors_kgco2e_kwh: dict[str, float] = Field(
        {
            "electricity": 0.052,
            "gas": 0.227,
            "fuel_oil": 0.324,
            "wood": 0.030,
            "district_heating": 0.116,
        },
        description="kgCO2e per kWh by carrier (fuels per kWh PCI); ADEME Base Empreinte / Base "
        "Carbone: electricity = French average consumption mix (2022), gas, fuel oil and wood "
        "= upstream + combustion, district heating = French network mean (2017): put your "
        "network's own value (yearly 'contenu CO2' arrêté). A carrier without one: no CO2e",
    )
    gas_pci_per_pcs: float = Field(
        0.9,
        gt=0,
        le=1,
        description="kWh PCI per kWh PCS of natural gas: meters and invoices count PCS, the "
        "emission factor is per kWh PCI",
    )
    prices_eur_kwh: dict[str, float] = Field(
        {
            "electricity": 0.20,
            "gas": 0.10,
            "fuel_oil": 0.12,
            "district_heating": 0.10,
            "district_cooling": 0.10,
            "wood": 0.07,
            "lpg": 0.15,
        },
        description="Price by carrier, €/kWh all taxes, for the € of savings potentials: "
        "orders of magnitude, set your own tariffs",
    )
    degree_day_normals: list[float] = Field(
        [],
        description="Normal degree days (base 18 °C, COSTIC method) of each month, January "
        "first, at the territory's station; climate-corrected heating = heating × normal / "
        "measured. Empty: heating is not corrected to normals",
    )
    reference_kwh_m2: dict[str, float] = Field(
        {},
        description="National reference kWh/m²/yr by building activity_category (e.g. the "
        "décret tertiaire Cabs of your buildings' category), for the savings ranking",
    )
    comfort_max_c: float = Field(
        19.0,
        description="Highest average indoor temperature of occupied, heated hours (Code de "
        "l'énergie R241-26)",
    )
    heating_season: list[str] = Field(
        ["10-01", "05-20"],
        description="First and last day (MM-DD) of the heating season used for comfort "
        "compliance (the 232-day season of degree-day statistics)",
    )

    @field_validator("emission_factors_kgco2e_kwh", "prices_eur_kwh")
    @classmethod
    def _known_carriers(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in value.values()):
            raise ValueError("factors and prices cannot be negative")
        return _carriers(value)

    @field_validator("degree_day_normals")
    @classmethod
    def _twelve_months(cls, value: list[float]) -> list[float]:
        if value and (len(value) != 12 or any(v < 0 for v in value)):
            raise ValueError("give 12 monthly normals (January first), none negative")
        return value

    @field_validator("heating_season")
    @classmethod
    def _season(cls, value: list[str]) -> list[str]:
        if len(value) != 2:
            raise ValueError("give the first and the last day, MM-DD")
        for day in value:
            try:
                date.fromisoformat(f"2000-{day}")
            except ValueError:
                raise ValueError(f"{day!r} is not a day MM-DD") from None
        return value


class Settings(BaseSettings):
    """All of Vigie's settings; built once, at the entry point."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses placeholder secrets"
    )
    log_json: bool = Field(False, description="Log one JSON object per line")
    zone: ZoneName = Field(
        DEFAULT_ZONE,
        description="The territory's time zone: its local days, nights, weeks, months and "
        "holidays (readings are stored in UTC)",
    )
    store: StoreSettings = StoreSettings()
    state: StateSettings = StateSettings()
    mqtt: MqttSettings = MqttSettings()
    ingest: IngestSettings = IngestSettings()
    api: ApiSettings = ApiSettings()
    alerts: AlertsSettings = AlertsSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    kpi: KpiSettings = KpiSettings()
    hub: HubSettings = HubSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments, then the environment, then vigie.toml, then defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @model_validator(mode="after")
    def _one_zone(self) -> Settings:
        """Sections that show or judge local time follow ``zone`` unless set on their own."""
        for section in (self.kpi, self.hub, self.alerts, self.store.rollups):
            if "zone" not in section.model_fields_set:
                section.zone = self.zone
        quiet = self.alerts.quiet_hours
        if "timezone" not in quiet.model_fields_set:
            quiet.timezone = self.zone
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            bad = [path for path, value in _secrets(self) if value == PLACEHOLDER_SECRET]
            if bad:
                raise ValueError(
                    f"placeholder secret {PLACEHOLDER_SECRET!r} in production: {', '.join(bad)}"
                )
        return self


def _secrets(model: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            out.append((prefix + name, value.get_secret_value()))
        elif isinstance(value, BaseModel):
            out.extend(_secrets(value, f"{prefix}{name}."))
    return out


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config`` (a vigie.toml; missing file is an error), env, then defaults."""
    if config is None:
        return Settings(**overrides)
    if not config.is_file():
        raise FileNotFoundError(f"configuration file {config} does not exist")
    bound = type(
        "Settings",
        (Settings,),
        {"model_config": SettingsConfigDict(**{**Settings.model_config, "toml_file": config})},
    )
    settings: Settings = bound(**overrides)
    return settings

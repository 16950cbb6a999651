"""What a hub's screens show, in one document: carpool areas, bus departures, operator messages
and river vigilance; each block says whether its data is live, and texts are in French."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.levels.findings import VIGILANCE
from analytics.parking.availability import AreaStatus
from analytics.transit.feeds import TransitUnavailable
from api.parking_board import AreaView
from api.services import Services
from api.ttl_cache import TtlCache
from core.state.hub_messages import live_messages
from core.state.models import Device, Hub, HubArea

log = logging.getLogger(__name__)

STATUS_FR = {
    AreaStatus.SPACES_AVAILABLE: "Places disponibles",
    AreaStatus.ALMOST_FULL: "Presque complet",
    AreaStatus.FULL: "Complet",
    AreaStatus.CLOSED: "Fermé",
    AreaStatus.UNKNOWN: "Données indisponibles",
}
COLOUR_FR = {"yellow": "jaune", "orange": "orange", "red": "rouge"}
# Fewer than this many spaces gained or lost in 15 minutes is "steady": one car is not a trend.
# The arrow looks TREND_HORIZON_MIN ahead when the area has a forecast, else 15 minutes back.
TREND_SPACES = 2
TREND_HORIZON_MIN = 30
Trend = Literal["up", "down", "steady"]


class HubOut(BaseModel):
    code: str
    name: str


class AreaOut(BaseModel):
    id_lieu: str
    name: str
    total: int
    free: int | None  # None when the data is not live: a screen never shows an old number
    pmr_free: int | None
    pmr_total: int
    status: str
    status_fr: str
    trend: Trend
    last_update: datetime | None
    live: bool


class DepartureOut(BaseModel):
    line: str
    line_color: str
    line_text_color: str
    headsign: str
    stop: str
    scheduled_at: datetime
    expected_at: datetime
    delay_min: int | None
    cancelled: bool
    realtime: bool


class TransitAlertOut(BaseModel):
    header: str
    description: str


class DeparturesOut(BaseModel):
    configured: bool
    available: bool
    realtime: Literal["live", "stale", "none"]
    realtime_at: datetime | None
    items: list[DepartureOut]
    alerts: list[TransitAlertOut]


class MessageOut(BaseModel):
    text: str
    severity: str


class VigilanceOut(BaseModel):
    station: str
    colour: str
    colour_fr: str
    since: datetime


@dataclass(frozen=True, slots=True)
class HubRef:
    """What the screen needs of a hub's registry row, read before any other query (SQLite
    allows one writer-capable transaction at a time, so sessions are not nested)."""

    id: int
    code: str
    name: str
    tenant_id: int
    tenant: str
    areas: tuple[str, ...]  # id_lieu, in screen order
    stops: tuple[str, ...]
    token_sha256: str | None

    @classmethod
    def of(cls, hub: Hub) -> HubRef:
        return cls(
            id=hub.id,
            code=hub.code,
            name=hub.name,
            tenant_id=hub.tenant_id,
            tenant=hub.tenant.code,
            areas=tuple(a.id_lieu for a in hub.areas),
            stops=tuple(hub.stops or ()),
            token_sha256=hub.display_token_sha256,
        )


class HubNotFound(LookupError):
    """No hub has this code."""


class HubScreens:
    """The hubs' documents for their screens, from short-lived caches.

    Every screen of a hub asks every few seconds: the hub's registry row (with its token's hash)
    is read at most every ``ref_ttl`` and its document built at most every ``doc_ttl`` or
    parking snapshot; a stale value is served while a background thread refreshes it, up to
    twice ``ref_ttl`` (so a new display token takes effect within a minute).
    """

    def __init__(
        self,
        services: Services,
        *,
        ref_ttl: timedelta = timedelta(seconds=30),
        doc_ttl: timedelta = timedelta(seconds=2),
    ) -> None:
        self._services = services
        self._refs: TtlCache[HubRef | None] = TtlCache(ref_ttl)
        self._documents: TtlCache[bytes] = TtlCache(doc_ttl)
        # Beyond this, a request waits for a fresh value instead of taking the cached one.
        self._max_stale = 2 * ref_ttl

    def ref(self, code: str) -> HubRef:
        """The hub's registry row; raises HubNotFound."""
        found = self._refs.get(code, self._services.clock.now(), lambda: self._read(code))
        if found is None:
            raise HubNotFound(code)
        return found

    def document(self, hub: HubRef) -> bytes:
        """The hub's screen document as JSON."""
        now = self._services.clock.now()
        return self._documents.get(self._key(hub), now, lambda: self._build(hub))

    def peek_ref(self, code: str) -> HubRef | None:
        """The hub's row if cached (a stale one is refreshed in the background), else None."""
        now = self._services.clock.now()
        return self._refs.peek(code, now, lambda: self._read(code), self._max_stale)

    def peek_document(self, hub: HubRef) -> bytes | None:
        """The document if it can be had without waiting, else None."""
        assert self._services.parking is not None
        if not self._services.parking.ready():
            return None
        now = self._services.clock.now()
        return self._documents.peek(self._key(hub), now, lambda: self._build(hub), self._max_stale)

    def _key(self, hub: HubRef) -> tuple[int, datetime]:
        # A new parking snapshot makes a new document, whatever the document's age.
        assert self._services.parking is not None
        return (hub.id, self._services.parking.computed_at())

    def _build(self, hub: HubRef) -> bytes:
        return hub_screen(self._services, hub).model_dump_json().encode()

    def _read(self, code: str) -> HubRef | None:
        with self._services.state.session() as session:
            hub = session.scalar(
                select(Hub)
                .where(Hub.code == code)
                .options(
                    selectinload(Hub.tenant),
                    selectinload(Hub.area_links).selectinload(HubArea.area),
                )
            )
            return None if hub is None else HubRef.of(hub)


class HubScreenOut(BaseModel):
    hub: HubOut
    generated_at: datetime
    refresh_s: float
    areas: list[AreaOut]
    departures: DeparturesOut
    messages: list[MessageOut]
    vigilance: list[VigilanceOut]


def hub_screen(services: Services, hub: HubRef) -> HubScreenOut:
    """The screen's document for ``hub`` at the services' clock."""
    now = services.clock.now()
    settings = services.hub
    assert services.parking is not None
    # Counts computed too long ago (the store unreachable since) are not live any more.
    max_age = timedelta(seconds=settings.parking_max_age_s)
    found = [services.parking.live_view(a, max_age) for a in hub.areas]
    areas = [_area(view, live) for view, live in (f for f in found if f is not None)]
    with services.state.session() as session:
        messages = [
            MessageOut(text=m.text, severity=m.severity)
            for m in live_messages(session, hub.tenant_id, hub.id, now)
        ]
    return HubScreenOut(
        hub=HubOut(code=hub.code, name=hub.name),
        generated_at=now,
        refresh_s=settings.refresh_s,
        areas=areas,
        departures=_departures(services, list(hub.stops), settings.departures),
        messages=messages,
        vigilance=_vigilance(services, hub.tenant),
    )


def _area(view: AreaView, live: bool) -> AreaOut:
    # An area most of whose sensors went silent is unknown (its status says so); the others
    # are live as long as the counts are fresh, even when no car moved for hours.
    a = view.availability
    status = a.status if live or a.status is AreaStatus.CLOSED else AreaStatus.UNKNOWN
    change = _heading(view)
    trend: Trend = "steady"
    if live and change >= TREND_SPACES:
        trend = "up"
    elif live and change <= -TREND_SPACES:
        trend = "down"
    return AreaOut(
        id_lieu=view.info.id_lieu,
        name=view.info.nom_lieu,
        total=a.total,
        free=a.free if live else None,
        pmr_free=a.pmr_free if live else None,
        pmr_total=view.info.nbre_pmr,
        status=status.value,
        status_fr=STATUS_FR[status],
        trend=trend,
        last_update=a.last_update,
        live=live,
    )


def _heading(view: AreaView) -> float:
    """Free spaces the area is expected to gain (> 0) or lose: its 30-minute forecast when it
    has one (a week of history at least), else the change over the last 15 minutes."""
    a = view.availability
    ahead = [p.free for p in a.forecast if p.horizon_min == TREND_HORIZON_MIN]
    return ahead[0] - a.free if ahead else float(view.trend)


def _departures(services: Services, stops: list[str], limit: int) -> DeparturesOut:
    configured = bool(stops) and services.transit is not None
    unavailable = DeparturesOut(
        configured=configured,
        available=False,
        realtime="none",
        realtime_at=None,
        items=[],
        alerts=[],
    )
    if not configured or services.transit is None:
        return unavailable
    try:
        board = services.transit.board(stops, limit=limit)
    except TransitUnavailable as exc:
        log.warning("no departures for stops %s: %s", ",".join(stops), exc)
        return unavailable
    return DeparturesOut(
        configured=True,
        available=True,
        realtime=board.realtime.value,
        realtime_at=board.realtime_at,
        items=[
            DepartureOut(
                line=d.line,
                line_color=d.line_color,
                line_text_color=d.line_text_color,
                headsign=d.headsign,
                stop=d.stop_name,
                scheduled_at=d.scheduled_at,
                expected_at=d.expected_at,
                delay_min=None if d.delay_s is None else round(d.delay_s / 60),
                cancelled=d.cancelled,
                realtime=d.realtime,
            )
            for d in board.departures
        ],
        alerts=[TransitAlertOut(header=a.header, description=a.description) for a in board.alerts],
    )


def _vigilance(services: Services, tenant: str) -> list[VigilanceOut]:
    where = AlertFilter(
        tenants={tenant},
        types={VIGILANCE},
        statuses={AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED},
    )
    _, alerts = list_alerts(services.state, where, limit=20)
    if not alerts:
        return []
    names = _station_names(services, tenant)
    out: list[VigilanceOut] = []
    for alert in alerts:
        colour = str(alert.evidence.get("colour", "yellow"))
        if colour not in COLOUR_FR:
            continue  # back to green: the alert is about to close
        out.append(
            VigilanceOut(
                station=names.get(alert.subject, alert.subject),
                colour=colour,
                colour_fr=COLOUR_FR[colour],
                since=alert.start,
            )
        )
    return out


def _station_names(services: Services, tenant: str) -> dict[str, str]:
    """Station code -> a name a traveller reads (the sensor's, else its site's)."""
    with services.state.session() as session:
        names: dict[str, str] = {}
        for d in session.scalars(select(Device).where(Device.role == "level")):
            if d.tenant.code != tenant:
                continue
            params = d.parameters or {}
            code = str(params.get("station") or (d.site.code if d.site else d.dev_eui))
            names[code] = d.name or (d.site.name if d.site else code)
        return names

"""The next departures of a hub's stops: the timetable, corrected by real-time news when fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from analytics.transit.realtime import RealtimeFeed, ServiceAlert
from analytics.transit.timetable import ScheduledDeparture, Timetable

__all__ = ["Departure", "DepartureBoard", "RealtimeState", "departure_board"]

# A bus planned a while ago may still come when late: look back this far in the timetable.
_LOOKBACK = timedelta(minutes=90)


class RealtimeState(StrEnum):
    """How much the screen may trust the times it shows."""

    LIVE = "live"  # a fresh real-time feed corrected the timetable
    STALE = "stale"  # a feed is configured but its news is too old: timetable only
    NONE = "none"  # no real-time feed: timetable only


@dataclass(frozen=True, slots=True)
class Departure:
    """One departure as a rider reads it."""

    line: str
    line_color: str
    line_text_color: str
    headsign: str
    stop_name: str
    scheduled_at: datetime
    expected_at: datetime  # the scheduled time when no fresh prediction exists
    delay_s: int | None  # None: no real-time prediction for it
    cancelled: bool

    @property
    def realtime(self) -> bool:
        return self.delay_s is not None or self.cancelled


@dataclass(frozen=True)
class DepartureBoard:
    """What the departures block of a hub screen shows."""

    departures: tuple[Departure, ...]
    alerts: tuple[ServiceAlert, ...]
    realtime: RealtimeState
    realtime_at: datetime | None  # when the feed last said something


def departure_board(
    timetable: Timetable,
    feed: RealtimeFeed | None,
    now: datetime,
    *,
    horizon: timedelta = timedelta(hours=2),
    limit: int = 8,
    realtime_max_age: timedelta = timedelta(minutes=5),
    realtime_configured: bool = False,
) -> DepartureBoard:
    """The next ``limit`` departures after ``now`` within ``horizon``, with the relevant alerts.

    A feed older than ``realtime_max_age`` is not applied: an old delay shown as live misleads
    more than the plain timetable, which the screen then labels as such.
    """
    state = RealtimeState.NONE
    if feed is not None or realtime_configured:
        state = RealtimeState.STALE
    fresh = feed is not None and (
        feed.produced_at is None or now - feed.produced_at <= realtime_max_age
    )
    if fresh:
        state = RealtimeState.LIVE
    planned = timetable.departures(now - _LOOKBACK, now + horizon)
    shown: list[Departure] = []
    for item in planned:
        departure = _corrected(item, feed if fresh else None)
        if departure.expected_at < now and not departure.cancelled:
            continue
        if departure.cancelled and departure.scheduled_at < now:
            continue
        shown.append(departure)
    shown.sort(key=lambda d: (d.expected_at, d.line))
    shown = shown[:limit]
    alerts: tuple[ServiceAlert, ...] = ()
    if feed is not None and fresh:
        stops = set(timetable.stop_names)
        routes = timetable.served_routes()
        alerts = tuple(
            a
            for a in feed.alerts
            if a.active(now) and (a.network_wide or a.stop_ids & stops or a.route_ids & routes)
        )
    return DepartureBoard(
        departures=tuple(shown),
        alerts=alerts,
        realtime=state,
        realtime_at=feed.produced_at if feed is not None else None,
    )


def _corrected(item: ScheduledDeparture, feed: RealtimeFeed | None) -> Departure:
    expected, delay, cancelled = item.scheduled_at, None, False
    news = feed.trips.get(item.trip_id) if feed is not None else None
    if news is not None and news.start_date in ("", item.service_day.strftime("%Y%m%d")):
        prediction = news.at(item.stop_sequence, item.stop_id, item.scheduled_at)
        cancelled = prediction.cancelled
        if prediction.expected_at is not None:
            expected = prediction.expected_at
            delay = round((expected - item.scheduled_at).total_seconds())
    return Departure(
        line=item.route.short_name,
        line_color=item.route.color,
        line_text_color=item.route.text_color,
        headsign=item.headsign,
        stop_name=item.stop_name,
        scheduled_at=item.scheduled_at,
        expected_at=expected,
        delay_s=delay,
        cancelled=cancelled,
    )

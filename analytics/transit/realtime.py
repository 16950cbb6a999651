"""A GTFS-Realtime feed read into what a hub screen needs: trip delays, cancellations, alerts.

Follows the GTFS-Realtime reference (gtfs.org/realtime/reference):

- A stop time update's delay holds for the later stops of its trip until the next update
  (propagation); before a trip's first update nothing is known, and ``NO_DATA`` means so.
- An absolute ``time`` is for its own stop only; ``SKIPPED`` cancels the departure at that
  stop, a ``CANCELED`` trip all of them.
- An alert is shown while one of its active periods holds (none: always), in French when the
  producer gave a French translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as rt

__all__ = [
    "RealtimeError",
    "RealtimeFeed",
    "ServiceAlert",
    "StopPrediction",
    "TripNews",
    "parse_feed",
]

_SKIPPED = rt.TripUpdate.StopTimeUpdate.SKIPPED
_NO_DATA = rt.TripUpdate.StopTimeUpdate.NO_DATA
_CANCELED = rt.TripDescriptor.CANCELED
# Alert effects that a rider reads as "this stop or line is not served".
_NO_SERVICE = {rt.Alert.NO_SERVICE, rt.Alert.STOP_MOVED}


class RealtimeError(ValueError):
    """The bytes are not a GTFS-Realtime FeedMessage."""


@dataclass(frozen=True, slots=True)
class _Update:
    stop_sequence: int | None
    stop_id: str
    delay_s: int | None
    time: datetime | None
    skipped: bool
    no_data: bool


@dataclass(frozen=True, slots=True)
class StopPrediction:
    """What the feed says of one departure."""

    expected_at: datetime | None  # None: no prediction, show the timetable
    cancelled: bool


@dataclass(frozen=True)
class TripNews:
    """The updates of one trip, in stop order."""

    cancelled: bool
    start_date: str  # "YYYYMMDD" or "" when the producer left it out
    updates: tuple[_Update, ...]

    def at(self, stop_sequence: int, stop_id: str, scheduled_at: datetime) -> StopPrediction:
        """The prediction for a stop of this trip planned at ``scheduled_at``."""
        if self.cancelled:
            return StopPrediction(expected_at=None, cancelled=True)
        governing: _Update | None = None
        for update in self.updates:
            same = update.stop_sequence == stop_sequence or (
                update.stop_sequence is None and update.stop_id == stop_id
            )
            if same:
                governing = update
                break
            earlier = update.stop_sequence is not None and update.stop_sequence < stop_sequence
            if earlier and not update.skipped:
                # An earlier stop's delay propagates down the trip; a skipped stop says nothing
                # of the stops after it.
                governing = update
        if governing is None or governing.no_data:
            return StopPrediction(expected_at=None, cancelled=False)
        is_own = governing.stop_sequence == stop_sequence or (
            governing.stop_sequence is None and governing.stop_id == stop_id
        )
        if is_own and governing.skipped:
            return StopPrediction(expected_at=None, cancelled=True)
        if is_own and governing.time is not None:
            return StopPrediction(expected_at=governing.time, cancelled=False)
        if governing.delay_s is not None:
            return StopPrediction(
                expected_at=scheduled_at + timedelta(seconds=governing.delay_s), cancelled=False
            )
        return StopPrediction(expected_at=None, cancelled=False)


@dataclass(frozen=True, slots=True)
class ServiceAlert:
    """A disruption message of the bus network."""

    header: str
    description: str
    route_ids: frozenset[str]
    stop_ids: frozenset[str]
    network_wide: bool  # informs the agency as a whole
    no_service: bool
    periods: tuple[tuple[datetime | None, datetime | None], ...]

    def active(self, now: datetime) -> bool:
        """Whether one of the alert's periods holds at ``now`` (no period: always)."""
        if not self.periods:
            return True
        return any(
            (start is None or start <= now) and (end is None or now < end)
            for start, end in self.periods
        )


@dataclass(frozen=True)
class RealtimeFeed:
    """One fetch of a GTFS-Realtime feed."""

    produced_at: datetime | None  # the header's timestamp, None when the producer left it out
    trips: dict[str, TripNews] = field(default_factory=dict)
    alerts: tuple[ServiceAlert, ...] = ()


def parse_feed(data: bytes, *, language: str = "fr") -> RealtimeFeed:
    """Parse a FeedMessage's bytes; texts are taken in ``language`` where the producer gave it."""
    message = rt.FeedMessage()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise RealtimeError(f"not a GTFS-Realtime feed: {exc}") from None
    if not message.HasField("header"):
        raise RealtimeError("not a GTFS-Realtime feed: no header")
    trips: dict[str, TripNews] = {}
    alerts: list[ServiceAlert] = []
    for entity in message.entity:
        if entity.is_deleted:
            continue
        if entity.HasField("trip_update"):
            trip_id = entity.trip_update.trip.trip_id
            if trip_id:
                trips[trip_id] = _trip_news(entity.trip_update)
        if entity.HasField("alert"):
            alerts.append(_alert(entity.alert, language))
    stamp = message.header.timestamp
    return RealtimeFeed(
        produced_at=datetime.fromtimestamp(stamp, UTC) if stamp else None,
        trips=trips,
        alerts=tuple(alerts),
    )


def _trip_news(update: rt.TripUpdate) -> TripNews:
    parsed: list[_Update] = []
    for stu in update.stop_time_update:
        event = stu.departure if stu.HasField("departure") else stu.arrival
        has_event = stu.HasField("departure") or stu.HasField("arrival")
        delay = event.delay if has_event and event.HasField("delay") else None
        # A producer may send only the arrival's delay: it holds for the departure too.
        if delay is None and stu.HasField("arrival") and stu.arrival.HasField("delay"):
            delay = stu.arrival.delay
        when = (
            datetime.fromtimestamp(event.time, UTC)
            if has_event and event.HasField("time") and event.time
            else None
        )
        parsed.append(
            _Update(
                stop_sequence=stu.stop_sequence if stu.HasField("stop_sequence") else None,
                stop_id=stu.stop_id,
                delay_s=delay,
                time=when,
                skipped=stu.schedule_relationship == _SKIPPED,
                no_data=stu.schedule_relationship == _NO_DATA,
            )
        )
    parsed.sort(key=lambda u: -1 if u.stop_sequence is None else u.stop_sequence)
    return TripNews(
        cancelled=update.trip.schedule_relationship == _CANCELED,
        start_date=update.trip.start_date,
        updates=tuple(parsed),
    )


def _alert(alert: rt.Alert, language: str) -> ServiceAlert:
    routes = frozenset(e.route_id for e in alert.informed_entity if e.route_id)
    stops = frozenset(e.stop_id for e in alert.informed_entity if e.stop_id)
    network = any(
        e.agency_id and not e.route_id and not e.stop_id and not e.HasField("trip")
        for e in alert.informed_entity
    )
    return ServiceAlert(
        header=_text(alert.header_text, language),
        description=_text(alert.description_text, language),
        route_ids=routes,
        stop_ids=stops,
        network_wide=network,
        no_service=alert.effect in _NO_SERVICE,
        periods=tuple(
            (
                datetime.fromtimestamp(p.start, UTC) if p.start else None,
                datetime.fromtimestamp(p.end, UTC) if p.end else None,
            )
            for p in alert.active_period
        ),
    )


def _text(text: rt.TranslatedString, language: str) -> str:
    """The translation in ``language``, else the untagged one, else the first one."""
    translations = list(text.translation)
    for wanted in (language, ""):
        for t in translations:
            if t.language.split("-")[0].lower() == wanted:
                return str(t.text)
    return str(translations[0].text) if translations else ""

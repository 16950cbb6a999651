"""A bus network's GTFS timetable, read for the few stops a hub's screen shows.

The GTFS reference (gtfs.org/schedule/reference) is followed where a screen needs it:

- A stop time is counted from "noon minus 12 h" of its service day in the agency's zone, so
  times past 24:00:00 belong to the day before and DST days come out right.
- A service runs on a day when ``calendar.txt`` says so and ``calendar_dates.txt`` does not
  remove it, or when ``calendar_dates.txt`` adds it (feeds without ``calendar.txt`` exist).
- A hub names stops or stations: a station (``location_type`` 1) stands for its platforms.
- A trip's last stop and stops with ``pickup_type`` 1 are arrivals only: no departure there.
- The headsign is the stop's, else the trip's, else the name of the trip's last stop.

The whole ``stop_times.txt`` is streamed once and only the hub's stops are kept, so a regional
feed of millions of rows loads in a few seconds and little memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "GtfsError",
    "Route",
    "ScheduledDeparture",
    "Timetable",
    "read_timetable",
]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class GtfsError(ValueError):
    """The feed lacks a file or a column the timetable needs, or holds a malformed value."""


@dataclass(frozen=True, slots=True)
class Route:
    """A bus line as riders know it."""

    route_id: str
    short_name: str
    long_name: str
    color: str  # "RRGGBB", as GTFS writes it
    text_color: str


@dataclass(frozen=True, slots=True)
class _StopTime:
    trip_id: str
    stop_id: str
    stop_sequence: int
    departure_s: int  # seconds after the service day's "noon minus 12 h"
    stop_headsign: str


@dataclass(frozen=True, slots=True)
class _Trip:
    route_id: str
    service_id: str
    headsign: str
    last_stop_id: str


@dataclass(frozen=True, slots=True)
class _Service:
    start: date
    end: date
    weekdays: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class ScheduledDeparture:
    """A departure as the timetable plans it, before any real-time news."""

    trip_id: str
    stop_id: str
    stop_sequence: int
    service_day: date
    scheduled_at: datetime  # aware, UTC
    route: Route
    headsign: str
    stop_name: str


@dataclass(frozen=True)
class Timetable:
    """The departures of some stops, with the calendar that says on which days they run."""

    zone: ZoneInfo
    stop_names: dict[str, str]
    routes: dict[str, Route]
    _trips: dict[str, _Trip]
    _stop_times: tuple[_StopTime, ...]
    _services: dict[str, _Service]
    _added: dict[str, frozenset[date]]
    _removed: dict[str, frozenset[date]]

    def runs(self, service_id: str, day: date) -> bool:
        """Whether the service runs on this service day."""
        if day in self._removed.get(service_id, frozenset()):
            return False
        if day in self._added.get(service_id, frozenset()):
            return True
        service = self._services.get(service_id)
        return (
            service is not None
            and service.start <= day <= service.end
            and service.weekdays[day.weekday()]
        )

    def departures(self, start: datetime, end: datetime) -> list[ScheduledDeparture]:
        """Planned departures in [start, end), in time order; the bounds are aware datetimes."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be aware datetimes")
        first = start.astimezone(self.zone).date() - timedelta(days=2)  # times run past 48:00
        last = end.astimezone(self.zone).date()
        found: list[ScheduledDeparture] = []
        day = first
        while day <= last:
            origin = _service_origin(day, self.zone)
            for st in self._stop_times:
                trip = self._trips[st.trip_id]
                if not self.runs(trip.service_id, day):
                    continue
                at = origin + timedelta(seconds=st.departure_s)
                if start <= at < end:
                    found.append(self._departure(st, trip, day, at))
            day += timedelta(days=1)
        found.sort(key=lambda d: (d.scheduled_at, d.route.short_name, d.trip_id))
        return found

    def served_routes(self) -> frozenset[str]:
        """The routes that leave from these stops on some day."""
        return frozenset(t.route_id for t in self._trips.values())

    def _departure(self, st: _StopTime, trip: _Trip, day: date, at: datetime) -> ScheduledDeparture:
        headsign = st.stop_headsign or trip.headsign or self.stop_names.get(trip.last_stop_id, "")
        return ScheduledDeparture(
            trip_id=st.trip_id,
            stop_id=st.stop_id,
            stop_sequence=st.stop_sequence,
            service_day=day,
            scheduled_at=at.astimezone(ZoneInfo("UTC")),
            route=self.routes[trip.route_id],
            headsign=headsign,
            stop_name=self.stop_names.get(st.stop_id, st.stop_id),
        )


def _service_origin(day: date, zone: ZoneInfo) -> datetime:
    """GTFS's "noon minus 12 h": 00:00 on most days, 01:00 or 23:00 the day before on DST days."""
    return datetime.combine(day, time(12), zone) - timedelta(hours=12)


def read_timetable(source: Path | bytes, stop_ids: Iterable[str]) -> Timetable:
    """Read a GTFS zip (a path or its bytes) for these stop or station ids."""
    data = source.read_bytes() if isinstance(source, Path) else source
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise GtfsError(f"not a GTFS zip file: {exc}") from None
    with archive:
        return _Reader(archive).timetable(set(stop_ids))


class _Reader:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        # Some producers put the files in a folder inside the zip.
        self._names = {Path(n).name: n for n in archive.namelist() if not n.endswith("/")}
        self._archive = archive
        self._all_stop_names: dict[str, str] = {}

    def rows(self, name: str, *, required: bool = True) -> Iterator[dict[str, str]]:
        member = self._names.get(name)
        if member is None:
            if required:
                raise GtfsError(f"{name} is missing from the feed")
            return
        with self._archive.open(member) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.DictReader(text)
            for row in reader:
                yield {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}

    def timetable(self, wanted: set[str]) -> Timetable:
        zone = self._zone()
        stop_names, platforms = self._stops(wanted)
        routes = {
            r["route_id"]: Route(
                route_id=r["route_id"],
                short_name=r.get("route_short_name", "") or r.get("route_long_name", ""),
                long_name=r.get("route_long_name", ""),
                color=(r.get("route_color") or "FFFFFF").upper(),
                text_color=(r.get("route_text_color") or "000000").upper(),
            )
            for r in self.rows("routes.txt")
        }
        trip_rows = {t["trip_id"]: t for t in self.rows("trips.txt")}
        kept, last_stop = self._stop_times(platforms)
        trips: dict[str, _Trip] = {}
        for trip_id in {st.trip_id for st in kept}:
            row = trip_rows.get(trip_id)
            if row is None:
                raise GtfsError(f"stop_times.txt names trip {trip_id!r} that trips.txt lacks")
            if row["route_id"] not in routes:
                raise GtfsError(f"trip {trip_id!r} names an unknown route {row['route_id']!r}")
            trips[trip_id] = _Trip(
                route_id=row["route_id"],
                service_id=row["service_id"],
                headsign=row.get("trip_headsign", ""),
                last_stop_id=last_stop[trip_id][1],
            )
        # A trip's last stop is where it ends: riders cannot leave from it.
        departures = tuple(st for st in kept if last_stop[st.trip_id][0] != st.stop_sequence)
        for trip in trips.values():
            if trip.last_stop_id not in stop_names:
                stop_names[trip.last_stop_id] = self._all_stop_names.get(trip.last_stop_id, "")
        services, added, removed = self._calendar()
        return Timetable(
            zone=zone,
            stop_names=stop_names,
            routes=routes,
            _trips=trips,
            _stop_times=departures,
            _services=services,
            _added=added,
            _removed=removed,
        )

    def _zone(self) -> ZoneInfo:
        for agency in self.rows("agency.txt"):
            name = agency.get("agency_timezone", "")
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError):
                raise GtfsError(f"agency_timezone {name!r} is not a known zone") from None
        raise GtfsError("agency.txt holds no agency")

    def _stops(self, wanted: set[str]) -> tuple[dict[str, str], set[str]]:
        children: dict[str, set[str]] = {}
        for stop in self.rows("stops.txt"):
            self._all_stop_names[stop["stop_id"]] = stop.get("stop_name", "")
            parent = stop.get("parent_station", "")
            if parent:
                children.setdefault(parent, set()).add(stop["stop_id"])
        unknown = sorted(wanted - self._all_stop_names.keys())
        if unknown:
            raise GtfsError(f"stop(s) not in the feed: {', '.join(unknown)}")
        platforms = set(wanted)
        for stop_id in wanted:
            platforms |= children.get(stop_id, set())
        names = {s: self._all_stop_names[s] for s in platforms}
        return names, platforms

    def _stop_times(
        self, platforms: set[str]
    ) -> tuple[list[_StopTime], dict[str, tuple[int, str]]]:
        kept: list[_StopTime] = []
        last_stop: dict[str, tuple[int, str]] = {}
        for row in self.rows("stop_times.txt"):
            trip_id = row["trip_id"]
            try:
                sequence = int(row["stop_sequence"])
            except (KeyError, ValueError):
                raise GtfsError(f"trip {trip_id!r}: bad stop_sequence") from None
            previous = last_stop.get(trip_id)
            if previous is None or sequence > previous[0]:
                last_stop[trip_id] = (sequence, row["stop_id"])
            if row["stop_id"] not in platforms or row.get("pickup_type", "") == "1":
                continue
            clock = row.get("departure_time") or row.get("arrival_time", "")
            if not clock:
                continue  # an untimed stop: GTFS lets riders interpolate, a screen should not
            kept.append(
                _StopTime(
                    trip_id=trip_id,
                    stop_id=row["stop_id"],
                    stop_sequence=sequence,
                    departure_s=_seconds(clock, trip_id),
                    stop_headsign=row.get("stop_headsign", ""),
                )
            )
        return kept, last_stop

    def _calendar(
        self,
    ) -> tuple[dict[str, _Service], dict[str, frozenset[date]], dict[str, frozenset[date]]]:
        services = {
            row["service_id"]: _Service(
                start=_date(row["start_date"]),
                end=_date(row["end_date"]),
                weekdays=tuple(row.get(day, "0") == "1" for day in _WEEKDAYS),
            )
            for row in self.rows("calendar.txt", required=False)
        }
        added: dict[str, set[date]] = {}
        removed: dict[str, set[date]] = {}
        for row in self.rows("calendar_dates.txt", required=False):
            target = added if row.get("exception_type") == "1" else removed
            target.setdefault(row["service_id"], set()).add(_date(row["date"]))
        if not services and not added:
            raise GtfsError("the feed has neither calendar.txt nor calendar_dates.txt services")
        return (
            services,
            {k: frozenset(v) for k, v in added.items()},
            {k: frozenset(v) for k, v in removed.items()},
        )


def _seconds(clock: str, trip_id: str) -> int:
    try:
        hours, minutes, seconds = (int(part) for part in clock.split(":"))
    except ValueError:
        raise GtfsError(f"trip {trip_id!r}: bad time {clock!r}") from None
    return hours * 3600 + minutes * 60 + seconds


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise GtfsError(f"bad GTFS date {text!r}") from None

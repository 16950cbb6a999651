"""A simulated bus network for the territory's hubs: a GTFS timetable and its GTFS-Realtime feed.

Each hub stop becomes a station with two platforms served by three lines; weekdays run every
20 minutes from 06:00 to 20:40, Saturdays every 40 minutes, Sundays line 1 hourly. The
real-time feed gives each trip a seeded delay (most on time or a minute late, one in five 2-9
minutes late, about 2 % cancelled), as a network's vehicle location system would.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from google.transit import gtfs_realtime_pb2 as rt

from simulator.territory import Territory

PARIS = ZoneInfo("Europe/Paris")
# (route id, short name, long name, colour, text colour, terminus name)
LINES = (
    ("L1", "1", "Gare – Cambrai", "E30613", "FFFFFF", "Cambrai Gare"),
    ("L2", "2", "Gare – Le Cateau", "0055A4", "FFFFFF", "Le Cateau Centre"),
    ("L3", "3", "Gare – Saint-Souplet", "FFD400", "000000", "Saint-Souplet Mairie"),
)
RIDE_MIN = 25  # from the hub to the line's terminus


def _trips(day_kind: str) -> list[tuple[str, str, int]]:
    """(line, service, departure minute after midnight) for one kind of day."""
    if day_kind == "WEEK":
        return [(line[0], "WEEK", m) for line in LINES for m in range(6 * 60, 20 * 60 + 41, 20)]
    if day_kind == "SAT":
        return [(line[0], "SAT", m) for line in LINES for m in range(7 * 60, 19 * 60 + 1, 40)]
    return [("L1", "SUN", m) for m in range(8 * 60, 20 * 60 + 1, 60)]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def bus_network(territory: Territory, start: date, days: int = 400) -> bytes:
    """The GTFS zip of the network serving every hub stop of the territory."""
    stations = sorted({str(s) for hub in territory.hubs for s in hub.get("stops") or []})
    files: dict[str, list[str]] = {
        "agency.txt": [
            "agency_id,agency_name,agency_url,agency_timezone,agency_lang",
            f"RES,Réseau simulé du {territory.name},https://example.org,Europe/Paris,fr",
        ],
        "stops.txt": ["stop_id,stop_name,location_type,parent_station"],
        "routes.txt": [
            "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,"
            "route_text_color"
        ],
        "trips.txt": ["route_id,service_id,trip_id,trip_headsign"],
        "stop_times.txt": ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"],
        "calendar.txt": [
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
            "start_date,end_date"
        ],
    }
    for line_id, short, long_name, colour, text, _ in LINES:
        files["routes.txt"].append(f"{line_id},RES,{short},{long_name},3,{colour},{text}")
    for line_id, *_, terminus in LINES:
        files["stops.txt"].append(f"{line_id}-END,{terminus},0,")
    end = start + timedelta(days=days)
    span = f"{start:%Y%m%d},{end:%Y%m%d}"
    files["calendar.txt"] += [
        f"WEEK,1,1,1,1,1,0,0,{span}",
        f"SAT,0,0,0,0,0,1,0,{span}",
        f"SUN,0,0,0,0,0,0,1,{span}",
    ]
    for station in stations:
        files["stops.txt"] += [
            f"{station},Pôle d'échanges,1,",
            f"{station}-A,Pôle d'échanges quai A,0,{station}",
            f"{station}-B,Pôle d'échanges quai B,0,{station}",
        ]
        for kind in ("WEEK", "SAT", "SUN"):
            for line_id, service, minute in _trips(kind):
                trip = f"{station}-{line_id}-{service}-{minute:04d}"
                terminus = next(t for lid, *_, t in LINES if lid == line_id)
                platform = f"{station}-A" if line_id == "L1" else f"{station}-B"
                files["trips.txt"].append(f"{line_id},{service},{trip},{terminus}")
                files["stop_times.txt"] += [
                    f"{trip},{_clock(minute)},{_clock(minute)},{platform},1",
                    f"{trip},{_clock(minute + RIDE_MIN)},{_clock(minute + RIDE_MIN)},"
                    f"{line_id}-END,2",
                ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, lines in files.items():
            archive.writestr(name, "\n".join(lines) + "\n")
    return out.getvalue()


def _draw(trip_id: str, day: date, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the trip, its day and the seed."""
    digest = hashlib.sha256(f"{seed}:{day.isoformat()}:{trip_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def realtime_feed(gtfs: bytes, now: datetime, seed: int = 1) -> bytes:
    """Trip updates for the trips leaving the hubs in the next two hours, produced at ``now``."""
    with zipfile.ZipFile(io.BytesIO(gtfs)) as archive:
        stop_times = archive.read("stop_times.txt").decode().splitlines()[1:]
        trips = {
            row.split(",")[2]: row.split(",")[1]
            for row in archive.read("trips.txt").decode().splitlines()[1:]
        }
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(now.timestamp())
    local = now.astimezone(PARIS)
    today = local.date()
    weekday = today.weekday()
    running = {"WEEK"} if weekday < 5 else ({"SAT"} if weekday == 5 else {"SUN"})
    for row in stop_times:
        trip_id, _, departure, _, sequence = row.split(",")
        if sequence != "1" or trips[trip_id] not in running:
            continue
        hours, minutes, _ = (int(x) for x in departure.split(":"))
        at = datetime.combine(today, datetime.min.time(), PARIS) + timedelta(
            hours=hours, minutes=minutes
        )
        if not timedelta(minutes=-30) <= at - local <= timedelta(hours=2):
            continue
        draw = _draw(trip_id, today, seed)
        entity = message.entity.add(id=trip_id)
        entity.trip_update.trip.trip_id = trip_id
        entity.trip_update.trip.start_date = today.strftime("%Y%m%d")
        if draw < 0.02:
            entity.trip_update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
            continue
        update = entity.trip_update.stop_time_update.add()
        update.stop_sequence = 1
        late_min = int(draw * 10) % 2 if draw < 0.8 else 2 + int((draw - 0.8) / 0.2 * 8)
        update.departure.delay = 60 * late_min
    return message.SerializeToString()

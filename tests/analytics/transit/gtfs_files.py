"""A small bus network as GTFS files, for the transit tests (built here, not fetched)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from google.transit import gtfs_realtime_pb2 as rt

# The hub "Pôle multimodal" is a station with two platforms; line 1 runs on weekdays, line 2 on
# Saturdays, and the weekday service does not run on Christmas day.
FILES: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "RES,Réseau,https://example.org,Europe/Paris\n",
    "stops.txt": "stop_id,stop_name,location_type,parent_station\n"
    "HUB,Pôle multimodal,1,\n"
    "P1,Pôle multimodal quai 1,0,HUB\n"
    "P2,Pôle multimodal quai 2,0,HUB\n"
    "MAIRIE,Mairie,0,\n"
    "LYCEE,Lycée Jean Moulin,0,\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,"
    "route_text_color\n"
    "L1,RES,1,Gare - Lycée,3,e30613,ffffff\n"
    "L2,RES,2,Gare - Mairie,3,,\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign\n"
    "L1,WEEK,T1,Lycée\n"
    "L1,WEEK,T2,\n"
    "L2,SAT,T3,Mairie\n"
    "L1,WEEK,T4,Pôle multimodal\n"
    "L1,WEEK,TN,Lycée\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type\n"
    "T1,08:00:00,08:00:00,P1,1,\n"
    "T1,08:10:00,08:10:00,MAIRIE,2,\n"
    "T1,08:20:00,08:20:00,LYCEE,3,\n"
    "T2,08:05:00,08:05:00,P2,1,\n"
    "T2,08:30:00,08:30:00,LYCEE,2,\n"
    "T3,09:00:00,09:00:00,P1,1,\n"
    "T3,09:15:00,09:15:00,MAIRIE,2,\n"
    "T4,07:30:00,07:30:00,LYCEE,1,\n"
    "T4,07:50:00,07:50:00,P1,2,\n"
    "TN,24:10:00,24:10:00,P1,1,\n"
    "TN,24:40:00,24:40:00,LYCEE,2,\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\n"
    "WEEK,1,1,1,1,1,0,0,20260101,20271231\n"
    "SAT,0,0,0,0,0,1,0,20260101,20271231\n",
    "calendar_dates.txt": "service_id,date,exception_type\nWEEK,20261225,2\n",
}


def gtfs_zip(files: Mapping[str, str | None] | None = None, *, folder: str = "") -> bytes:
    """The network as a zip's bytes; ``files`` replaces or adds files (None drops one)."""
    merged: dict[str, str | None] = {**FILES, **(files or {})}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in merged.items():
            if text is not None:
                archive.writestr(folder + name, text)
    return out.getvalue()


def feed_message(timestamp: int) -> rt.FeedMessage:
    """An empty GTFS-Realtime feed produced at ``timestamp`` (Unix seconds)."""
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = timestamp
    return message


def add_delay(
    message: rt.FeedMessage,
    trip_id: str,
    stop_sequence: int,
    delay_s: int,
    *,
    start_date: str = "",
) -> None:
    """A trip update saying the trip is ``delay_s`` late from ``stop_sequence`` on."""
    entity = message.entity.add()
    entity.id = f"tu-{trip_id}-{stop_sequence}"
    entity.trip_update.trip.trip_id = trip_id
    if start_date:
        entity.trip_update.trip.start_date = start_date
    update = entity.trip_update.stop_time_update.add()
    update.stop_sequence = stop_sequence
    update.departure.delay = delay_s

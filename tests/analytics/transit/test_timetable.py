"""The GTFS timetable: service days, stations, arrivals-only stops, times past midnight, DST."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from analytics.transit.timetable import GtfsError, read_timetable
from tests.analytics.transit.gtfs_files import gtfs_zip


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _trips(
    start: str, hours: float = 3, files: Mapping[str, str | None] | None = None
) -> list[tuple[str, str, str]]:
    timetable = read_timetable(gtfs_zip(files), ["HUB"])
    begin = _at(start)
    return [
        (d.trip_id, d.stop_id, d.scheduled_at.isoformat())
        for d in timetable.departures(begin, begin + timedelta(hours=hours))
    ]


def test_a_station_stands_for_its_platforms_and_termini_are_not_departures() -> None:
    # Monday 2026-12-07: T1 from platform 1, T2 from platform 2; T4 ends at platform 1.
    assert _trips("2026-12-07T07:00:00+01:00") == [
        ("T1", "P1", "2026-12-07T07:00:00+00:00"),
        ("T2", "P2", "2026-12-07T07:05:00+00:00"),
    ]


def test_headsign_falls_back_to_the_trips_last_stop() -> None:
    timetable = read_timetable(gtfs_zip(), ["P2"])
    begin = _at("2026-12-07T07:00:00+01:00")
    (only,) = timetable.departures(begin, begin + timedelta(hours=2))
    assert (only.headsign, only.stop_name, only.route.short_name) == (
        "Lycée Jean Moulin",
        "Pôle multimodal quai 2",
        "1",
    )
    assert (only.route.color, only.route.text_color) == ("E30613", "FFFFFF")


def test_a_time_past_24h_runs_on_the_next_calendar_day() -> None:
    # TN leaves at 24:10 of Monday's service: 00:10 on Tuesday morning, Paris time.
    assert ("TN", "P1", "2026-12-07T23:10:00+00:00") in _trips("2026-12-07T23:00:00+01:00", 2)


def test_removed_dates_and_weekdays_are_respected() -> None:
    assert _trips("2026-12-25T07:00:00+01:00") == []  # Christmas: WEEK removed
    assert _trips("2026-12-26T08:00:00+01:00") == [("T3", "P1", "2026-12-26T08:00:00+00:00")]


def test_service_days_start_at_noon_minus_12h_on_dst_days() -> None:
    # Sunday 2027-03-28 switches to summer time at 02:00; the weekday service is added that day.
    # 08:00 is counted from noon minus 12 h (23:00 on Saturday): 08:00 CEST, 06:00 UTC, where
    # counting from midnight would give 09:00.
    added = {"calendar_dates.txt": "service_id,date,exception_type\nWEEK,20270328,1\n"}
    assert _trips("2027-03-28T07:00:00+02:00", 1.5, added)[0] == (
        "T1",
        "P1",
        "2027-03-28T06:00:00+00:00",
    )
    assert _trips("2027-03-28T07:00:00+02:00", 1.5) == []  # a Sunday without the addition


def test_files_inside_a_folder_are_found() -> None:
    timetable = read_timetable(gtfs_zip(folder="gtfs/"), ["HUB"])
    assert set(timetable.stop_names) >= {"HUB", "P1", "P2"}


@pytest.mark.parametrize(
    ("files", "stops", "message"),
    [
        ({}, ["NOWHERE"], r"stop\(s\) not in the feed: NOWHERE"),
        ({"stop_times.txt": None}, ["HUB"], "stop_times.txt is missing"),
        (
            {"agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nR,R,u,Mars/Xx\n"},
            ["HUB"],
            "not a known zone",
        ),
        ({"calendar.txt": None, "calendar_dates.txt": None}, ["HUB"], "neither calendar"),
        (
            {"stop_times.txt": "trip_id,departure_time,stop_id,stop_sequence\nT1,8h,P1,1\n"},
            ["HUB"],
            "bad time",
        ),
    ],
)
def test_a_broken_feed_says_what_is_wrong(
    files: dict[str, str | None], stops: list[str], message: str
) -> None:
    with pytest.raises(GtfsError, match=message):
        read_timetable(gtfs_zip(files), stops)


def test_bytes_that_are_not_a_zip_are_refused() -> None:
    with pytest.raises(GtfsError, match="not a GTFS zip"):
        read_timetable(b"<html>502</html>", ["HUB"])

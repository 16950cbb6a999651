"""The departures board: fresh real-time news corrects the timetable, stale news never does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.transit import gtfs_realtime_pb2 as rt

from analytics.transit.departures import RealtimeState, departure_board
from analytics.transit.realtime import parse_feed
from analytics.transit.timetable import read_timetable
from tests.analytics.transit.gtfs_files import add_delay, feed_message, gtfs_zip

# Monday 2026-12-07, 07:58 in Paris: T1 leaves platform 1 at 08:00, T2 platform 2 at 08:05.
NOW = datetime(2026, 12, 7, 6, 58, tzinfo=UTC)
TIMETABLE = read_timetable(gtfs_zip(), ["HUB"])


def _feed(age: timedelta, build: list[tuple[str, int, int]]) -> rt.FeedMessage:
    message = feed_message(int((NOW - age).timestamp()))
    for trip_id, sequence, delay in build:
        add_delay(message, trip_id, sequence, delay, start_date="20261207")
    return message


def test_without_a_feed_the_board_is_the_timetable() -> None:
    board = departure_board(TIMETABLE, None, NOW)
    assert [(d.line, d.headsign, d.delay_s) for d in board.departures] == [
        ("1", "Lycée", None),
        ("1", "Lycée Jean Moulin", None),
    ]
    assert board.realtime is RealtimeState.NONE


def test_a_fresh_delay_reorders_the_board() -> None:
    feed = parse_feed(_feed(timedelta(seconds=30), [("T1", 1, 600)]).SerializeToString())
    board = departure_board(TIMETABLE, feed, NOW)
    assert [
        (d.stop_name, d.expected_at.strftime("%H:%M"), d.delay_s) for d in board.departures
    ] == [
        ("Pôle multimodal quai 2", "07:05", None),
        ("Pôle multimodal quai 1", "07:10", 600),
    ]
    assert board.realtime is RealtimeState.LIVE


def test_a_late_bus_planned_before_now_is_still_shown() -> None:
    later = NOW + timedelta(minutes=5)  # 08:03: T1 planned at 08:00 but 8 min late
    feed = parse_feed(_feed(timedelta(0), [("T1", 1, 480)]).SerializeToString())
    board = departure_board(TIMETABLE, feed, later)
    assert [d.expected_at.strftime("%H:%M") for d in board.departures] == ["07:05", "07:08"]
    # Without the news, the 08:00 bus is gone from the board.
    assert len(departure_board(TIMETABLE, None, later).departures) == 1


def test_stale_news_is_not_applied_and_the_board_says_so() -> None:
    feed = parse_feed(_feed(timedelta(minutes=20), [("T1", 1, 600)]).SerializeToString())
    board = departure_board(TIMETABLE, feed, NOW)
    assert [d.delay_s for d in board.departures] == [None, None]
    assert board.realtime is RealtimeState.STALE
    assert board.realtime_at == NOW - timedelta(minutes=20)
    assert departure_board(TIMETABLE, None, NOW, realtime_configured=True).realtime == "stale"


def test_news_for_another_service_day_is_ignored() -> None:
    message = feed_message(int(NOW.timestamp()))
    add_delay(message, "T1", 1, 600, start_date="20261208")
    board = departure_board(TIMETABLE, parse_feed(message.SerializeToString()), NOW)
    assert board.departures[0].delay_s is None


def test_cancelled_departures_stay_on_the_board_marked() -> None:
    message = feed_message(int(NOW.timestamp()))
    entity = message.entity.add(id="c")
    entity.trip_update.trip.trip_id = "T2"
    entity.trip_update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
    board = departure_board(TIMETABLE, parse_feed(message.SerializeToString()), NOW)
    assert [(d.headsign, d.cancelled, d.realtime) for d in board.departures] == [
        ("Lycée", False, False),
        ("Lycée Jean Moulin", True, True),
    ]


def test_only_alerts_about_the_hubs_lines_or_stops_are_kept() -> None:
    message = feed_message(int(NOW.timestamp()))
    for entity_id, route_id in (("mine", "L1"), ("other", "L9")):
        alert = message.entity.add(id=entity_id).alert
        alert.header_text.translation.add(text=f"alerte {entity_id}", language="fr")
        alert.informed_entity.add().route_id = route_id
    board = departure_board(TIMETABLE, parse_feed(message.SerializeToString()), NOW, limit=1)
    assert [a.header for a in board.alerts] == ["alerte mine"]
    assert len(board.departures) == 1

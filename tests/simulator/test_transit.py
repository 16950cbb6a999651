"""The simulated bus network: a GTFS timetable Vigie reads, and a seeded GTFS-Realtime feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from analytics.transit.departures import RealtimeState, departure_board
from analytics.transit.realtime import parse_feed
from analytics.transit.timetable import read_timetable
from simulator.territory_file import load_territory
from simulator.transit import bus_network, realtime_feed
from vigie.demo import SAMPLE_TERRITORY

GTFS = bus_network(load_territory(SAMPLE_TERRITORY), date(2026, 11, 30))
MONDAY_8H = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 in Paris


def test_the_hub_station_has_its_lines_every_twenty_minutes_on_weekdays() -> None:
    timetable = read_timetable(GTFS, ["CAUDRY-GARE"])
    hour = timetable.departures(MONDAY_8H, MONDAY_8H + timedelta(hours=1))
    assert sorted({d.route.short_name for d in hour}) == ["1", "2", "3"]
    assert len(hour) == 9
    assert {d.stop_name for d in hour} == {"Pôle d'échanges quai A", "Pôle d'échanges quai B"}
    sunday = MONDAY_8H - timedelta(days=1)
    assert {
        d.route.short_name for d in timetable.departures(sunday, sunday + timedelta(hours=3))
    } == {"1"}


def test_the_realtime_feed_is_seeded_and_applies_to_the_timetable() -> None:
    timetable = read_timetable(GTFS, ["CAUDRY-GARE"])
    data = realtime_feed(GTFS, MONDAY_8H, seed=1)
    assert data == realtime_feed(GTFS, MONDAY_8H, seed=1)
    assert data != realtime_feed(GTFS, MONDAY_8H, seed=2)
    feed = parse_feed(data)
    assert feed.produced_at == MONDAY_8H
    board = departure_board(timetable, feed, MONDAY_8H, limit=30)
    assert board.realtime is RealtimeState.LIVE
    assert all(d.realtime for d in board.departures)
    assert {d.delay_s for d in board.departures if not d.cancelled} <= {0, 60, *range(120, 600, 60)}


def test_about_one_trip_in_fifty_is_cancelled_and_one_in_five_late() -> None:
    cancelled = late = total = 0
    for day in range(7, 12):  # a working week
        now = datetime(2026, 12, day, 5, 0, tzinfo=UTC)
        for _ in range(8):  # 06:00 to 22:00 in steps of two hours
            for news in parse_feed(realtime_feed(GTFS, now)).trips.values():
                total += 1
                cancelled += news.cancelled
                late += not news.cancelled and (news.updates[0].delay_s or 0) >= 120
            now += timedelta(hours=2)
    assert total > 500
    assert 0.005 < cancelled / total < 0.05
    assert 0.12 < late / total < 0.3

"""The feeds behind the boards, over real HTTP: reloads, polling, outages keep the last copy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from analytics.transit.departures import RealtimeState
from analytics.transit.feeds import TransitFeeds, TransitUnavailable
from core.clock import ManualClock
from tests.analytics.transit.gtfs_files import add_delay, feed_message, gtfs_zip
from tests.feed_server import FeedServer, feed_server

NOW = datetime(2026, 12, 7, 6, 58, tzinfo=UTC)  # Monday 07:58 in Paris


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        running.files["/gtfs.zip"] = gtfs_zip()
        yield running


def _realtime(server: FeedServer, at: datetime, delay_s: int) -> None:
    message = feed_message(int(at.timestamp()))
    add_delay(message, "T1", 1, delay_s)
    server.files["/rt.pb"] = message.SerializeToString()


def _feeds(server: FeedServer, clock: ManualClock) -> TransitFeeds:
    return TransitFeeds(server.url("/gtfs.zip"), server.url("/rt.pb"), clock)


def test_delays_come_from_the_served_feed_and_are_polled_not_fetched_per_request(
    server: FeedServer,
) -> None:
    clock = ManualClock(NOW)
    _realtime(server, NOW, 120)
    feeds = _feeds(server, clock)
    assert feeds.board(["HUB"]).departures[0].delay_s == 120
    _realtime(server, NOW, 360)
    assert feeds.board(["HUB"]).departures[0].delay_s == 120  # within the poll interval
    assert server.requests.count("/rt.pb") == 1
    clock.advance(timedelta(seconds=20))
    _realtime(server, clock.now(), 360)
    assert [d.delay_s for d in feeds.board(["HUB"]).departures] == [None, 360]


def test_an_outage_keeps_the_last_copy_until_it_is_too_old(server: FeedServer) -> None:
    clock = ManualClock(NOW)
    _realtime(server, NOW, 120)
    feeds = _feeds(server, clock)
    assert feeds.board(["HUB"]).realtime is RealtimeState.LIVE
    server.failing.add("/rt.pb")
    clock.advance(timedelta(minutes=2))
    board = feeds.board(["HUB"])
    assert (board.realtime, board.departures[0].delay_s) == (RealtimeState.LIVE, 120)
    clock.advance(timedelta(minutes=4))  # the copy is now 6 minutes old
    board = feeds.board(["HUB"])
    assert board.realtime is RealtimeState.STALE
    assert all(d.delay_s is None for d in board.departures)


def test_a_broken_new_timetable_does_not_replace_the_good_one(server: FeedServer) -> None:
    clock = ManualClock(NOW)
    feeds = _feeds(server, clock)
    assert len(feeds.board(["HUB"]).departures) == 2
    server.files["/gtfs.zip"] = b"<html>maintenance</html>"
    clock.advance(timedelta(hours=25))
    assert feeds.board(["HUB"]).departures == ()  # 08:00 next day: nothing, but no error
    assert server.requests.count("/gtfs.zip") == 2


def test_without_any_timetable_the_board_is_unavailable(server: FeedServer) -> None:
    server.failing.add("/gtfs.zip")
    feeds = _feeds(server, ManualClock(NOW))
    with pytest.raises(TransitUnavailable):
        feeds.board(["HUB"])
    with pytest.raises(TransitUnavailable):
        feeds.board(["HUB"])
    assert server.requests.count("/gtfs.zip") == 1  # retried after a minute, not per request

"""GTFS-Realtime news: delay propagation, skipped stops, cancelled trips, alerts in French."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.transit import gtfs_realtime_pb2 as rt

from analytics.transit.realtime import RealtimeError, parse_feed
from tests.analytics.transit.gtfs_files import add_delay, feed_message

PLANNED = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


def _trip(*updates: tuple[int, str, int | None, str]) -> rt.FeedMessage:
    """A feed with one trip T; each update is (stop_sequence, kind, value, relationship)."""
    message = feed_message(1_765_000_000)
    entity = message.entity.add()
    entity.id = "T"
    entity.trip_update.trip.trip_id = "T"
    for sequence, kind, value, relationship in updates:
        stu = entity.trip_update.stop_time_update.add()
        stu.stop_sequence = sequence
        stu.schedule_relationship = getattr(rt.TripUpdate.StopTimeUpdate, relationship)
        if kind == "delay" and value is not None:
            stu.departure.delay = value
        if kind == "arrival_delay" and value is not None:
            stu.arrival.delay = value
        if kind == "time" and value is not None:
            stu.departure.time = value
    return message


@pytest.mark.parametrize(
    ("updates", "sequence", "expected_delay_min", "cancelled"),
    [
        ([(2, "delay", 180, "SCHEDULED")], 2, 3, False),  # its own stop
        ([(2, "delay", 180, "SCHEDULED")], 5, 3, False),  # propagates to later stops
        ([(2, "delay", 180, "SCHEDULED")], 1, None, False),  # never to earlier ones
        ([(2, "delay", 180, "SCHEDULED"), (4, "delay", 60, "SCHEDULED")], 5, 1, False),
        ([(2, "delay", 180, "SCHEDULED"), (3, "", None, "NO_DATA")], 5, None, False),
        ([(2, "", None, "SKIPPED")], 2, None, True),
        ([(1, "delay", 120, "SCHEDULED"), (2, "", None, "SKIPPED")], 3, 2, False),
        ([(2, "arrival_delay", -60, "SCHEDULED")], 2, -1, False),  # early, arrival only
    ],
)
def test_stop_predictions_follow_the_reference(
    updates: list[tuple[int, str, int | None, str]],
    sequence: int,
    expected_delay_min: int | None,
    cancelled: bool,
) -> None:
    news = parse_feed(_trip(*updates).SerializeToString()).trips["T"]
    prediction = news.at(sequence, "S", PLANNED)
    assert prediction.cancelled is cancelled
    if expected_delay_min is None:
        assert prediction.expected_at is None
    else:
        assert prediction.expected_at == PLANNED + timedelta(minutes=expected_delay_min)


def test_an_absolute_time_holds_for_its_own_stop_only() -> None:
    stamp = int((PLANNED + timedelta(minutes=7)).timestamp())
    news = parse_feed(_trip((2, "time", stamp, "SCHEDULED")).SerializeToString()).trips["T"]
    assert news.at(2, "S", PLANNED).expected_at == PLANNED + timedelta(minutes=7)
    assert news.at(3, "S", PLANNED).expected_at is None


def test_a_cancelled_trip_cancels_every_stop_and_the_header_time_is_read() -> None:
    message = feed_message(1_765_000_000)
    entity = message.entity.add()
    entity.id = "c"
    entity.trip_update.trip.trip_id = "T9"
    entity.trip_update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
    feed = parse_feed(message.SerializeToString())
    assert feed.produced_at == datetime.fromtimestamp(1_765_000_000, UTC)
    assert feed.trips["T9"].at(4, "S", PLANNED).cancelled


def test_alerts_are_read_in_french_with_their_periods_and_targets() -> None:
    message = feed_message(1_765_000_000)
    alert = message.entity.add(id="a").alert
    for language, text in (("en", "Works"), ("fr", "Travaux rue Pasteur")):
        translation = alert.header_text.translation.add()
        translation.language, translation.text = language, text
    alert.informed_entity.add().route_id = "L1"
    alert.effect = rt.Alert.DETOUR
    period = alert.active_period.add()
    period.start, period.end = 1_765_000_000, 1_765_003_600
    (parsed,) = parse_feed(message.SerializeToString()).alerts
    assert (parsed.header, parsed.route_ids, parsed.no_service) == (
        "Travaux rue Pasteur",
        frozenset({"L1"}),
        False,
    )
    assert parsed.active(datetime.fromtimestamp(1_765_001_000, UTC))
    assert not parsed.active(datetime.fromtimestamp(1_765_003_600, UTC))


def test_add_delay_helper_round_trips() -> None:
    message = feed_message(10)
    add_delay(message, "T1", 1, 240, start_date="20261207")
    news = parse_feed(message.SerializeToString()).trips["T1"]
    assert (news.start_date, news.at(1, "P1", PLANNED).expected_at) == (
        "20261207",
        PLANNED + timedelta(minutes=4),
    )


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"<html>502 Bad Gateway</html>"])
def test_bytes_that_are_not_a_feed_are_refused(data: bytes) -> None:
    with pytest.raises(RealtimeError, match="not a GTFS-Realtime feed"):
        parse_feed(data)

"""The bus network's feeds kept warm for the hub screens: the timetable reloaded now and then,
the real-time feed fetched at most every few seconds, the last good copy kept through outages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from analytics.transit.departures import DepartureBoard, departure_board
from analytics.transit.realtime import RealtimeError, RealtimeFeed, parse_feed
from analytics.transit.timetable import GtfsError, Timetable, read_timetable
from core.clock import Clock

__all__ = ["Fetch", "TransitFeeds", "TransitUnavailable", "fetch_bytes"]

log = logging.getLogger(__name__)

Fetch = Callable[[str], bytes]


def fetch_bytes(location: str, *, timeout_s: float = 10.0) -> bytes:
    """The bytes at an http(s) URL or a file path."""
    if location.startswith(("http://", "https://")):
        response = httpx.get(location, timeout=timeout_s, follow_redirects=True)
        response.raise_for_status()
        return response.content
    return Path(location).read_bytes()


class TransitUnavailable(RuntimeError):
    """No timetable could be read yet: the screen says so instead of showing departures."""


@dataclass
class _Copy:
    data: bytes
    at: datetime


class TransitFeeds:
    """Departure boards for sets of stops, from one network's GTFS and GTFS-Realtime feeds."""

    def __init__(
        self,
        gtfs: str,
        realtime: str | None,
        clock: Clock,
        *,
        fetch: Fetch = fetch_bytes,
        reload_every: timedelta = timedelta(hours=24),
        poll_every: timedelta = timedelta(seconds=20),
        realtime_max_age: timedelta = timedelta(minutes=5),
    ) -> None:
        self._gtfs, self._realtime = gtfs, realtime
        self._clock, self._fetch = clock, fetch
        self._reload_every, self._poll_every = reload_every, poll_every
        self._realtime_max_age = realtime_max_age
        self._lock = threading.Lock()
        self._zip: _Copy | None = None
        self._zip_tried: datetime | None = None
        self._timetables: dict[frozenset[str], tuple[datetime, Timetable]] = {}
        self._feed: RealtimeFeed | None = None
        self._feed_tried: datetime | None = None

    def board(self, stop_ids: Sequence[str], *, limit: int = 8) -> DepartureBoard:
        """The next departures from these stops, corrected by the real-time feed when fresh."""
        now = self._clock.now()
        with self._lock:
            timetable = self._timetable(frozenset(stop_ids), now)
            feed = self._current_feed(now)
        return departure_board(
            timetable,
            feed,
            now,
            limit=limit,
            realtime_max_age=self._realtime_max_age,
            realtime_configured=self._realtime is not None,
        )

    def _timetable(self, stops: frozenset[str], now: datetime) -> Timetable:
        due = self._zip is None or now - self._zip.at >= self._reload_every
        # A failed download is retried after a minute, not on every request of every screen.
        retry = self._zip_tried is None or now - self._zip_tried >= timedelta(minutes=1)
        if due and retry:
            self._zip_tried = now
            try:
                data = self._fetch(self._gtfs)
                # Read before replacing: a broken feed never replaces a good one.
                timetable = read_timetable(data, stops)
                self._zip = _Copy(data, now)
                self._timetables = {stops: (now, timetable)}
            except (OSError, httpx.HTTPError, GtfsError) as exc:
                log.warning("GTFS feed %s not loaded: %s", self._gtfs, exc)
        if self._zip is None:
            raise TransitUnavailable("the bus timetable could not be read")
        cached = self._timetables.get(stops)
        if cached is None or cached[0] != self._zip.at:
            try:
                cached = (self._zip.at, read_timetable(self._zip.data, stops))
            except GtfsError as exc:
                raise TransitUnavailable(str(exc)) from None
            self._timetables[stops] = cached
        return cached[1]

    def _current_feed(self, now: datetime) -> RealtimeFeed | None:
        if self._realtime is None:
            return None
        if self._feed_tried is None or now - self._feed_tried >= self._poll_every:
            self._feed_tried = now
            try:
                feed = parse_feed(self._fetch(self._realtime))
                # Without a header time the fetch time stands in, so an old copy kept through
                # an outage still ages.
                self._feed = feed if feed.produced_at else replace(feed, produced_at=now)
            except (OSError, httpx.HTTPError, RealtimeError) as exc:
                log.warning("GTFS-Realtime feed %s not read: %s", self._realtime, exc)
        return self._feed

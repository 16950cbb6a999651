"""A hub to test screens on: the sample territory's registry (one sensor per space), its hub
given the stops of the small GTFS network of the transit tests, served over local HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from analytics.transit.feeds import TransitFeeds
from api.display_tokens import issue_display_token
from api.services import Services
from core.clock import ManualClock
from core.config import HubSettings
from core.reading import Reading
from core.state.models import Hub, ParkingSpace
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.analytics.transit.gtfs_files import add_delay, feed_message, gtfs_zip
from tests.feed_server import FeedServer
from vigie.demo import SAMPLE_TERRITORY, load_registry

HUB = "caudry-pole-echanges"
GARE, CATEAU, THIRD = "59139-C-001", "59136-C-001", "59545-C-001"
# Monday 7 December 2026, 07:58 in Paris: line 1 leaves platform 1 at 08:00, platform 2 at 08:05.
T0 = datetime(2026, 12, 7, 6, 58, tzinfo=UTC)


@dataclass
class HubWorld:
    services: Services
    clock: ManualClock
    token: str
    feeds: FeedServer
    spaces: dict[str, list[tuple[str, bool]]]  # id_lieu -> (dev_eui, pmr) in space order

    def park(self, id_lieu: str, occupied: list[bool], at: datetime) -> None:
        """Each space of the area reports its state at ``at`` (missing spaces say nothing)."""
        readings = [
            Reading(at, dev_eui, "occupied", float(o))
            for (dev_eui, _), o in zip(self.spaces[id_lieu], occupied, strict=False)
        ]
        self.services.store.write(readings)

    def delay(self, trip_id: str, delay_s: int) -> None:
        message = feed_message(int(self.clock.now().timestamp()))
        add_delay(message, trip_id, 1, delay_s)
        self.feeds.files["/rt.pb"] = message.SerializeToString()


def hub_world(tmp_path: Path, feeds: FeedServer, settings: HubSettings) -> Iterator[HubWorld]:
    clock = ManualClock(T0)
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    store = SqliteStore(tmp_path / "series.sqlite")
    feeds.files["/gtfs.zip"] = gtfs_zip()
    feeds.files["/rt.pb"] = feed_message(int(T0.timestamp())).SerializeToString()
    transit = TransitFeeds(
        feeds.url("/gtfs.zip"),
        feeds.url("/rt.pb"),
        clock,
        poll_every=timedelta(seconds=settings.realtime_poll_s),
    )
    services = Services(store=store, state=state, clock=clock, hub=settings, transit=transit)
    load_registry(services, tmp_path, SAMPLE_TERRITORY)
    with state.session() as session:
        hub = session.scalar(select(Hub).where(Hub.code == HUB))
        assert hub is not None
        hub.stops = ["HUB"]
        session.commit()
    with state.session() as session:
        spaces: dict[str, list[tuple[str, bool]]] = {}
        for space in session.scalars(select(ParkingSpace).order_by(ParkingSpace.code)):
            assert space.device is not None
            spaces.setdefault(space.area.id_lieu, []).append((space.device.dev_eui, space.pmr))
    token = issue_display_token(state, HUB)
    yield HubWorld(services, clock, token, feeds, spaces)
    store.close()
    state.dispose()

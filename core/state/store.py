"""The relational state store: one SQLAlchemy engine (SQLite or PostgreSQL) and its migrations."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, aliased, sessionmaker

from core.state.models import Building, Device, ParkingArea, ParkingSpace, Site, Tenant

DEFAULT_URL = "sqlite:///var/vigie/state.sqlite"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_TAG_KEYS = ("tenant", "site", "building", "area", "model")

# Long IN lists are split so a query never exceeds SQLite's bound-parameter limit.
_IN_CHUNK = 5000

# Sorted keys: the same document always serialises to the same text, so SQLite's text
# comparison in the registry upsert sees "unchanged" where PostgreSQL's jsonb would.
_json_serializer = functools.partial(
    json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":")
)


class StateStore:
    """Registry, alerts and other relational state, behind one engine.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/state.sqlite`` (the parent directory is created)
    or ``postgresql+psycopg://user@host/db``. Nothing is connected until first use.
    """

    def __init__(self, url: str | URL = DEFAULT_URL, *, echo: bool = False) -> None:
        self._url = make_url(url)
        engine_args: dict[str, Any] = {"echo": echo, "json_serializer": _json_serializer}
        if self.is_sqlite:
            _create_parent_directory(self._url)
        else:
            engine_args["pool_pre_ping"] = True
        self._engine = create_engine(self._url, **engine_args)
        if self.is_sqlite:
            _configure_sqlite(self._engine, in_memory=_is_memory(self._url))
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @property
    def url(self) -> URL:
        return self._url

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return self._url.get_backend_name() == "sqlite"

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (Alembic upgrade), in one transaction."""
        from alembic import command

        with self._engine.connect() as connection:
            driver: Any = connection.connection.driver_connection
            if self.is_sqlite:
                # Batch migrations rebuild SQLite tables: dropping the old copy with foreign
                # keys enforced would cascade to child rows. Only settable outside a transaction.
                driver.execute("PRAGMA foreign_keys = OFF")
            try:
                with connection.begin():
                    command.upgrade(alembic_config(connection), revision)
                    if self.is_sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration left dangling references: {broken}")
            finally:
                if self.is_sqlite:
                    driver.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def device_tags(self, dev_euis: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """Time-series tags per DevEUI: tenant, site, building or area, model (codec id).

        Only keys with a value appear. A device's site falls back to its building's site and its
        area to the area of the space it watches. Unknown DevEUIs are absent from the answer.
        """
        query = _device_tags_query()
        rows: list[tuple[str | None, ...]] = []
        with self._engine.connect() as connection:
            if dev_euis is None:
                rows.extend(connection.execute(query))
            else:
                wanted = sorted({eui.lower() for eui in dev_euis})
                for start in range(0, len(wanted), _IN_CHUNK):
                    chunk = wanted[start : start + _IN_CHUNK]
                    rows.extend(connection.execute(query.where(Device.dev_eui.in_(chunk))))
        tags: dict[str, dict[str, str]] = {}
        for dev_eui, *values in rows:
            assert dev_eui is not None
            tags[dev_eui] = {k: v for k, v in zip(_TAG_KEYS, values, strict=True) if v}
        return tags

    def dispose(self) -> None:
        """Close pooled connections (the store stays usable and reconnects on demand)."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"StateStore({self._url.render_as_string(hide_password=True)!r})"


def alembic_config(connection: Any = None) -> Any:
    """An Alembic Config for the state migrations, with no alembic.ini needed.

    With ``connection``, env.py runs the migrations on it instead of opening its own.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _device_tags_query() -> Select[str, str, str, str, str, str]:
    """DevEUI then the values of _TAG_KEYS, in that order."""
    building_site = aliased(Site)
    space_area = aliased(ParkingArea)
    return (
        select(
            Device.dev_eui,
            Tenant.code,
            func.coalesce(Site.code, building_site.code),
            Building.code,
            func.coalesce(ParkingArea.id_lieu, space_area.id_lieu),
            Device.codec_id,
        )
        .join(Tenant, Device.tenant_id == Tenant.id)
        .outerjoin(Site, Device.site_id == Site.id)
        .outerjoin(Building, Device.building_id == Building.id)
        .outerjoin(building_site, Building.site_id == building_site.id)
        .outerjoin(ParkingArea, Device.area_id == ParkingArea.id)
        .outerjoin(ParkingSpace, ParkingSpace.device_id == Device.id)
        .outerjoin(space_area, ParkingSpace.area_id == space_area.id)
    )


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.query)


def _create_parent_directory(url: URL) -> None:
    if not _is_memory(url) and url.database and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    """Foreign keys on, WAL journal, and real transactions that take the write lock first
    (``BEGIN IMMEDIATE``, emitted by SQLAlchemy; its recipe for pysqlite)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's legacy mode does not BEGIN before SELECT or DDL: take over so reads in a
        # unit of work are consistent and migrations are transactional.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if not in_memory:
            # WAL lets the API read while ingest writes. FULL: with NORMAL, a WAL commit is
            # safe from a crash of the process but not from a power cut, and ingest tells the
            # broker a frame is durable once its dead letter (or join) is committed.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred BEGIN reads from a snapshot and upgrades to writing at its first write; if
        # another writer committed meanwhile, the upgrade fails at once with "database is
        # locked" (busy_timeout does not apply to a stale snapshot). Taking the write lock at
        # BEGIN makes writers queue within busy_timeout instead. The price: units of work on
        # one SQLite file run one at a time, reads included (PostgreSQL is for concurrency).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""SqliteStore: the embedded TimeSeriesStore, one file in WAL mode (one writer, many readers)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from core.reading import Reading
from core.retention import PurgeCounts, Retention
from core.series import (
    NS,
    FloatArray,
    Int64Array,
    SeriesGrid,
    SeriesKey,
    SeriesSet,
    from_ns,
    to_ns,
)
from core.stores import rollup, sqlite_rollups
from core.stores.rollup import DEFAULT, HOUR_NS, Partials, RollupConfig
from core.timeseries import (
    ANY_CHANNEL,
    TAG_KEYS,
    Agg,
    Selection,
    StoreError,
    StoreUnavailable,
    Tags,
    WriteResult,
)
from core.windows import parse_every, reduce, window_edges

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    quantity TEXT NOT NULL,
    channel TEXT NOT NULL,  -- '' when the reading has no channel (a Reading never has '')
    {", ".join(f"{k} TEXT" for k in TAG_KEYS)},
    UNIQUE (quantity, device, channel)
);
CREATE TABLE IF NOT EXISTS points (
    day INTEGER NOT NULL,  -- ts // 86400 s: a live network writes to the same few pages
    series_id INTEGER NOT NULL REFERENCES series (id),
    ts INTEGER NOT NULL,  -- ns since the epoch, UTC
    value REAL NOT NULL,
    PRIMARY KEY (day, series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    series_id INTEGER PRIMARY KEY REFERENCES series (id),
    ts INTEGER NOT NULL,
    value REAL NOT NULL
);
"""

_UPSERT = (
    "INSERT INTO points (day, series_id, ts, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (day, series_id, ts) DO UPDATE SET value = excluded.value"
)
_UPSERT_LATEST = (
    "INSERT INTO latest (series_id, ts, value) VALUES (?, ?, ?) "
    "ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value "
    "WHERE excluded.ts >= latest.ts"
)
log = logging.getLogger(__name__)
_DAY_NS = 86_400 * NS
_MAX_DAY_LIST = 4000  # about 11 years of days in one IN (...) list
_ROW = np.dtype([("series", np.int64), ("ts", np.int64), ("value", np.float64)])
_TAG_COLUMNS = ", ".join(TAG_KEYS)
_CHUNK = 500  # series ids per IN (...) list, well under SQLite's variable limit

_SeriesRow = tuple[int, str, str, str, dict[str, str]]  # id, device, quantity, channel, tags


def _tag_tuple(tags: Tags | None) -> tuple[str | None, ...]:
    if not tags:
        return (None,) * len(TAG_KEYS)
    return tuple(tags.get(k) for k in TAG_KEYS)


def _newest(rows: list[tuple[int, int, int, float]]) -> list[tuple[int, int, float]]:
    """The newest point of each series among rows sorted by (day, series, time)."""
    newest: dict[int, tuple[int, float]] = {}
    for _, sid, ts, value in rows:
        if sid not in newest or ts >= newest[sid][0]:
            newest[sid] = (ts, value)
    return [(sid, ts, value) for sid, (ts, value) in newest.items()]


class SqliteStore:
    """Time series in one SQLite file; the default for small communes and for the demo.

    Commits run with ``synchronous=FULL``: when ``write`` returns, the readings survive a crash of
    the process and of the machine. Each thread reads through its own connection, so API requests
    never wait for ingest.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout_s: float = 10.0,
        rollups: RollupConfig | None = DEFAULT,
    ) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._timeout_s = timeout_s
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._writer = self._connect()
        self._writer.executescript(_SCHEMA)
        self._rollups = rollups
        self._day_seen = 0  # newest local day this process wrote: older days are complete
        if rollups is not None:
            rollup.zone_ok(rollups.zone)
            fresh = not self._writer.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'rollup_dirty'"
            ).fetchone()
            with self._writer:
                self._writer.executescript(sqlite_rollups.SCHEMA)
                if fresh:
                    self._writer.execute(sqlite_rollups.MARK_EXISTING)
        # (device, quantity, channel) -> (id, the tags mapping last seen, its tag column values);
        # keeping the mapping lets the hot path compare by identity before comparing values.
        self._series: dict[tuple[str, str, str], tuple[int, Tags | None, tuple[str | None, ...]]]
        self._reload_series(self._writer)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self._path, timeout=self._timeout_s, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    # -- writing ---------------------------------------------------------------------------------

    def write(
        self, readings: Sequence[Reading], tags: Mapping[str, Tags] | None = None
    ) -> WriteResult:
        if not readings:
            return WriteResult()
        tags = tags or {}
        marks = (
            {(r.quantity, to_ns(r.time) // HOUR_NS * HOUR_NS) for r in readings}
            if self._rollups is not None
            else set()
        )
        with self._write_lock:
            conn = self._writer
            try:
                with conn:  # one transaction: all of the call or nothing
                    rows = self._points(conn, readings, tags)
                    conn.executemany(_UPSERT, rows)
                    conn.executemany(_UPSERT_LATEST, _newest(rows))
                    if marks:
                        conn.executemany(sqlite_rollups.MARK, marks)
            except sqlite3.OperationalError as exc:
                # The cache may now name series rows that the rollback removed.
                self._reload_series(conn)
                raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc
            today = self._today(marks)
            if today > self._day_seen:
                # The stream reached a new local day: roll up the days it has left behind, each
                # once (a long read rolls up what it needs first). The readings are durable and
                # their hours marked, so a failure here only delays the rollups.
                self._day_seen = today
                try:
                    self._refresh(before=today)
                except sqlite3.OperationalError as exc:
                    log.warning("rollups of %s wait for the next refresh: %s", self._path, exc)
        return WriteResult(accepted=len(readings))

    # -- rollups and retention -------------------------------------------------------------------

    def _today(self, marks: set[tuple[str, int]]) -> int:
        """Start of the local day of the newest hour marked (0 without rollups)."""
        if self._rollups is None or not self._rollups.refresh_in_writes or not marks:
            return 0
        return rollup.day_start(max(h for _, h in marks), self._rollups.zone)

    def _series_ids(self, conn: sqlite3.Connection, quantity: str) -> list[int]:
        return [s[0] for s in self._select_series(conn, Selection.of(quantity))]

    def _refresh(self, quantity: str | None = None, before: int | None = None) -> int:
        """Recompute dirty hours in one IMMEDIATE transaction; the write lock is held."""
        if self._rollups is None:
            return 0
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")  # other processes' writes wait: no mark is lost
        try:
            n = sqlite_rollups.refresh(
                conn,
                self._fetch,
                lambda q: self._series_ids(conn, q),
                self._rollups.zone,
                quantity,
                before,
            )
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return n

    def refresh_rollups(self, quantity: str | None = None) -> int:
        """Bring the rollups up to date with every reading written; returns hours recomputed."""
        with self._write_lock:
            try:
                return self._refresh(quantity)
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc

    def purge(self, retention: Retention, now: datetime) -> PurgeCounts:
        """Delete raw points and rollup rows older than each quantity's retention; returns the
        rows deleted per quantity and granularity. Hours not yet rolled up are kept whatever
        their age, and the rollups of their days too."""
        if self._rollups is None:
            raise StoreError("purging raw readings needs rollups: they are disabled")
        out: PurgeCounts = {}
        with self._write_lock:
            try:
                self._refresh()
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for quantity, keep in sorted(retention.items()):
                        mark = sqlite_rollups.oldest_mark(conn, quantity)
                        cuts = rollup.cutoffs(keep, now, self._rollups.zone, mark)
                        if cuts:
                            ids = self._series_ids(conn, quantity)
                            out[quantity] = sqlite_rollups.purge(conn, quantity, ids, cuts)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc
        return out

    def _points(
        self, conn: sqlite3.Connection, readings: Sequence[Reading], tags: Mapping[str, Tags]
    ) -> list[tuple[int, int, int, float]]:
        local: dict[tuple[str, str, str | None], int] = {}
        rows: list[tuple[int, int, int, float]] = []
        for r in readings:
            key = (r.device, r.quantity, r.channel)
            sid = local.get(key)
            if sid is None:
                sid = local[key] = self._series_id(conn, r, tags.get(r.device))
            ts = to_ns(r.time)
            rows.append((ts // _DAY_NS, sid, ts, r.value))
        # Primary-key order: inserts walk the B-tree instead of jumping between its leaves.
        rows.sort()
        return rows

    def _series_id(self, conn: sqlite3.Connection, r: Reading, tags: Tags | None) -> int:
        key = (r.device, r.quantity, r.channel or "")
        known = self._series.get(key)
        if known is not None and known[1] is tags:
            return known[0]
        tag_values = _tag_tuple(tags)
        if known is None or known[2] != tag_values:
            sid = self._upsert_series(conn, key, tag_values)
        else:
            sid = known[0]
        self._series[key] = (sid, tags, tag_values)
        return sid

    def _upsert_series(
        self, conn: sqlite3.Connection, key: tuple[str, str, str], tags: tuple[str | None, ...]
    ) -> int:
        # Same device/quantity/channel with new registry tags (a meter moved to another building)
        # keeps one series: its tags follow the registry.
        holes = ", ".join("?" * (3 + len(TAG_KEYS)))
        updates = ", ".join(f"{k} = excluded.{k}" for k in TAG_KEYS)
        cur = conn.execute(
            f"INSERT INTO series (device, quantity, channel, {_TAG_COLUMNS}) VALUES ({holes}) "
            f"ON CONFLICT (quantity, device, channel) DO UPDATE SET {updates} RETURNING id",
            (*key, *tags),
        )
        return int(cur.fetchone()[0])

    def _reload_series(self, conn: sqlite3.Connection) -> None:
        self._series = {
            (d, q, c): (sid, None, tuple(t))
            for sid, d, q, c, *t in conn.execute(
                f"SELECT id, device, quantity, channel, {_TAG_COLUMNS} FROM series"
            )
        }

    # -- reading ---------------------------------------------------------------------------------

    def _select_series(self, conn: sqlite3.Connection, sel: Selection) -> list[_SeriesRow]:
        sql = f"SELECT id, device, quantity, channel, {_TAG_COLUMNS} FROM series WHERE quantity = ?"
        args: list[object] = [sel.quantity]
        if sel.channel is not ANY_CHANNEL:
            sql += " AND channel = ?"
            args.append(sel.channel or "")
        for k, v in sel.where:
            sql += f" AND {k} = ?"  # k is checked against TAG_KEYS by Selection.of
            args.append(v)
        out: list[_SeriesRow] = []
        for sid, device, quantity, channel, *tag_values in conn.execute(sql, args):
            if sel.devices is not None and device not in sel.devices:
                continue
            tags = {k: v for k, v in zip(TAG_KEYS, tag_values, strict=True) if v is not None}
            out.append((sid, device, quantity, channel, tags))
        out.sort(key=lambda s: (s[1], s[2], s[3]))
        return out

    def _fetch(
        self, conn: sqlite3.Connection, ids: list[int], lo: int, hi: int
    ) -> tuple[Int64Array, Int64Array, FloatArray]:
        first, last = lo // _DAY_NS, (hi - 1) // _DAY_NS
        # Listing the days lets SQLite seek (day, series) pairs in the primary key instead of
        # scanning every series of each day; a very long range falls back to a range scan.
        days = list(range(first, last + 1)) if last - first < _MAX_DAY_LIST else None
        day_clause = f"day IN ({', '.join(map(str, days))})" if days else "day BETWEEN ? AND ?"
        day_args: tuple[int, ...] = () if days else (first, last)
        parts = []
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            cur = conn.execute(
                f"SELECT series_id, ts, value FROM points WHERE {day_clause} "
                f"AND series_id IN ({', '.join('?' * len(chunk))}) AND ts >= ? AND ts < ?",
                (*day_args, *chunk, lo, hi),
            )
            parts.append(np.fromiter(cur, dtype=_ROW))
        rows = np.concatenate(parts) if parts else np.empty(0, dtype=_ROW)
        return rows["series"], rows["ts"], rows["value"]

    def _read(
        self, sel: Selection, start: datetime, end: datetime
    ) -> tuple[list[_SeriesRow], Int64Array, Int64Array, FloatArray]:
        conn = self._reader()
        try:
            series = self._select_series(conn, sel)
            sids, ts, vals = self._fetch(conn, [s[0] for s in series], to_ns(start), to_ns(end))
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc
        # Points come in (day, series, time) order: sort them by series row, then time.
        position = {s[0]: i for i, s in enumerate(series)}
        rows = np.fromiter((position[s] for s in sids.tolist()), dtype=np.int64, count=len(sids))
        order = np.lexsort((ts, rows))
        rows, ts, vals = rows[order], ts[order], vals[order]
        # Like InfluxDB, a series with no point in the range is not part of the answer.
        present = np.unique(rows)
        return [series[i] for i in present.tolist()], np.searchsorted(present, rows), ts, vals

    def read(self, selection: Selection, start: datetime, end: datetime) -> SeriesSet:
        series, rows, ts, vals = self._read(selection, start, end)
        offsets = np.searchsorted(rows, np.arange(len(series) + 1)).astype(np.int64)
        return SeriesSet(
            keys=[SeriesKey(s[1], s[2], s[3] or None) for s in series],
            tags=[s[4] for s in series],
            offsets=offsets,
            times=ts,
            values=vals,
        )

    def aggregate(
        self,
        selection: Selection,
        start: datetime,
        end: datetime,
        every: str,
        agg: Agg = Agg.MEAN,
        tz: str = "UTC",
    ) -> SeriesGrid:
        agg = Agg(agg)
        step = parse_every(every)
        edges = window_edges(start, end, step, tz)
        how = None
        if self._rollups is not None:
            how = rollup.plan(selection.quantity, agg, step, edges, start, end, self._rollups)
        if how is not None:
            return self._from_rollups(selection, how, edges, agg)
        series, rows, ts, vals = self._read(selection, start, end)
        grid = reduce(ts, vals, edges, agg, rows=rows, n_rows=len(series))
        return SeriesGrid(
            keys=[SeriesKey(s[1], s[2], s[3] or None) for s in series],
            tags=[s[4] for s in series],
            starts=edges[:-1].copy(),
            ends=edges[1:].copy(),
            values=grid,
        )

    def _from_rollups(
        self, selection: Selection, how: rollup.Plan, edges: Int64Array, agg: Agg
    ) -> SeriesGrid:
        """Raw points at the ragged ends of the span, rollups of whole buckets in between."""
        self.refresh_rollups(selection.quantity)
        conn = self._reader()
        try:
            series = self._select_series(conn, selection)
            ids = [s[0] for s in series]
            parts = [
                Partials.of_points(*self._fetch(conn, ids, lo, hi))
                if kind == "raw"
                else sqlite_rollups.read_rollups(conn, kind, ids, lo, hi)
                for kind, lo, hi in how.segments
            ]
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc
        position = {sid: i for i, sid in enumerate(ids)}
        for p in parts:
            p.rows = np.fromiter(
                (position[s] for s in p.rows.tolist()), dtype=np.int64, count=len(p.rows)
            )
        return rollup.grid(
            [SeriesKey(s[1], s[2], s[3] or None) for s in series],
            [s[4] for s in series],
            Partials.concat(parts),
            edges,
            agg,
        )

    def latest(
        self, devices: Collection[str] | None = None, quantities: Collection[str] | None = None
    ) -> list[Reading]:
        sql = (
            "SELECT s.device, s.quantity, s.channel, p.ts, p.value FROM series s "
            "JOIN latest p ON p.series_id = s.id"
        )
        args: list[str] = []
        if quantities is not None:
            sql += f" WHERE s.quantity IN ({', '.join('?' * len(quantities))})"
            args.extend(quantities)
        wanted = None if devices is None else set(devices)
        try:
            cur = self._reader().execute(sql, args)
            return [
                Reading(from_ns(ts), device, quantity, value, channel or None)
                for device, quantity, channel, ts, value in cur
                if wanted is None or device in wanted
            ]
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc

    def ping(self) -> None:
        try:
            self._reader().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self._path}: {exc}") from exc

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

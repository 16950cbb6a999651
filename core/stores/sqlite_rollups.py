"""Rollup tables of the SQLite store: hourly and local-day partials, dirty hours, purges."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from core.retention import Granularity
from core.series import FloatArray, Int64Array
from core.stores.rollup import HOUR_NS, Partials, day_edges, fields_of, regroup

SCHEMA = """
CREATE TABLE IF NOT EXISTS rollup_1h (
    series_id INTEGER NOT NULL,
    t INTEGER NOT NULL,  -- bucket start, ns UTC: epoch-aligned hours
    n REAL NOT NULL, sum REAL, min REAL, max REAL, first REAL, last REAL,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_1d (
    series_id INTEGER NOT NULL,
    t INTEGER NOT NULL,  -- local midnight of the rollup zone, ns UTC
    n REAL NOT NULL, sum REAL, min REAL, max REAL, first REAL, last REAL,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;
-- Hours of a quantity written since their rollups were last computed; a purge keeps them.
CREATE TABLE IF NOT EXISTS rollup_dirty (
    quantity TEXT NOT NULL,
    hour INTEGER NOT NULL,
    PRIMARY KEY (quantity, hour)
) WITHOUT ROWID;
-- Raw points of a quantity before purged_before are gone: their rollups are all that is left.
CREATE TABLE IF NOT EXISTS rollup_state (
    quantity TEXT PRIMARY KEY,
    purged_before INTEGER NOT NULL
);
-- Rollup rows of a quantity before `before` are gone: hourly (1h) or daily (1d).
CREATE TABLE IF NOT EXISTS rollup_purged (
    quantity TEXT NOT NULL,
    tbl TEXT NOT NULL,
    before INTEGER NOT NULL,
    PRIMARY KEY (quantity, tbl)
) WITHOUT ROWID;
"""

# A database written before rollups existed: every hour holding points is to be rolled up.
MARK_EXISTING = f"""
INSERT OR IGNORE INTO rollup_dirty (quantity, hour)
SELECT DISTINCT s.quantity, p.ts - p.ts % {HOUR_NS}
FROM points p JOIN series s ON s.id = p.series_id
"""
MARK = "INSERT OR IGNORE INTO rollup_dirty (quantity, hour) VALUES (?, ?)"
_ROW = np.dtype(
    [
        (f, np.int64 if f in ("rows", "t") else np.float64)
        for f in ("rows", "t", "n", "sum", "min", "max", "first", "last")
    ]
)
_TABLES = {Granularity.HOURLY: "1h", Granularity.DAILY: "1d"}
_CHUNK = 500
log = logging.getLogger(__name__)
_RUN_HOURS = 24 * 7  # hours recomputed per read of raw points

Fetch = Callable[
    [sqlite3.Connection, list[int], int, int], tuple[Int64Array, Int64Array, FloatArray]
]


def read_rollups(
    conn: sqlite3.Connection, table: str, ids: list[int], lo: int, hi: int
) -> Partials:
    """Rollup rows of ``ids`` with bucket start in [lo, hi); ``rows`` holds series ids."""
    parts = []
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        cur = conn.execute(
            f"SELECT series_id, t, n, IFNULL(sum, 0), min, max, first, last FROM rollup_{table} "
            f"WHERE series_id IN ({', '.join('?' * len(chunk))}) AND t >= ? AND t < ?",
            (*chunk, lo, hi),
        )
        parts.append(np.fromiter(cur, dtype=_ROW))
    rows = np.concatenate(parts) if parts else np.empty(0, dtype=_ROW)
    return Partials(*(np.ascontiguousarray(rows[f]) for f in _ROW.names or ()))


def _write(
    conn: sqlite3.Connection, table: str, ids: list[int], lo: int, hi: int, p: Partials, sums: bool
) -> None:
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        conn.execute(
            f"DELETE FROM rollup_{table} WHERE series_id IN ({', '.join('?' * len(chunk))}) "
            "AND t >= ? AND t < ?",
            (*chunk, lo, hi),
        )
    sum_col: Sequence[float | None] = p.sum.tolist() if sums else [None] * len(p)
    conn.executemany(
        f"INSERT INTO rollup_{table} (series_id, t, n, sum, min, max, first, last) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        zip(
            p.rows.tolist(),
            p.t.tolist(),
            p.n.tolist(),
            sum_col,
            p.min.tolist(),
            p.max.tolist(),
            p.first.tolist(),
            p.last.tolist(),
            strict=True,
        ),
    )


def _runs(hours: list[int]) -> Iterator[tuple[int, int]]:
    """[lo, hi) ranges of consecutive sorted hours, at most _RUN_HOURS long."""
    lo = prev = hours[0]
    for h in hours[1:]:
        if h != prev + HOUR_NS or h - lo >= _RUN_HOURS * HOUR_NS:
            yield lo, prev + HOUR_NS
            lo = h
        prev = h
    yield lo, prev + HOUR_NS


def _delete_points(conn: sqlite3.Connection, ids: list[int], lo: int, hi: int) -> int:
    day = 86_400 * 1_000_000_000
    deleted = 0
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        deleted += conn.execute(
            f"DELETE FROM points WHERE day >= ? AND day <= ? AND series_id IN "
            f"({', '.join('?' * len(chunk))}) AND ts >= ? AND ts < ?",
            (lo // day, (hi - 1) // day, *chunk, lo, hi),
        ).rowcount
    return deleted


def purged_before(
    conn: sqlite3.Connection, quantity: str, granularity: Granularity = Granularity.RAW
) -> int:
    """The time (ns) before which ``quantity`` has nothing left at ``granularity``."""
    if granularity is Granularity.RAW:
        row = conn.execute(
            "SELECT purged_before FROM rollup_state WHERE quantity = ?", (quantity,)
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT before FROM rollup_purged WHERE quantity = ? AND tbl = ?",
            (quantity, _TABLES[granularity]),
        ).fetchone()
    return int(row[0]) if row else -(2**62)


def oldest_mark(conn: sqlite3.Connection, quantity: str) -> int | None:
    """The oldest hour of ``quantity`` written since its rollups were computed."""
    row = conn.execute(
        "SELECT MIN(hour) FROM rollup_dirty WHERE quantity = ?", (quantity,)
    ).fetchone()
    return None if row[0] is None else int(row[0])


def refresh(
    conn: sqlite3.Connection,
    fetch: Fetch,
    series_ids: Callable[[str], list[int]],
    zone: str,
    quantity: str | None = None,
    before: int | None = None,
) -> int:
    """Recompute the rollups of dirty hours (of ``quantity``, before ``before``); the caller
    holds the write transaction. Returns the number of hours recomputed."""
    sql = "SELECT quantity, hour FROM rollup_dirty"
    args: list[str | int] = []
    clauses = []
    if quantity is not None:
        clauses.append("quantity = ?")
        args.append(quantity)
    if before is not None:
        clauses.append("hour < ?")
        args.append(before)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    dirty: dict[str, list[int]] = {}
    for q, hour in conn.execute(sql + " ORDER BY quantity, hour", args):
        dirty.setdefault(q, []).append(hour)
    for q, hours in dirty.items():
        ids = series_ids(q)
        purged = purged_before(conn, q)
        # Hours whose hourly rows were purged: their days cannot be recomputed from them.
        gone = purged_before(conn, q, Granularity.HOURLY)
        sums = "sum" in fields_of(q)
        for lo, hi in _runs(hours):
            if lo < gone:
                late = _delete_points(conn, ids, lo, min(hi, gone))
                log.warning("%d reading(s) of %s older than its hourly rollups dropped", late, q)
                lo = min(hi, gone)
            if lo < hi:
                _refresh_run(conn, fetch, ids, lo, hi, purged, zone, sums)
        conn.executemany(
            "DELETE FROM rollup_dirty WHERE quantity = ? AND hour = ?", [(q, h) for h in hours]
        )
    return sum(len(h) for h in dirty.values())


def _refresh_run(
    conn: sqlite3.Connection,
    fetch: Fetch,
    ids: list[int],
    lo: int,
    hi: int,
    purged: int,
    zone: str,
    sums: bool,
) -> None:
    sids, ts, vals = fetch(conn, ids, lo, hi)
    order = np.lexsort((ts, sids))
    fresh = regroup(Partials.of_points(sids[order], ts[order], vals[order]))
    if lo < purged:
        # Late points in hours whose raw data was purged: add them to what the rollups kept,
        # then drop them, so that a second refresh cannot count them twice.
        old = read_rollups(conn, "1h", ids, lo, min(hi, purged))
        fresh = regroup(Partials.concat([old, fresh]))
        _delete_points(conn, ids, lo, min(hi, purged))
    _write(conn, "1h", ids, lo, hi, fresh, sums)
    days = day_edges(lo, hi, zone)
    d_lo, d_hi = int(days[0]), int(days[-1])
    hourly = read_rollups(conn, "1h", ids, d_lo, d_hi)
    _write(conn, "1d", ids, d_lo, d_hi, regroup(hourly, edges=days), sums)


def purge(
    conn: sqlite3.Connection, quantity: str, ids: list[int], cutoffs: dict[Granularity, int]
) -> dict[Granularity, int]:
    """Delete what ``quantity`` holds before each granularity's cutoff (from
    ``rollup.cutoffs``, which keeps marked hours); returns the rows deleted per granularity. The
    caller holds the write transaction and refreshed first."""
    out: dict[Granularity, int] = {}
    for g, cutoff in cutoffs.items():
        old = purged_before(conn, quantity, g)
        if cutoff <= old:
            out[g] = 0
            continue
        if g is Granularity.RAW:
            out[g] = _delete_points(conn, ids, max(old, 0), cutoff) if ids else 0
            conn.execute(
                "INSERT INTO rollup_state (quantity, purged_before) VALUES (?, ?) ON CONFLICT "
                "(quantity) DO UPDATE SET purged_before = excluded.purged_before",
                (quantity, cutoff),
            )
            continue
        table = _TABLES[g]
        out[g] = 0
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            out[g] += conn.execute(
                f"DELETE FROM rollup_{table} WHERE series_id IN ({', '.join('?' * len(chunk))}) "
                "AND t < ?",
                (*chunk, cutoff),
            ).rowcount
        conn.execute(
            "INSERT INTO rollup_purged (quantity, tbl, before) VALUES (?, ?, ?) ON CONFLICT "
            "(quantity, tbl) DO UPDATE SET before = excluded.before",
            (quantity, table, cutoff),
        )
    return out

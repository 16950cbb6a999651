"""The bulk load of the rollup bench leaves a SQLite store as write() would, rollups included."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.store_rollups import CALL, PARIS, bulk_load, fleet, months
from core.reading import Reading
from core.series import from_ns
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection

_TABLES = ("series", "points", "latest", "rollup_1h", "rollup_1d", "rollup_dirty")


def replay(src: SqliteStore, dst: SqliteStore, start: datetime, end: datetime) -> None:
    """Writes every point of ``src`` into ``dst`` through write(), time-major, then rolls up."""
    got = src.read(Selection.of("volume_m3"), start, end)
    _, tags = fleet(len(got.keys))
    readings = sorted(
        (
            Reading(from_ns(int(t)), key.device, key.quantity, float(v))
            for i, key in enumerate(got.keys)
            for t, v in zip(
                got.times[got.offsets[i] : got.offsets[i + 1]],
                got.values[got.offsets[i] : got.offsets[i + 1]],
                strict=True,
            )
        ),
        key=lambda r: (r.time, r.device),
    )
    for i in range(0, len(readings), CALL):
        dst.write(readings[i : i + CALL], tags)
    dst.refresh_rollups()


def rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}"))


def test_bulk_load_leaves_the_tables_write_would(tmp_path: Path) -> None:
    start, end = datetime(2026, 1, 30, tzinfo=PARIS), datetime(2026, 2, 2, tzinfo=PARIS)
    bulk, written = tmp_path / "bulk.sqlite", tmp_path / "written.sqlite"
    src, dst = SqliteStore(bulk), SqliteStore(written)
    load = bulk_load(src, bulk, start, end, 3)
    replay(src, dst, start, end)
    src.close()
    dst.close()

    assert load["readings"] == 3 * 72
    for table in _TABLES:
        assert rows(bulk, table) == rows(written, table), table
    assert len(rows(bulk, "rollup_1d")) == 3 * 3
    assert rows(bulk, "rollup_dirty") == []
    values = [r[3] for r in sorted(rows(bulk, "points"), key=lambda r: (r[1], r[2]))]
    assert all(a < b for a, b in pairwise(values[:72]))  # series 1: a register


def test_months_cut_the_span_at_local_midnights() -> None:
    got = list(months(datetime(2026, 1, 30, tzinfo=PARIS), datetime(2026, 3, 2, tzinfo=PARIS)))
    assert [(lo.day, lo.month, hi.day, hi.month) for lo, hi in got] == [
        (30, 1, 1, 2),
        (1, 2, 1, 3),
        (1, 3, 2, 3),
    ]

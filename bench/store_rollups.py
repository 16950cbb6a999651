"""The rollup scenario of bench/store_write.py: years of hourly water meters, raw versus rollups.

Writes ``years`` of one reading per hour per device (time-major, rollups kept up as they go)
into each store, then measures disk used by raw points and by rollups, and the time of a one-year
daily query read from raw points and from rollups (the same answers are checked), and of a purge
down to 90 days of raw. Devices are scaled down from the target (10,000) and the numbers are
extrapolated linearly in devices: every cost measured here is per series.

``--load bulk`` (SQLite only) measures the full scale instead: it fills the store's ``series``,
``points``, ``latest`` and ``rollup_dirty`` tables with set-based SQL generated inside SQLite (same
model: one reading an hour per device at minute i % 60, an increasing register; other random
draws), a local month at a time, each month followed by the store's own ``refresh_rollups()``.
That load is not the write path (``write()`` rates are measured by the other modes); everything
after it (rollups, disk, queries, purge) is the store's production code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from core.reading import Reading
from core.retention import raw_only
from core.series import NS, to_ns
from core.stores.influx import InfluxStore
from core.stores.rollup import HOUR_NS
from core.stores.sqlite import SqliteStore
from core.timeseries import Agg, Selection
from tests.services import InfluxServer

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 1, 1, tzinfo=PARIS)
CALL = 5000
KEEP_RAW = timedelta(days=90)


class SnappyInflux(InfluxServer):
    """influxd that moves its WAL into compressed TSM files after 1 s without writes, so that
    disk use is measured on compacted data, as a server settles to within minutes."""

    def configure(self) -> None:
        super().configure()
        text = self.config_path.read_text().replace(
            "  query-log-enabled = false",
            '  query-log-enabled = false\n  cache-snapshot-write-cold-duration = "1s"\n'
            '  compact-full-write-cold-duration = "5s"',
        )
        self.config_path.write_text(text)


EUI_BASE = 0x70B3D50000000000
TENANT = "ca-caudresis"


def fleet(devices: int) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Device EUIs and their registry tags: device i is in commune i % 10."""
    eui = [f"{EUI_BASE + i:016x}" for i in range(devices)]
    return eui, {d: {"tenant": TENANT, "site": f"commune-{i % 10}"} for i, d in enumerate(eui)}


def batches(years: int, devices: int) -> Iterator[tuple[list[Reading], dict[str, dict[str, str]]]]:
    """Calls of CALL readings, hour after hour: device i reads at minute i % 60."""
    eui, tags = fleet(devices)
    rng = np.random.default_rng(5)
    register = rng.uniform(10, 1000, devices)
    hours = int((START.replace(year=START.year + years) - START).total_seconds() // 3600)
    start = START.astimezone(UTC)
    minute = [timedelta(minutes=i % 60) for i in range(devices)]
    out: list[Reading] = []
    for h in range(hours):
        t = start + timedelta(hours=h)
        register += rng.exponential(0.01, devices)
        for i, d in enumerate(eui):
            out.append(Reading(t + minute[i], d, "volume_m3", round(float(register[i]), 4)))
        if len(out) >= CALL:
            yield out, tags
            out = []
    if out:
        yield out, tags


def write_all(store: Any, years: int, devices: int) -> tuple[int, float]:
    n, t0 = 0, time.perf_counter()
    for readings, tags in batches(years, devices):
        assert store.write(readings, tags).accepted == len(readings)
        n += len(readings)
    store.refresh_rollups()
    return n, time.perf_counter() - t0


def written(store: SqliteStore | InfluxStore, years: int, devices: int) -> dict[str, Any]:
    """Fills ``store`` through ``write()``, rollups kept up as they go."""
    n, write_s = write_all(store, years, devices)
    print(f"wrote {n:,} readings with rollups in {write_s:.1f} s")
    return {"readings": n, "write_points_per_s": round(n / write_s)}


# Rows in the store's schema, generated inside SQLite. Device i is series i + 1 (the order write()
# first sees them in). Register of device i at hour h: a base in [10, 1000) plus 0.01 m³/h plus a
# jitter in [0, 0.009): increments stay in (0.001, 0.019), so the register only grows.
_SERIES = f"""
WITH RECURSIVE dev(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM dev WHERE i + 1 < :devices)
INSERT INTO series (id, device, quantity, channel, tenant, site)
SELECT i + 1, printf('%016x', :eui + i), 'volume_m3', '', '{TENANT}', 'commune-' || (i % 10)
FROM dev
"""
_HOURS = "WITH RECURSIVE hour(h) AS (SELECT :h0 UNION ALL SELECT h + 1 FROM hour WHERE h + 1 < :h1)"
_POINTS = f"""
{_HOURS}
INSERT INTO points (day, series_id, ts, value)
SELECT ts / {86_400 * NS}, id, ts, value FROM (
    SELECT s.id AS id, :t0 + h * {HOUR_NS} + ((s.id - 1) % 60) * {60 * NS} AS ts,
        round(10 + (s.id * 2654435761 % 990000) / 1000.0 + 0.01 * h
            + 0.009 * ((h * 2654435761 + s.id * 40503) % 1000003) / 1000003.0, 4) AS value
    FROM hour CROSS JOIN series s  -- hour after hour, series by series: time-major
    WHERE s.quantity = 'volume_m3'
)
"""
# What write() marks: each (quantity, hour) it touched.
_DIRTY = f"""
{_HOURS}
INSERT OR IGNORE INTO rollup_dirty (quantity, hour)
SELECT 'volume_m3', :t0 + h * {HOUR_NS} FROM hour
"""
# What write() keeps in `latest`: the newest point of each series (of its last two days here).
_LATEST = """
INSERT OR REPLACE INTO latest (series_id, ts, value)
SELECT series_id, MAX(ts), value FROM points WHERE day >= :day GROUP BY series_id
"""


def months(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[lo, hi) local calendar months (the first and last possibly partial) covering the span."""
    lo = start
    while lo < end:
        first = lo.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        nxt = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        yield lo, min(nxt, end)
        lo = nxt


def bulk_load(
    store: SqliteStore, path: Path, start: datetime, end: datetime, devices: int
) -> dict[str, Any]:
    """Fills ``store`` (open on ``path``) with one reading an hour per device over [start, end),
    a local month at a time, each followed by ``store.refresh_rollups()``, as an hourly timer
    would keep up with it; returns the readings, load and refresh seconds.

    Month by month keeps the refresh's transaction, which the WAL holds until it commits, to a
    month of rollups rather than years of them (tens of GB at 10,000 devices)."""
    t0 = to_ns(start)
    assert t0 % HOUR_NS == 0, "readings start on the hour"
    n, load_s, refresh_s = 0, 0.0, 0.0
    with closing(sqlite3.connect(path, timeout=60)) as conn:
        conn.execute("PRAGMA synchronous=OFF")  # a crash only loses a bench database
        conn.execute("PRAGMA cache_size=-262144")  # a day of points of 10,000 devices, and more
        with conn:
            conn.execute(_SERIES, {"devices": devices, "eui": EUI_BASE})
        for lo, hi in months(start, end):
            hours = {"t0": t0, "h0": (to_ns(lo) - t0) // HOUR_NS, "h1": (to_ns(hi) - t0) // HOUR_NS}
            tick = time.perf_counter()
            with conn:
                conn.execute(_POINTS, hours)
                n += conn.execute("SELECT changes()").fetchone()[0]  # no rowcount after WITH
                conn.execute(_DIRTY, hours)
            tock = time.perf_counter()
            store.refresh_rollups()
            load_s += tock - tick
            refresh_s += time.perf_counter() - tock
            print(f"  {lo:%Y-%m}: {n:,} readings, load {load_s:.0f} s, refresh {refresh_s:.0f} s")
        tick = time.perf_counter()
        with conn:
            conn.execute(_LATEST, {"day": (to_ns(end) - 1) // (86_400 * NS) - 1})
        load_s += time.perf_counter() - tick
    print(
        f"bulk-loaded {n:,} readings in {load_s:.1f} s (not the write path), "
        f"rolled them up in {refresh_s:.1f} s"
    )
    return {
        "readings": n,
        "bulk_load_s": round(load_s, 1),
        "refresh_rollups_s": round(refresh_s, 1),
    }


def best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    out, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        out = min(out, time.perf_counter() - t0)
    return out, result


def one_year_daily(rollups: Any, raw: Any, years: int, repeat: int = 3) -> dict[str, Any]:
    """Daily LAST of every register over the last full year, from raw points and rollups."""
    span = (START.replace(year=START.year + years - 1), START.replace(year=START.year + years))
    sel = Selection.of("volume_m3", where={"tenant": TENANT})
    raw_s, want = best(lambda: raw.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"), repeat)
    roll_s, got = best(
        lambda: rollups.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"), repeat
    )
    same = got.keys == want.keys and np.allclose(got.values, want.values, equal_nan=True)
    return {"query_raw_s": round(raw_s, 3), "query_rollups_s": round(roll_s, 4), "same": same}


def sqlite_sizes(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        rows = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    rollup = sum(v for k, v in rows.items() if k.startswith("rollup"))
    return {
        "raw_bytes": sum(rows.values()) - rollup,
        "rollup_bytes": rollup,
        "rollup_1h_bytes": rows.get("rollup_1h", 0),
        "rollup_1d_bytes": rows.get("rollup_1d", 0),
    }


def du(path: Path) -> int:
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def influx_sizes(root: Path, db: str, rollup_rp: str) -> dict[str, int]:
    """Bytes per policy once the WAL is empty (TSM files, compressed), waiting at most 120 s."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        wal = sum(p.stat().st_size for p in (root / "wal" / db).rglob("*.wal"))
        if wal < 64 * 1024:
            break
        time.sleep(2)
    time.sleep(6)  # let the full compaction of cold shards finish
    return {
        "raw_bytes": du(root / "data" / db / "autogen") + du(root / "wal" / db / "autogen"),
        "rollup_bytes": du(root / "data" / db / rollup_rp) + du(root / "wal" / db / rollup_rp),
    }


def run_store(
    name: str,
    rollups: Any,
    raw: Any,
    years: int,
    sizes: Callable[[], dict[str, int]],
    fill: Callable[[], dict[str, Any]],
    repeat: int = 3,
) -> dict[str, Any]:
    """Fills the store, then times the one-year query, the purge and the query after it."""
    print(f"{name}:")
    row: dict[str, Any] = {"store": name, **fill()}
    row.update(one_year_daily(rollups, raw, years, repeat))
    print(f"  one-year daily query: {row}")
    row.update(sizes())
    end = START.replace(year=START.year + years)
    t0 = time.perf_counter()
    keep = {"volume_m3": KEEP_RAW} if name.startswith("sqlite") else _all(KEEP_RAW)
    rollups.purge(raw_only(keep), end)  # rollups kept: the query after reads them
    row["purge_to_90d_s"] = round(time.perf_counter() - t0, 2)
    row.update({f"{k}_after_purge": v for k, v in sizes().items()})
    span = (START.replace(year=START.year + years - 1), end)
    sel = Selection.of("volume_m3", where={"tenant": TENANT})
    row["after_purge_query_rollups_s"] = round(
        best(lambda: rollups.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"), repeat)[0], 4
    )
    return row


def _all(keep: timedelta) -> dict[str, timedelta]:
    from core.quantities import QUANTITIES

    return {q: keep for q in QUANTITIES}


def run_rollups(years: int, devices: int, target: int, influx_url: str | None) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rollups.sqlite"
        sqlite, raw = SqliteStore(path), SqliteStore(path, rollups=None)
        results.append(
            run_store(
                "sqlite",
                sqlite,
                raw,
                years,
                lambda: sqlite_sizes(path),
                lambda: written(sqlite, years, devices),
            )
        )
        sqlite.close()
        raw.close()
        server = None
        if influx_url is None:
            server = SnappyInflux(Path(tmp) / "influxd")
            server.start()
            influx_url = server.url
        try:
            influx = InfluxStore(influx_url, "rollups", timeout_s=120)
            influx.create_database()
            plain = InfluxStore(influx_url, "rollups", timeout_s=120, rollups=None)
            root = Path(tmp) / "influxd"
            results.append(
                run_store(
                    "influxdb",
                    influx,
                    plain,
                    years,
                    lambda: influx_sizes(root, "rollups", "vigie_rollups") if server else {},
                    lambda: written(influx, years, devices),
                )
            )
            influx.close()
            plain.close()
        finally:
            if server is not None:
                server.stop()
            shutil.rmtree(Path(tmp) / "influxd", ignore_errors=True)
    report(results, years, devices, target, "store_rollups.json")


def run_bulk(years: int, devices: int, tmp_dir: Path | None, repeat: int) -> None:
    """SQLite only, at full scale: bulk-loaded raw points, then the store's own code."""
    results = []
    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        path = Path(tmp) / "rollups.sqlite"
        sqlite, raw = SqliteStore(path), SqliteStore(path, rollups=None)
        end = START.replace(year=START.year + years)
        results.append(
            run_store(
                "sqlite-bulk",
                sqlite,
                raw,
                years,
                lambda: sqlite_sizes(path),
                lambda: bulk_load(sqlite, path, START, end, devices),
                repeat,
            )
        )
        sqlite.close()
        raw.close()
    print("\nraw points bulk-loaded with SQL, not written through write(); InfluxDB not run")
    report(results, years, devices, devices, "store_rollups_bulk.json")


def report(results: list[dict[str, Any]], years: int, devices: int, target: int, name: str) -> None:
    """Prints the table (and its extrapolation to ``target`` devices) and saves it as JSON."""
    scale = target / devices
    extra = [r for r in results if scale != 1]  # extrapolated columns
    head = f"\n{years} years × {devices:,} devices × 1 reading/h (measured)"
    if extra:
        head += f"; ×{scale:g} → {target:,} devices (extrapolated, linear in series)"
    print(head)
    keys = [k for k in results[0] if k != "store"]
    print(
        f"{'metric':<34}"
        + "".join(f"{r['store']:>14}" for r in results)
        + "".join(f"{r['store'] + ' @' + str(target):>20}" for r in extra)
    )
    for key in keys:
        line = f"{key:<34}" + "".join(f"{r.get(key, '')!s:>14}" for r in results)
        if ("_bytes" in key or key.endswith("_s")) and "per_s" not in key:
            line += "".join(f"{_scaled(r.get(key), scale, key):>20}" for r in extra)
        print(line)
    out = ROOT / "bench" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"years": years, "devices": devices, "target_devices": target, "results": results},
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")


def _scaled(value: Any, scale: float, key: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    v = value * scale
    return f"{v / 1e9:.2f} GB" if "_bytes" in key else f"{v:.1f} s"

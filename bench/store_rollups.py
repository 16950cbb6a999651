"""The rollup scenario of bench/store_write.py: years of hourly water meters, raw versus rollups.

Writes ``years`` of one reading per hour per device (time-major, rollups kept up as they go)
into each store, then measures disk used by raw points and by rollups, and the time of a one-year
daily query read from raw points and from rollups (the same answers are checked), and of a purge
down to 90 days of raw. Devices are scaled down from the target (10,000) and the numbers are
extrapolated linearly in devices: every cost measured here is per series.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from core.reading import Reading
from core.retention import raw_only
from core.stores.influx import InfluxStore
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


def batches(years: int, devices: int) -> Iterator[tuple[list[Reading], dict[str, dict[str, str]]]]:
    """Calls of CALL readings, hour after hour: device i reads at minute i % 60."""
    eui = [f"{0x70B3D50000000000 + i:016x}" for i in range(devices)]
    tags = {d: {"tenant": "ca-caudresis", "site": f"commune-{i % 10}"} for i, d in enumerate(eui)}
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


def best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    out, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        out = min(out, time.perf_counter() - t0)
    return out, result


def one_year_daily(rollups: Any, raw: Any, years: int) -> dict[str, Any]:
    """Daily LAST of every register over the last full year, from raw points and rollups."""
    span = (START.replace(year=START.year + years - 1), START.replace(year=START.year + years))
    sel = Selection.of("volume_m3", where={"tenant": "ca-caudresis"})
    raw_s, want = best(lambda: raw.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"))
    roll_s, got = best(lambda: rollups.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"))
    same = got.keys == want.keys and np.allclose(got.values, want.values, equal_nan=True)
    return {"query_raw_s": round(raw_s, 3), "query_rollups_s": round(roll_s, 4), "same": same}


def sqlite_sizes(path: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    rollup = sum(v for k, v in rows.items() if k.startswith("rollup"))
    return {"raw_bytes": sum(rows.values()) - rollup, "rollup_bytes": rollup}


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


def run_store(name: str, rollups: Any, raw: Any, years: int, devices: int, sizes: Any) -> dict:
    n, write_s = write_all(rollups, years, devices)
    print(f"{name}: wrote {n:,} readings with rollups in {write_s:.1f} s")
    row: dict[str, Any] = {"store": name, "readings": n, "write_points_per_s": round(n / write_s)}
    row.update(one_year_daily(rollups, raw, years))
    row.update(sizes())
    end = START.replace(year=START.year + years)
    t0 = time.perf_counter()
    keep = {"volume_m3": KEEP_RAW} if name == "sqlite" else _all(KEEP_RAW)
    rollups.purge(raw_only(keep), end)  # rollups kept: the query after reads them
    row["purge_to_90d_s"] = round(time.perf_counter() - t0, 2)
    after = sizes()
    row["raw_bytes_after_purge"] = after["raw_bytes"]
    span = (START.replace(year=START.year + years - 1), end)
    sel = Selection.of("volume_m3", where={"tenant": "ca-caudresis"})
    row["after_purge_query_rollups_s"] = round(
        best(lambda: rollups.aggregate(sel, *span, "1d", Agg.LAST, "Europe/Paris"))[0], 4
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
        results.append(run_store("sqlite", sqlite, raw, years, devices, lambda: sqlite_sizes(path)))
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
                    devices,
                    lambda: influx_sizes(root, "rollups", "vigie_rollups") if server else {},
                )
            )
            influx.close()
            plain.close()
        finally:
            if server is not None:
                server.stop()
            shutil.rmtree(Path(tmp) / "influxd", ignore_errors=True)
    scale = target / devices
    print(
        f"\n{years} years × {devices} devices × 1 reading/h (measured); ×{scale:g} → {target:,}"
        " devices (extrapolated, linear in series)"
    )
    keys = [k for k in results[0] if k != "store"]
    print(
        f"{'metric':<34}"
        + "".join(f"{r['store']:>14}" for r in results)
        + "".join(f"{r['store'] + ' @' + str(target):>20}" for r in results)
    )
    for key in keys:
        line = f"{key:<34}" + "".join(f"{r.get(key, '')!s:>14}" for r in results)
        if key.endswith(("_bytes", "_s")) and "per_s" not in key:
            line += "".join(f"{_scaled(r.get(key), scale, key):>20}" for r in results)
        print(line)
    out = ROOT / "bench" / "results" / "store_rollups.json"
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
    return f"{v / 1e9:.2f} GB" if key.endswith("_bytes") else f"{v:.1f} s"

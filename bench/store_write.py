"""Write 1,000,000 readings for 10,000 devices into each store; time writes, latest() and reads.

Usage: python bench/store_write.py [--readings N] [--devices N] [--influx-url URL]
       python bench/store_write.py --scenario rollups [--years 5] [--devices 100]
       python bench/store_write.py --scenario rollups --load bulk --devices 10000 [--tmp-dir DIR]
Without --influx-url a private influxd (Debian's influxdb package) is started in a temp dir.
Prints a table and writes bench/results/store_write.json (store_rollups.json for rollups).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.reading import Reading  # noqa: E402
from core.stores.influx import InfluxStore  # noqa: E402
from core.stores.line_protocol import LineBuilder  # noqa: E402
from core.stores.sqlite import SqliteStore  # noqa: E402
from core.timeseries import Agg, Selection, TimeSeriesStore  # noqa: E402
from tests.services import InfluxServer  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=ZoneInfo("Europe/Paris"))  # spans the October DST change
DAYS = 30
CALL = 5000  # readings per write() call, as an ingest batch would hand them over


def make_readings(n: int, devices: int) -> tuple[list[Reading], dict[str, dict[str, str]]]:
    """n readings spread evenly over 30 days for `devices` water meters of 10 communes."""
    rng = np.random.default_rng(42)
    per = n // devices
    step = timedelta(days=DAYS) / per
    eui = [f"{0x70B3D50000000000 + i:016x}" for i in range(devices)]
    tags = {
        d: {"tenant": "ca-caudresis", "site": f"commune-{i % 10}", "model": "axioma/qalcosonic-w1"}
        for i, d in enumerate(eui)
    }
    base = rng.uniform(10, 1000, devices)
    out = []
    for k in range(per):  # time-major: the order a live network delivers in
        t = START + k * step
        for i, d in enumerate(eui):
            out.append(Reading(t, d, "volume_m3", round(float(base[i]) + k * 0.013, 3)))
    return out, tags


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_store(
    name: str, store: TimeSeriesStore, readings: list[Reading], tags: Any
) -> dict[str, Any]:
    t0 = time.perf_counter()
    accepted = 0
    for i in range(0, len(readings), CALL):
        accepted += store.write(readings[i : i + CALL], tags).accepted
    write_s = time.perf_counter() - t0
    assert accepted == len(readings), f"{name}: {accepted} of {len(readings)} accepted"
    devices = sorted({r.device for r in readings})
    latest_s, latest = timed(lambda: store.latest(quantities=["volume_m3"]))
    assert len(latest) == len(devices), f"{name}: latest() gave {len(latest)} series"
    end = START + timedelta(days=DAYS)
    one = Selection.of("volume_m3", devices=[devices[0]])
    hourly_s, grid = timed(lambda: store.aggregate(one, START, end, "1h", Agg.LAST, "Europe/Paris"))
    tenant = Selection.of("volume_m3", where={"tenant": "ca-caudresis"})
    bulk_s, bulk = timed(
        lambda: store.aggregate(tenant, START, end, "1d", Agg.LAST, "Europe/Paris"), repeat=1
    )
    assert bulk.values.shape == (len(devices), DAYS), bulk.values.shape
    return {
        "store": name,
        "readings": len(readings),
        "write_s": round(write_s, 3),
        "points_per_s": round(len(readings) / write_s),
        "latest_10k_s": round(latest_s, 4),
        "hourly_30d_one_device_s": round(hourly_s, 4),
        "daily_30d_all_devices_s": round(bulk_s, 3),
        "grid_windows": int(grid.values.shape[1]),
    }


def raw_ceiling(url: str, readings: list[Reading], tags: Any) -> float:
    """Points/s of bare gzip'd 5,000-line /write calls with the line protocol prepared up front."""
    lines = LineBuilder().build(readings, tags).lines
    bodies = [
        gzip.compress("\n".join(lines[i : i + 5000]).encode(), compresslevel=1)
        for i in range(0, len(lines), 5000)
    ]
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/query", data={"q": "CREATE DATABASE raw"})
        t0 = time.perf_counter()
        for body in bodies:
            r = http.post(
                "/write",
                params={"db": "raw", "precision": "ns"},
                content=body,
                headers={"Content-Encoding": "gzip"},
            )
            r.raise_for_status()
        return len(lines) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("writes", "rollups"), default="writes")
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--devices", type=int, default=None, help="10,000; rollups: 100")
    parser.add_argument("--years", type=int, default=5, help="rollups: years of hourly data")
    parser.add_argument("--target-devices", type=int, default=10_000, help="rollups: extrapolate")
    parser.add_argument(
        "--load",
        choices=("write", "bulk"),
        default="write",
        help="rollups: through write() into both stores, or bulk SQL into SQLite at full scale",
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="rollups: where the files go")
    parser.add_argument("--repeat", type=int, default=3, help="rollups --load bulk: best of N")
    parser.add_argument("--influx-url", default=None)
    parser.add_argument("--no-rollups", action="store_true", help="writes: stores without rollups")
    args = parser.parse_args()
    if args.scenario == "rollups":
        from bench.store_rollups import run_bulk, run_rollups

        if args.load == "bulk":
            run_bulk(args.years, args.devices or 10_000, args.tmp_dir, args.repeat)
        else:
            run_rollups(args.years, args.devices or 100, args.target_devices, args.influx_url)
        return
    args.devices = args.devices or 10_000

    t0 = time.perf_counter()
    readings, tags = make_readings(args.readings, args.devices)
    print(
        f"made {len(readings):,} readings for {args.devices:,} devices in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        off: dict[str, Any] = {"rollups": None} if args.no_rollups else {}
        sqlite = SqliteStore(Path(tmp) / "bench.sqlite", **off)
        results.append(bench_store("sqlite", sqlite, readings, tags))
        sqlite.close()
        server = None
        url = args.influx_url
        if url is None:
            server = InfluxServer(Path(tmp) / "influxd")
            server.start()
            url = server.url
        try:
            influx = InfluxStore(url, "bench", timeout_s=30, **off)
            influx.create_database()
            results.append(bench_store("influxdb", influx, readings, tags))
            ceiling = raw_ceiling(url, readings, tags)
            results[-1]["raw_write_ceiling_points_per_s"] = round(ceiling)
            results[-1]["adapter_share_of_ceiling"] = round(
                results[-1]["points_per_s"] / ceiling, 3
            )
            influx.close()
        finally:
            if server is not None:
                server.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{'metric':<34}" + "".join(f"{r['store']:>16}" for r in results))
    for key in results[0]:
        if key == "store":
            continue
        print(f"{key:<34}" + "".join(f"{r.get(key, ''):>16}" for r in results))
    for key in ("raw_write_ceiling_points_per_s", "adapter_share_of_ceiling"):
        print(f"{key:<34}{'':>16}{results[-1][key]:>16}")
    print(f"peak RSS of this process: {peak_mb:.0f} MB")
    out = ROOT / "bench" / "results" / "store_write.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": results, "peak_rss_mb": round(peak_mb)}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

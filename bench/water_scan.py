"""Scan 100,000 meters x 30 days of hourly consumption with every per-meter water detector.

Usage: python bench/water_scan.py [--meters N] [--days N] [--registers N] [--leaky-pct P]
Runs the continuous-flow, night-flow and burst detectors on one seeded matrix; prints a table
of seconds and peak RSS and writes bench/results/water_scan.json. Target: <= 10 s for the three.
``--leaky-pct 100`` makes every meter leak: the continuous-flow detector then scans every meter
hour by hour instead of only those with a leaky night and a day without a zero hour.
``--registers N`` also times ``meter_hours`` (register readings to the hourly matrix, both
allocations) on N meters, in blocks of 10,000 meters so the readings fit in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.water.axis import HourlyAxis, hourly_axis  # noqa: E402
from analytics.water.building import detect_night_flow  # noqa: E402
from analytics.water.burst import detect_bursts  # noqa: E402
from analytics.water.household import detect_continuous_flow  # noqa: E402
from analytics.water.meter_hours import (  # noqa: E402
    HOUSEHOLD_HOURLY_RULES,
    RegisterRules,
    meter_hours,
)

START = datetime(2026, 10, 10, tzinfo=UTC)  # spans the October DST change
REGISTER_BLOCK = 10_000


def synth(
    meters: int, hours: int, local_hour: np.ndarray, seed: int, leaky_pct: float = 1.0
) -> np.ndarray:
    """Seeded homes: daytime use, zero nights, 2 % missing hours, ``leaky_pct`` % leaking from a
    random hour, 0.1 % with a burst (600-1,500 L/h for 3-6 h) in the last ten days."""
    rng = np.random.default_rng(seed)
    day = ((local_hour >= 7) & (local_hour <= 22)).astype(np.float32)
    x = rng.gamma(1.5, 20.0, (meters, hours)).astype(np.float32)
    x *= day[None, :]
    x[rng.random((meters, hours), dtype=np.float32) < 0.3] = 0.0
    np.round(x, out=x)
    x[rng.random((meters, hours), dtype=np.float32) < 0.02] = np.nan
    leaky = rng.choice(meters, round(meters * leaky_pct / 100), replace=False)
    onsets = rng.integers(0, hours - 72, leaky.size)
    for m, o in zip(leaky, onsets, strict=True):
        x[m, o:] += np.float32(rng.choice([5.0, 10.0, 20.0]))
    burst = rng.choice(meters, meters // 1000, replace=False)
    starts = rng.integers(max(0, hours - 240), hours - 6, burst.size)
    for m, s in zip(burst, starts, strict=True):
        x[m, s : s + int(rng.integers(3, 7))] += np.float32(rng.uniform(600.0, 1500.0))
    return x


def registers(x: np.ndarray, axis: HourlyAxis, seed: int) -> tuple[np.ndarray, ...]:
    """Hourly register readings of ``x`` at a per-meter odd minute, whole litres."""
    rng = np.random.default_rng(seed)
    m, h = x.shape
    t0 = int(axis.utc[0].astype("datetime64[s]").astype(np.int64))
    minute = np.asarray(rng.integers(1, 59, size=m), dtype=np.int64)
    t = (t0 + 60 * minute[:, None] + 3600 * np.arange(h)[None, :]).ravel()
    litres = np.nan_to_num(x, nan=0.0).astype(np.float64)
    before = np.cumsum(litres, axis=1) - litres  # drawn before the hour began
    index = np.floor(1e5 + before + litres * (minute[:, None] / 60.0))
    return np.repeat(np.arange(m), h), t, index.ravel()


def _timed(fn: Callable[[], Sized]) -> tuple[float, float, int]:
    """Wall and CPU seconds (CPU time is what a busy shared machine does not inflate)."""
    t0, c0 = time.perf_counter(), time.process_time()
    n = len(fn())
    return time.perf_counter() - t0, time.process_time() - c0, n


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--registers", type=int, default=0)
    ap.add_argument("--leaky-pct", type=float, default=1.0)
    a = ap.parse_args()
    hours = a.days * 24
    axis = hourly_axis(START, hours)
    t0 = time.perf_counter()
    x = synth(a.meters, hours, axis.local_hour, a.seed, a.leaky_pct)
    t_gen = time.perf_counter() - t0
    runs: dict[str, Callable[[], Sized]] = {
        "continuous_flow": lambda: detect_continuous_flow(x, axis.local_hour, axis.local_date),
        "night_flow": lambda: detect_night_flow(x, axis),
        "burst": lambda: detect_bursts(x, axis),
    }
    res: dict[str, Any] = {
        "meters": a.meters,
        "days": a.days,
        "input_dtype": str(x.dtype),
        "input_mb": round(x.nbytes / 2**20, 1),
        "generate_s": round(t_gen, 2),
        "leaky_meters_injected": round(a.meters * a.leaky_pct / 100),
        "burst_meters_injected": a.meters // 1000,
        "target_s": 10.0,
        "detectors": {},
    }
    print(f"{a.meters} meters x {a.days} days hourly, {x.dtype} ({res['input_mb']} MB)")
    print(f"{'detector':<18}{'wall s':>9}{'CPU s':>9}{'events':>8}{'peak RSS MB':>13}")
    total = cpu_total = 0.0
    for name, fn in runs.items():
        secs, cpu, n = _timed(fn)
        total += secs
        cpu_total += cpu
        res["detectors"][name] = {"s": round(secs, 2), "cpu_s": round(cpu, 2), "events": n}
        print(f"{name:<18}{secs:>9.2f}{cpu:>9.2f}{n:>8}{_rss_mb():>13.0f}")
    res["scan_s"] = round(total, 2)
    res["scan_cpu_s"] = round(cpu_total, 2)
    rss = _rss_mb()
    print(f"{'all three':<18}{total:>9.2f}{cpu_total:>9.2f}{'':>8}{rss:>13.0f}  (target <= 10 s)")
    if a.registers:
        res["meter_hours"] = _bench_registers(a.registers, hours, axis, a.seed)
    res["peak_rss_mb"] = round(_rss_mb(), 1)
    out = ROOT / "bench" / "results" / "water_scan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


def _bench_registers(meters: int, hours: int, axis: HourlyAxis, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"meters": meters, "readings": meters * hours}
    secs = {"uniform": 0.0, "midpoint": 0.0}
    cpu = {"uniform": 0.0, "midpoint": 0.0}
    rules = {"uniform": RegisterRules(), "midpoint": HOUSEHOLD_HOURLY_RULES}
    for lo in range(0, meters, REGISTER_BLOCK):
        n = min(REGISTER_BLOCK, meters - lo)
        m, t, v = registers(synth(n, hours, axis.local_hour, seed + lo), axis, seed + lo)
        for name, r in rules.items():
            t0, c0 = time.perf_counter(), time.process_time()
            meter_hours(m, t, v, axis, n, r, dtype=np.float32)
            secs[name] += time.perf_counter() - t0
            cpu[name] += time.process_time() - c0
    print(f"{'register readings':<21}{'wall s':>9}{'CPU s':>9}{'M readings/CPU s':>18}")
    for name, s in secs.items():
        rate = meters * hours / cpu[name] / 1e6
        out[name] = {
            "s": round(s, 2),
            "cpu_s": round(cpu[name], 2),
            "m_readings_per_cpu_s": round(rate, 2),
        }
        print(f"{'meter_hours ' + name:<21}{s:>9.2f}{cpu[name]:>9.2f}{rate:>18.2f}")
    return out


if __name__ == "__main__":
    sys.exit(main())

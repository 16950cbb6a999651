"""Scan 100,000 meters x 30 days of hourly consumption with the household leak detector.

Usage: python bench/water_scan.py [--meters N] [--days N]
Prints seconds and peak RSS; writes bench/results/water_scan.json. Target: <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.water.household import detect_continuous_flow, hourly_axis  # noqa: E402

START = datetime(2026, 10, 10, tzinfo=UTC)  # spans the October DST change


def synth(meters: int, hours: int, local_hour: np.ndarray, seed: int) -> np.ndarray:
    """Seeded homes: daytime use, zero nights, 2 % missing hours, 1 % leaking from a random hour."""
    rng = np.random.default_rng(seed)
    day = ((local_hour >= 7) & (local_hour <= 22)).astype(np.float32)
    x = rng.gamma(1.5, 20.0, (meters, hours)).astype(np.float32)
    x *= day[None, :]
    x[rng.random((meters, hours), dtype=np.float32) < 0.3] = 0.0
    np.round(x, out=x)
    x[rng.random((meters, hours), dtype=np.float32) < 0.02] = np.nan
    leaky = rng.choice(meters, meters // 100, replace=False)
    onsets = rng.integers(0, hours - 72, leaky.size)
    for m, o in zip(leaky, onsets, strict=True):
        x[m, o:] += np.float32(rng.choice([5.0, 10.0, 20.0]))
    return x


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    hours = a.days * 24
    axis = hourly_axis(START, hours)
    t0 = time.perf_counter()
    x = synth(a.meters, hours, axis.local_hour, a.seed)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    events = detect_continuous_flow(x, axis.local_hour, axis.local_date)
    t_scan = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    res = {
        "meters": a.meters,
        "days": a.days,
        "input_dtype": str(x.dtype),
        "input_mb": round(x.nbytes / 2**20, 1),
        "generate_s": round(t_gen, 2),
        "scan_s": round(t_scan, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "events": len(events),
        "leaky_meters_injected": a.meters // 100,
        "target_s": 10.0,
    }
    print(
        f"{a.meters} meters x {a.days} days: scan {t_scan:.2f} s (generate {t_gen:.2f} s), "
        f"peak RSS {rss_mb:.0f} MB, {len(events)} events"
    )
    out = ROOT / "bench" / "results" / "water_scan.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

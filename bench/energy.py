"""Fit and score the energy baselines of 1,000 buildings over a year of hourly readings.

Usage: python bench/energy.py [--buildings N] [--workers N] [--seed N]

Seeded synthetic meters on one UTC hourly axis (2025, Europe/Paris schedules, French public
holidays): a base load, an occupied load on a per-building opening schedule, heating below a
per-building balance point (steeper when open), multiplicative noise, 1 % missing hours, one
meter in ten with a gap exported as zeros and one in ten with a change of use. Each meter's
baseline is fitted on the year (default parameters: month segments, recency weights, change
of use) and then scored: predicted over the year and judged by Guideline 14. Prints seconds,
buildings per second and peak RSS, and writes bench/results/energy.json. Target: ≤ 60 s for
1,000 buildings on two cores.

BLAS threads are pinned to one per process: the solves are small (k ≈ 20), and a threaded
BLAS only fights the other process for the cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.energy.baseline import Baseline  # noqa: E402
from analytics.energy.goodness import goodness  # noqa: E402
from analytics.energy.week_hours import week_hours  # noqa: E402
from core.calendar import DayKind, FrenchCalendar  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
HOURS = (np.datetime64("2025-01-01T00", "h") + np.arange(8760)).astype("datetime64[s]")
CALENDAR = FrenchCalendar()


def public_holiday(d: date) -> bool:
    return CALENDAR.day_kind(d) is DayKind.PUBLIC_HOLIDAY


def temperature(seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 0])
    day = np.arange(HOURS.size) / 24
    front = np.convolve(rng.normal(0, 1, HOURS.size), np.ones(72) / np.sqrt(72), mode="same")
    return (
        10.5
        - 7.5 * np.cos(2 * np.pi * (day - 15) / 365)
        + 4 * np.sin(2 * np.pi * (day % 1 - 0.375))
        + 1.5 * front
    )


def meters(n: int, seed: int, t: np.ndarray) -> np.ndarray:
    """kWh of ``n`` seeded buildings (rows) over the year (columns)."""
    rng = np.random.default_rng([seed, 1])
    cal = week_hours(HOURS, PARIS, public_holiday)
    hod, dow = cal.hour_of_week % 24, cal.hour_of_week // 24
    opens = rng.integers(7, 10, n)[:, None]
    closes = rng.integers(17, 21, n)[:, None]
    days = np.where(rng.random(n) < 0.3, 6, 5)[:, None]  # some open on Saturdays
    open_ = (dow[None, :] < days) & (hod[None, :] >= opens) & (hod[None, :] < closes)
    open_ &= ~cal.holiday[None, :]
    base = rng.uniform(5, 200, n)[:, None]
    occupied = base * rng.uniform(0.5, 3.0, n)[:, None]
    balance = rng.uniform(12, 17, n)[:, None]
    slope = base * rng.uniform(0.0, 0.08, n)[:, None]
    kwh = base + occupied * open_ + slope * np.maximum(balance - t[None, :], 0) * (1 + open_)
    kwh *= rng.normal(1.0, 0.08, kwh.shape)
    kwh[rng.random(kwh.shape) < 0.01] = np.nan
    gap = rng.random(n) < 0.1
    for i in np.flatnonzero(gap):
        s = int(rng.integers(0, HOURS.size - 200))
        kwh[i, s : s + int(rng.integers(3, 200))] = 0.0
    change = rng.random(n) < 0.1
    for i in np.flatnonzero(change):
        s = int(rng.integers(60 * 24, HOURS.size - 60 * 24))
        kwh[i, s:] *= rng.uniform(0.6, 0.9)
    return np.asarray(kwh)


def fit_and_score(kwh: np.ndarray, t: np.ndarray) -> tuple[float, float, int, int]:
    """Fit and score each row; (fit seconds, score seconds, passes, changes of use found)."""
    fit_s = score_s = 0.0
    passes = shifts = 0
    for row in kwh:
        t0 = time.perf_counter()
        b = Baseline.fit(HOURS, row, t, zone=PARIS, holidays=public_holiday)
        t1 = time.perf_counter()
        g = goodness(row, b.predict(HOURS, t), 0)
        score_s += time.perf_counter() - t1
        fit_s += t1 - t0
        passes += g.passes_g14
        shifts += len(b.level_shifts)
    return fit_s, score_s, passes, shifts


def _chunk(args: tuple[int, int, int]) -> tuple[float, float, int, int]:
    n, seed, block = args
    t = temperature(seed)
    return fit_and_score(meters(n, seed * 1000 + block, t), t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buildings", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="processes (the machine has 2 cores)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    blocks = [
        args.buildings // args.workers + (k < args.buildings % args.workers)
        for k in range(args.workers)
    ]
    jobs = [(n, args.seed, k) for k, n in enumerate(blocks) if n]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            parts = list(pool.map(_chunk, jobs))
    else:
        parts = [_chunk(j) for j in jobs]
    wall = time.perf_counter() - t0
    fit_s = sum(p[0] for p in parts)
    score_s = sum(p[1] for p in parts)
    passes = sum(p[2] for p in parts)
    shifts = sum(p[3] for p in parts)
    rss_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    n = args.buildings
    result: dict[str, Any] = {
        "buildings": n,
        "hours": int(HOURS.size),
        "workers": args.workers,
        "wall_s": round(wall, 2),
        "buildings_per_s": round(n / wall, 1),
        "fit_cpu_s": round(fit_s, 2),
        "score_cpu_s": round(score_s, 2),
        "peak_rss_mb": round(rss_mb),
        "passes_g14_in_sample": passes,
        "changes_of_use_found": shifts,
        "target_s": 60,
    }
    print(f"{'buildings × hours':28s} {n} × {HOURS.size}")
    print(f"{'workers':28s} {args.workers}")
    print(f"{'wall time (s)':28s} {wall:8.1f}   target ≤ 60")
    print(f"{'buildings/s':28s} {n / wall:8.1f}")
    print(f"{'fit, summed over workers (s)':28s} {fit_s:8.1f}")
    print(f"{'score, summed (s)':28s} {score_s:8.1f}")
    print(f"{'peak RSS per process (MB)':28s} {rss_mb:8.0f}")
    print(f"{'pass G14 on the fit year':28s} {passes:5d}/{n}   changes of use found: {shifts}")
    out = ROOT / "bench" / "results" / "energy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"→ {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

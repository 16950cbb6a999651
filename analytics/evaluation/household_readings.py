"""The household rule on real homes' register readings, through ``vigie analytics household-leaks``.

Run by hand (not part of the test suite)::

    python -m analytics.evaluation.household_readings \
        ../shared/data/daiad/household_water_daiad_swm_hourly_40hh.csv

Same protocol as :mod:`analytics.evaluation.daiad_homes` (the real homes give the false-alert
rate per 100 household-days; ``trials`` copies of seeded homes per leak size get a constant leak
for a random 7-day window with >= 80 % known hours, away (± 1 day) from the home's own alerts),
but the leak goes into the *register readings* (each reading rises by the litres leaked since
the onset) and the readings go through :func:`analytics.water.household_csv.household_leaks`,
the code behind the CSV entry point: readings to hours, the rule, ``detected_at``. A leak is
found when an alert on its copy has ``detected_at`` inside the window; delay = ``detected_at`` −
onset, in hours. """

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from analytics.evaluation.daiad_homes import LEAK_HOURS, SizeResult
from analytics.water.household_csv import (
    HouseholdLeak,
    RegisterReadings,
    household_leaks,
    household_matrix,
    read_register_csv,
)

WINDOW = timedelta(hours=LEAK_HOURS)


def evaluate_readings(
    readings: RegisterReadings,
    sizes: tuple[float, ...] = (5.0, 10.0, 20.0),
    trials: int = 200,
    seed: int = 2016,
) -> dict[str, Any]:
    """Run the protocol of the module docstring and return every number as a dict."""
    hours = household_matrix(readings)
    valid = np.isfinite(hours.volume_l)
    hour0 = int(hours.axis.utc[0].astype("datetime64[s]").astype(np.int64))
    hh_days = float(valid.sum() / 24.0)
    baseline = household_leaks(readings)
    busy = np.zeros_like(valid)
    index = {h: k for k, h in enumerate(readings.household_ids)}
    for e in baseline:
        a = (int(e.start.timestamp()) - hour0) // 3600 - 24
        b = busy.shape[1] if e.end is None else (int(e.end.timestamp()) - hour0) // 3600 + 24
        busy[index[e.household_id], max(a, 0) : b] = True
    rng = np.random.default_rng(seed)
    meters: list[np.ndarray] = []
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    meta: list[tuple[float, datetime]] = []
    n_m, n_h = valid.shape
    for size in sizes:
        done = 0
        while done < trials:
            home = int(rng.integers(n_m))
            onset = int(rng.integers(24, n_h - LEAK_HOURS - 24))
            win = slice(onset, onset + LEAK_HOURS)
            if valid[home, win].mean() < 0.8 or busy[home, win].any():
                continue
            mine = readings.meter == home
            t = readings.time_utc_s[mine]
            t0 = hour0 + 3600 * onset
            leaked = size * np.clip(t - t0, 0, LEAK_HOURS * 3600) / 3600.0
            meters.append(np.full(t.size, len(meta), dtype=np.int64))
            times.append(t)
            values.append(readings.index_l[mine] + leaked)
            meta.append((size, datetime.fromtimestamp(t0, UTC)))
            done += 1
    copies = RegisterReadings(
        [f"copy{k}" for k in range(len(meta))],
        np.concatenate(meters),
        np.concatenate(times),
        np.concatenate(values),
    )
    found = household_leaks(copies)
    return {
        "households": len(readings.household_ids),
        "household_days": round(hh_days, 1),
        "false_alerts": len(baseline),
        "false_alerts_per_100_hh_days": 100.0 * len(baseline) / hh_days,
        "homes_with_false_alert": len({e.household_id for e in baseline}),
        "sizes": [asdict(r) for r in _score(found, meta, sizes)],
    }


def _score(
    events: list[HouseholdLeak], meta: list[tuple[float, datetime]], sizes: tuple[float, ...]
) -> list[SizeResult]:
    by_copy: dict[int, list[HouseholdLeak]] = {}
    for e in events:
        by_copy.setdefault(int(e.household_id.removeprefix("copy")), []).append(e)
    out = []
    for size in sizes:
        delays: list[float] = []
        onsets: list[float] = []
        flows: list[float] = []
        n = 0
        for k, (s, onset) in enumerate(meta):
            if s != size:
                continue
            n += 1
            hits = [e for e in by_copy.get(k, []) if onset <= e.detected_at < onset + WINDOW]
            if hits:
                e = min(hits, key=lambda x: x.detected_at)
                delays.append((e.detected_at - onset) / timedelta(hours=1))
                onsets.append((e.start - onset) / timedelta(hours=1))
                flows.append(100.0 * (e.flow_lph_estimate - size) / size)
        out.append(SizeResult.of(size, n, delays, onsets, flows))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("csv", type=Path)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    res = evaluate_readings(read_register_csv(a.csv), trials=a.trials, seed=a.seed)
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

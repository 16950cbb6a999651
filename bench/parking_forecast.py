"""Free spaces at 15/30/60 min: profile + decaying anomaly beside persistence and the time-of-week
mean, on the simulator's carpool areas and on the Birmingham car parks.

Usage: python bench/parking_forecast.py [--birmingham CSV] [--test-weeks 3] [--seeds 1-3]

- Birmingham (UCI "Parking Birmingham", 30 car parks, Oct-Dec 2016, ~30-minute samples
  08:00-16:30; default ``../shared/data/parking/parking_birmingham_uci_2016.csv`` beside the
  repository, skipped when absent). The raw file keeps its faults: rows repeated at one instant
  (the last one counts), occupancy above capacity or below zero (clipped to [0, capacity]: a
  screen shows no negative free count; how many is printed).
- Simulator: carpool areas of 24, 60 and 150 spaces (commuter shares 0.5-0.8) for 10 weeks
  from 2024-01-08, the free count every 5 minutes straight from the parking model
  (:func:`simulator.parking.simulate_area`), origins every 15 minutes.

Each area: the model and the time-of-week mean learn on everything before the last
``--test-weeks`` weeks and stay fixed; the test reads the series causally (an origin knows only
its own sample). The truth at ``t + h`` is the series interpolated between the samples around it
(none across a gap over an hour: not overnight). MAE in spaces, over every (area, origin) pair
that has a truth, the same pairs for the three forecasts. Prints the tables, writes
bench/results/parking_forecast.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.parking.forecast import HORIZONS_MIN, ForecastModel, value_at  # noqa: E402
from analytics.parking.week import country_holidays  # noqa: E402
from core.calendar import FrenchCalendar  # noqa: E402
from core.series import FloatArray  # noqa: E402
from simulator.parking import STEP, simulate_area  # noqa: E402
from simulator.territory import Area, SimDevice, Space  # noqa: E402

BIRMINGHAM = ROOT.parent / "shared" / "data" / "parking" / "parking_birmingham_uci_2016.csv"
MAX_GAP_S = 3600.0
SIM_START = datetime(2024, 1, 8, tzinfo=UTC)
SIM_DAYS = 70
SIM_AREAS = ((24, 0.5), (60, 0.65), (150, 0.8))
WIDTHS = (8, 12, 13, 8, 7, 7)


@dataclass(frozen=True)
class Series:
    name: str
    capacity: int
    t: FloatArray  # Unix seconds, sorted, unique
    free: FloatArray  # free spaces
    zone: str
    holidays: str  # the country whose public holidays count as Sundays


def read_birmingham(path: Path) -> tuple[list[Series], dict[str, int]]:
    rows: dict[str, dict[float, tuple[int, int]]] = defaultdict(dict)
    faults = {"rows": 0, "repeated_instant": 0, "above_capacity": 0, "negative": 0}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            faults["rows"] += 1
            # Local (UK) wall time, kept as such: slots are wall-clock slots, no DST shift.
            t = datetime.fromisoformat(row["LastUpdated"]).replace(tzinfo=UTC).timestamp()
            cap, occ = int(row["Capacity"]), int(row["Occupancy"])
            faults["repeated_instant"] += t in rows[row["SystemCodeNumber"]]
            faults["above_capacity"] += occ > cap
            faults["negative"] += occ < 0
            rows[row["SystemCodeNumber"]][t] = (cap, occ)
    out = []
    for name, by_t in sorted(rows.items()):
        ts = np.array(sorted(by_t))
        cap = max(c for c, _ in by_t.values())
        occupied = [min(max(by_t[t][1], 0), cap) for t in ts.tolist()]
        free = cap - np.array(occupied, dtype=np.float64)
        out.append(Series(name, cap, ts, free, "UTC", "GB"))
    return out, faults


def simulated(seed: int) -> list[Series]:
    calendar = FrenchCalendar()
    out = []
    for n, share in SIM_AREAS:
        code = f"sim-{n}"
        spaces = tuple(
            Space(
                f"{code}-{i}",
                code,
                i == 0,
                SimDevice(f"{i:016x}", "x", "parking_space", "t", "", 0, ""),
            )
            for i in range(n)
        )
        area = Area(code, "t", code, "59139", "aire", 3.4, 50.1, 1, share, spaces)
        occ = np.stack(list(simulate_area(area, SIM_START, SIM_DAYS, seed, calendar).values()))
        t = SIM_START.timestamp() + STEP.total_seconds() * np.arange(occ.shape[1], dtype=np.float64)
        out.append(Series(f"{code}/s{seed}", n, t, n - occ.sum(axis=0), "Europe/Paris", "FR"))
    return out


def evaluate(series: list[Series], test_weeks: int, every_s: float | None) -> dict[str, Any]:
    """MAE (spaces) per horizon of the model and both references, and the fitted φ."""
    errors: dict[int, dict[str, list[FloatArray]]] = {h: defaultdict(list) for h in HORIZONS_MIN}
    phis: dict[str, dict[int, float]] = {}
    for s in series:
        split = s.t[-1] - test_weeks * 7 * 86_400
        train = s.t < split
        share = s.free / s.capacity
        model = ForecastModel.fit(
            s.t[train],
            share[train],
            s.zone,
            max_gap_s=MAX_GAP_S,
            holidays=country_holidays(s.holidays),
        )
        phis[s.name] = dict(model.phi)
        origins = np.flatnonzero(~train)
        if every_s is not None:
            origins = origins[(s.t[origins] - s.t[origins[0]]) % every_s == 0]
        t0, x0 = s.t[origins], share[origins]
        for h in HORIZONS_MIN:
            truth = value_at(s.t, share, t0 + 60.0 * h, MAX_GAP_S)
            ok = np.isfinite(truth)
            tow = model.profile.at(t0 + 60.0 * h)
            tow = np.where(np.isfinite(tow), tow, x0)
            guesses = {
                "persistence": x0,
                "time_of_week": tow,
                "profile_anomaly": model.predict_share(t0, x0, h),
            }
            for name, g in guesses.items():
                errors[h][name].append(np.abs(g[ok] - truth[ok]) * s.capacity)
    table: dict[str, Any] = {}
    for h in HORIZONS_MIN:
        mae = {name: float(np.mean(np.concatenate(e))) for name, e in errors[h].items()}
        best_ref = min(mae["persistence"], mae["time_of_week"])
        table[f"{h}min"] = {
            **{k: round(v, 3) for k, v in mae.items()},
            "pairs": int(sum(len(e) for e in errors[h]["persistence"])),
            "gain_vs_best_reference_pct": round(100 * (1 - mae["profile_anomaly"] / best_ref), 1),
        }
    return {"mae_spaces": table, "phi": phis}


def print_table(title: str, res: dict[str, Any]) -> None:
    print(f"\n{title}")
    head = ("horizon", "persistence", "time-of-week", "model", "gain", "pairs")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, WIDTHS, strict=True)))
    for h, row in res["mae_spaces"].items():
        cells = (
            h,
            f"{row['persistence']:.2f}",
            f"{row['time_of_week']:.2f}",
            f"{row['profile_anomaly']:.2f}",
            f"{row['gain_vs_best_reference_pct']:.1f}%",
            row["pairs"],
        )
        print(" ".join(f"{c:>{w}}" for c, w in zip(cells, WIDTHS, strict=True)))


def _seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--birmingham", type=Path, default=BIRMINGHAM)
    ap.add_argument("--test-weeks", type=int, default=3)
    ap.add_argument("--seeds", default="1-3")
    args = ap.parse_args()
    res: dict[str, Any] = {"test_weeks": args.test_weeks, "horizons_min": list(HORIZONS_MIN)}
    sim = [s for seed in _seeds(args.seeds) for s in simulated(seed)]
    res["simulator"] = evaluate(sim, args.test_weeks, every_s=900.0)
    print_table(
        f"Simulator: {len(sim)} areas x {SIM_DAYS} days, MAE in free spaces", res["simulator"]
    )
    if args.birmingham.exists():
        series, faults = read_birmingham(args.birmingham)
        res["birmingham"] = evaluate(series, args.test_weeks, every_s=None)
        res["birmingham"]["raw_faults"] = faults
        print_table(f"Birmingham: {len(series)} car parks, MAE in free spaces", res["birmingham"])
        print(f"raw faults kept in the file (clipped or last-wins): {faults}")
    else:
        print(f"\nBirmingham: {args.birmingham} absent, skipped")
    out = ROOT / "bench" / "results" / "parking_forecast.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\n→ {out}")


if __name__ == "__main__":
    main()

"""The energy_deviation detector as the watch runs it, on a seeded synthetic school.

Usage: python bench/energy_deviation_detector.py [--seed 4] [--step-days 4]

One school (zone B, gas heating at the Code de l'énergie setpoints, electricity, 3 % meter
noise) from 1 January 2024 for 560 days. Passes with a 400-day window end every
``--step-days`` from 4 February to 15 July 2025 (school holidays, public holidays and bridges
included):

- clean: findings per pass, by alert type;
- +30 % on one register for the 7 days before the pass (electricity, then gas): passes whose
  finding names that register as an excess, the median of reported ÷ injected kWh and of the
  delay from the fault's start to its detection.

Synthetic, not calibration: the real-data figures of the scoring are in
docs/decisions/014-energy-anomalies.md. Prints a table and writes
bench/results/energy_deviation_detector.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics.detectors.energy_deviation import DETECTOR, EnergyDeviationParams  # noqa: E402
from tests.analytics.detectors.energy_cases import one_pass, school  # noqa: E402

WEEK_H = 7 * 24


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--step-days", type=int, default=4)
    args = ap.parse_args()
    b = school(datetime(2024, 1, 1, tzinfo=UTC), 560, seed=args.seed)
    rng = np.random.default_rng(args.seed + 100)
    b = dataclasses.replace(b, kwh=b.kwh * rng.normal(1.0, 0.03, b.kwh.shape))
    params = EnergyDeviationParams()
    ends = range(400, 560, args.step_days)
    clean: Counter[str] = Counter()
    caught = {0: 0, 1: 0}
    ratios: dict[int, list[float]] = {0: [], 1: []}
    delays: dict[int, list[float]] = {0: [], 1: []}
    t0 = time.perf_counter()
    for end_day in ends:
        w = b.window(0, end_day * 24)
        for f in DETECTOR.detect(one_pass(w, params, days=400)).findings:
            clean[f.type] += 1
        for r in (0, 1):
            kwh = w.kwh.copy()
            injected = 0.3 * float(np.nansum(kwh[r, -WEEK_H:]))
            kwh[r, -WEEK_H:] *= 1.3
            found = DETECTOR.detect(
                one_pass(dataclasses.replace(w, kwh=kwh), params, days=400)
            ).findings
            hits = [
                f
                for f in found
                if f.type == "energy_excess" and f.evidence["device"] == w.registers[r].device
            ]
            if hits:
                caught[r] += 1
                e = hits[0].evidence
                ratios[r].append(e["excess_kwh"] / injected)
                start_s = int(w.hours_ns[-WEEK_H]) // 10**9
                detected = datetime.fromisoformat(e["detected_at"]).timestamp()
                delays[r].append((detected - start_s) / 3600)
    seconds = time.perf_counter() - t0
    passes = len(ends)
    rows = {
        "passes": passes,
        "clean_findings": dict(clean),
        "seconds_per_pass_2_registers": round(seconds / (3 * passes), 2),
    }
    print(f"{passes} passes (400-day windows), {rows['seconds_per_pass_2_registers']} s a pass")
    print(f"clean school: {dict(clean) or 'no finding'}")
    print(f"{'+30 % week on':<14} {'caught':>8} {'est/added':>10} {'delay h':>8}")
    for r, name in ((0, "electricity"), (1, "gas")):
        ratio = statistics.median(ratios[r]) if ratios[r] else float("nan")
        delay = statistics.median(delays[r]) if delays[r] else float("nan")
        print(f"{name:<14} {caught[r]:>4}/{passes:<3} {ratio:>10.2f} {delay:>8.0f}")
        rows[name] = {"caught": caught[r], "est_over_added": ratio, "delay_h": delay}
    out = ROOT / "bench" / "results" / "energy_deviation_detector.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

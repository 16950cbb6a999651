"""Sector leaks: the detector beside the daily-mean reference, on L-Town and on the simulator.

Usage: python bench/sector_leaks.py [--ltown DIR] [--tune 1-20] [--hold 21-40] [--sectors N]

- L-Town 2019 H1 (BattLeDIM 2020, ``DIR`` holds ``ltown_inflow_2019_h1.csv`` and
  ``ltown_leaks_2018_2019h1.csv``; default ``../shared/data/water_network`` beside the
  repository, skipped when absent): the inflow goes through ``vigie analytics sector-leaks``'s
  own code (:func:`analytics.water.sector_csv.sector_leaks_csv`, events read back from its
  CSV) and is scored by :mod:`analytics.evaluation.district`: leaks found of those
  starting in 2019 (onset from 24 h before to 7 days after the start, ``detected_at`` within 7
  days), false alarms, late events (after 7 days, or while an incipient leak grows), median
  delay from ``detected_at``; whole half-year, then January-April (to tune) and May-June.
- Simulator: a year of the sample territory's two sectors per seed (households, public
  buildings and network, :func:`simulator.physics.simulate_physics`, straight from the physics:
  no radio, no ingest; ``vigie evaluate water`` adds those), scored by
  :mod:`analytics.evaluation.sector`: recall within 7 days of the leaks a week can show
  and of every leak >= 2 % of the inflow, false alarms per sector-month, median delay; seeds
  to tune and seeds held out.
- Speed: the detector on ``--sectors`` sectors x 35 days of 15-minute inflow (the watch's
  window).

Prints the tables and writes bench/results/sector_leaks.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.evaluation.district import (  # noqa: E402
    DistrictScore,
    daily_mean_rule,
    read_leak_labels,
    score_district,
)
from analytics.evaluation.sector import (  # noqa: E402
    Event,
    InjectedLeak,
    SectorEvaluation,
    SectorInflow,
    evaluate_sector_detector,
    sector_detector,
)
from analytics.water.sector import SectorLeakParams, detect_sector_leaks  # noqa: E402
from analytics.water.sector_csv import read_inflow_csv, sector_leaks_csv  # noqa: E402
from analytics.water.sector_days import sector_days  # noqa: E402
from core.calendar import FrenchCalendar  # noqa: E402
from core.series import NS, from_ns, to_ns  # noqa: E402
from simulator.physics import simulate_physics  # noqa: E402
from simulator.territory_file import SAMPLE_TERRITORY, load_territory  # noqa: E402

LTOWN = ROOT.parent / "shared" / "data" / "water_network"
INFLOW, LABELS = "ltown_inflow_2019_h1.csv", "ltown_leaks_2018_2019h1.csv"
SIM_START = datetime(2025, 1, 1, tzinfo=UTC)
Detector = Callable[[SectorInflow], Sequence[Event]]
# The rule without its fast test within the day (the day-and-night rule alone, decision 009).
DAILY = SectorLeakParams(fast_hours=0)


def reference(inflow: SectorInflow) -> Sequence[Event]:
    return daily_mean_rule(inflow.times_ns, inflow.flow_m3h)


@dataclass(frozen=True)
class LtownResult:
    name: str
    part: str
    score: DistrictScore

    def row(self) -> dict[str, Any]:
        s = self.score
        return {
            "detector": self.name,
            "part": self.part,
            "found": s.found,
            "leaks": s.leaks,
            "false_alarms": len(s.false_alarms),
            "late": len(s.late),
            "duplicates": len(s.duplicates),
            "median_delay_h": s.median_delay_h,
            "leaks_found": [o.leak.leak_id for o in s.outcomes if o.found],
            "false_alarm_onsets": [e.start.isoformat() for e in s.false_alarms],
        }


def ltown(folder: Path) -> list[LtownResult]:
    labels = read_leak_labels(folder / LABELS)
    with tempfile.TemporaryDirectory() as tmp:
        vigie = sector_leaks_csv(folder / INFLOW, Path(tmp) / "events.csv")
        daily = sector_leaks_csv(folder / INFLOW, Path(tmp) / "daily.csv", params=DAILY)
    times, flow = read_inflow_csv(folder / INFLOW)
    plain = daily_mean_rule(times, flow)
    first = datetime(2019, 1, 1, tzinfo=UTC)
    cut = datetime(2019, 5, 1, tzinfo=UTC)
    last = from_ns(int(times.max()))
    out = []
    runs = (("vigie sector rule", vigie), ("without fast test", daily))
    for name, events in (*runs, ("daily-mean reference", plain)):
        for part, since, until in (
            ("2019 H1", first, last),
            ("Jan-Apr", first, cut - timedelta(microseconds=1)),
            ("May-Jun", cut, last),
        ):
            out.append(LtownResult(name, part, score_district(events, labels, since, until)))
    return out


def seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def simulated(seed: int) -> tuple[list[SectorInflow], list[InjectedLeak]]:
    run = simulate_physics(load_territory(SAMPLE_TERRITORY), SIM_START, 365, seed, FrenchCalendar())
    inflows = []
    for code, s in run.sectors.items():
        t = to_ns(SIM_START) + np.arange(s.inflow_m3.size, dtype=np.int64) * 900 * NS
        inflows.append(SectorInflow(f"{code}#{seed}", t, s.inflow_m3 * 4.0))
    leaks = []
    for f in run.faults:
        if f.kind not in ("sector_leak", "burst"):
            continue
        kind = str(f.details.get("onset", "abrupt")) if f.kind == "sector_leak" else "burst"
        peak = f.details.get("peak")
        leaks.append(
            InjectedLeak(
                f"{f.subject}#{seed}",
                f.start,
                f.end,
                float(f.magnitude or 0.0),
                kind,
                datetime.fromisoformat(str(peak)) if peak else None,
            )
        )
    return inflows, leaks


def simulator(runs: list[int], detectors: dict[str, Detector]) -> dict[str, SectorEvaluation]:
    inflows: list[SectorInflow] = []
    leaks: list[InjectedLeak] = []
    for seed in runs:
        i, lk = simulated(seed)
        inflows += i
        leaks += lk
    return {name: evaluate_sector_detector(inflows, leaks, d) for name, d in detectors.items()}


def sim_row(name: str, part: str, ev: SectorEvaluation) -> dict[str, Any]:
    v, a = ev.by_kind["visible"], ev.by_kind["all"]
    return {
        "detector": name,
        "part": part,
        "visible": v.eligible,
        "recall_visible": v.recall,
        "leaks": a.eligible,
        "recall_all": a.recall,
        "recall_abrupt": ev.by_kind["abrupt"].recall,
        "recall_incipient": ev.by_kind["incipient"].recall,
        "false_alarms": ev.false_alarms,
        "false_alarms_per_sector_month": ev.false_alarms_per_sector_month,
        "median_delay_h": v.median_delay_h,
        "median_flow_error_pct": v.median_flow_error_pct,
        "sector_months": ev.sector_months,
    }


def speed(sectors: int) -> dict[str, Any]:
    """The detector on ``sectors`` windows of 35 days of 15-minute inflow (the watch's pass)."""
    inflows, _ = simulated(7)
    windows = []
    for k in range(sectors):
        inflow = inflows[k % len(inflows)]
        a = (k * 5 % 300) * 96
        windows.append((inflow.times_ns[a : a + 35 * 96], inflow.flow_m3h[a : a + 35 * 96]))
    t0, c0 = time.perf_counter(), time.process_time()
    for t, f in windows:
        detect_sector_leaks(sector_days(t, f))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"sectors": sectors, "days": 35, "s": round(wall, 3), "cpu_s": round(cpu, 3)}


def _f(x: float | int | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--ltown", type=Path, default=LTOWN)
    ap.add_argument("--tune", default="1-20")
    ap.add_argument("--hold", default="21-40")
    ap.add_argument("--sectors", type=int, default=100)
    a = ap.parse_args()
    res: dict[str, Any] = {"ltown": [], "simulator": []}
    if (a.ltown / INFLOW).exists() and (a.ltown / LABELS).exists():
        rows = [r.row() for r in ltown(a.ltown)]
        res["ltown"] = rows
        print(f"L-Town (BattLeDIM 2020), {a.ltown}")
        print(f"{'detector':<22}{'part':<9}{'found':>7}{'false al.':>10}{'late':>6}"
              f"{'dupl.':>6}{'median h':>10}  leaks found")  # fmt: skip
        for r in rows:
            print(
                f"{r['detector']:<22}{r['part']:<9}{r['found']:>4}/{r['leaks']:<2}"
                f"{r['false_alarms']:>10}{r['late']:>6}{r['duplicates']:>6}"
                f"{_f(r['median_delay_h'], '.1f'):>10}  {' '.join(r['leaks_found'])}"
            )
    else:
        print(f"L-Town data not found in {a.ltown}: skipped")
    detectors: dict[str, Detector] = {
        "vigie sector rule": sector_detector(),
        "without fast test": sector_detector(DAILY),
        "daily-mean reference": reference,
    }
    print("\nsimulator (sample territory, 2 sectors a seed, a year each)")
    print(f"{'detector':<22}{'seeds':<7}{'visible':>8}{'recall':>7}{'every':>7}{'recall':>7}"
          f"{'abrupt':>7}{'incip.':>7}{'FA/s-m':>7}{'median h':>9}{'flow err %':>11}")  # fmt: skip
    for part, runs in (("tune " + a.tune, seeds(a.tune)), ("hold " + a.hold, seeds(a.hold))):
        for name, ev in simulator(runs, detectors).items():
            r = sim_row(name, part, ev)
            res["simulator"].append(r)
            print(
                f"{name:<22}{part.split()[1]:<7}{r['visible']:>8}"
                f"{_f(r['recall_visible'], '.3f'):>7}{r['leaks']:>7}{_f(r['recall_all'], '.3f'):>7}"
                f"{_f(r['recall_abrupt'], '.3f'):>7}{_f(r['recall_incipient'], '.3f'):>7}"
                f"{r['false_alarms_per_sector_month']:>7.2f}{_f(r['median_delay_h'], '.1f'):>9}"
                f"{_f(r['median_flow_error_pct'], '+.0f'):>11}"
            )
    res["speed"] = speed(a.sectors)
    s = res["speed"]
    print(f"\nspeed: {s['sectors']} sectors x {s['days']} days: {s['s']} s ({s['cpu_s']} s CPU)")
    out = ROOT / "bench" / "results" / "sector_leaks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

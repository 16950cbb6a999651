"""Evaluate the household continuous-flow detector on real DAIAD homes with injected leaks.

Run by hand (not part of the test suite)::

    python -m analytics.evaluation.daiad_homes \
        ../shared/data/daiad/household_water_daiad_swm_hourly_40hh.csv

Protocol: the real homes, unmodified, give the false-alert rate (every alert on them is outside
an injected leak) per 100 observed household-days (valid hours / 24).  Then, for each leak size,
``trials`` copies of randomly chosen (seeded) homes get a constant leak added to every valid hour
of a random 7-day window; windows need >= 80 % valid hours and must not overlap (± 1 day) an
alert already raised on the unmodified home.  A leak is found when an alert on its copy fires
inside the window; delay = alert hour - leak onset.  The naive 24-hour rule (complete local days
without a zero hour), a plain 48-hour rule and the rule without its one-night branch (rule 5a
alone: two leaky nights) are computed as references.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.water.daiad import HourlyMatrix, load_daiad_hourly
from analytics.water.household import (
    ContinuousFlowEvent,
    ContinuousFlowParams,
    detect_continuous_flow,
)

LEAK_HOURS = 7 * 24
PLAIN_48H = ContinuousFlowParams(
    min_night_flow_lph=0.0, min_nights=0, min_run_valid_hours=48, steady_run_valid_hours=None
)


@dataclass(frozen=True)
class SizeResult:
    leak_lph: float
    injected: int
    found: int
    recall: float
    median_delay_h: float | None
    median_onset_error_h: float | None
    median_flow_error_pct: float | None

    @classmethod
    def of(
        cls,
        leak_lph: float,
        injected: int,
        delays: Sequence[float],
        onsets: Sequence[float],
        flows: Sequence[float],
    ) -> SizeResult:
        """The result for one leak size from the found leaks' delays, onset and flow errors."""

        def median(xs: Sequence[float]) -> float | None:
            return float(np.median(xs)) if xs else None

        return cls(
            leak_lph=leak_lph,
            injected=injected,
            found=len(delays),
            recall=len(delays) / injected if injected else 0.0,
            median_delay_h=median(delays),
            median_onset_error_h=median(onsets),
            median_flow_error_pct=median(flows),
        )


def naive_24h_rate(m: HourlyMatrix) -> tuple[float, float, int]:
    """Share of complete local household-days without a zero hour; share of homes ever firing."""
    dates = m.axis.local_date
    _dates, first, counts = np.unique(dates, return_index=True, return_counts=True)
    valid = np.isfinite(m.flow) & (m.flow >= 0)
    zero = valid & (m.flow < 0.5)
    nv = np.add.reduceat(valid, first, axis=1)
    nz = np.add.reduceat(zero, first, axis=1)
    complete = nv == counts[None, :]
    fire = complete & (nz == 0)
    return float(fire.sum() / complete.sum()), float(fire.any(axis=1).mean()), int(complete.sum())


def _inject(
    base: NDArray[np.float64],
    baseline: list[ContinuousFlowEvent],
    sizes: list[float],
    trials: int,
    seed: int,
) -> tuple[NDArray[np.float64], list[tuple[float, int, int]]]:
    rng = np.random.default_rng(seed)
    n_m, n_h = base.shape
    busy = np.zeros_like(base, dtype=bool)
    for e in baseline:
        busy[e.meter, max(0, e.start - 24) : (n_h if e.end is None else e.end + 24)] = True
    valid = np.isfinite(base)
    rows: list[NDArray[np.float64]] = []
    meta: list[tuple[float, int, int]] = []
    for size in sizes:
        done = 0
        while done < trials:
            home = int(rng.integers(n_m))
            onset = int(rng.integers(24, n_h - LEAK_HOURS - 24))
            win = slice(onset, onset + LEAK_HOURS)
            if valid[home, win].mean() < 0.8 or busy[home, win].any():
                continue
            row = base[home].copy()
            row[win] = row[win] + size
            rows.append(row)
            meta.append((size, home, onset))
            done += 1
    return np.vstack(rows), meta


def _score(
    events: list[ContinuousFlowEvent], meta: list[tuple[float, int, int]], sizes: list[float]
) -> list[SizeResult]:
    by_row: dict[int, list[ContinuousFlowEvent]] = {}
    for e in events:
        by_row.setdefault(e.meter, []).append(e)
    out = []
    for size in sizes:
        delays, onset_err, flow_err, n = [], [], [], 0
        for r, (s, _home, onset) in enumerate(meta):
            if s != size:
                continue
            n += 1
            hits = [e for e in by_row.get(r, []) if onset <= e.alert < onset + LEAK_HOURS]
            if hits:
                e = min(hits, key=lambda ev: ev.alert)
                delays.append(e.alert - onset)
                onset_err.append(e.start - onset)
                flow_err.append(100.0 * (e.flow_lph_estimate - size) / size)
        out.append(SizeResult.of(size, n, delays, onset_err, flow_err))
    return out


def evaluate(
    m: HourlyMatrix,
    params: ContinuousFlowParams | None = None,
    sizes: tuple[float, ...] = (5.0, 10.0, 20.0),
    trials: int = 200,
    seed: int = 2016,
) -> dict[str, Any]:
    """Run the protocol of the module docstring and return every number as a dict."""
    p = params or ContinuousFlowParams()
    ax = m.axis
    hh_days = float(np.isfinite(m.flow).sum() / 24.0)
    baseline = detect_continuous_flow(m.flow, ax.local_hour, ax.local_date, p)
    inj, meta = _inject(m.flow, baseline, list(sizes), trials, seed)
    res: dict[str, Any] = {
        "params": asdict(p),
        "households": len(m.household_ids),
        "household_days": round(hh_days, 1),
        "false_alerts": len(baseline),
        "false_alerts_per_100_hh_days": 100.0 * len(baseline) / hh_days,
        "homes_with_false_alert": len({e.meter for e in baseline}),
    }
    ev = detect_continuous_flow(inj, ax.local_hour, ax.local_date, p)
    res["sizes"] = [asdict(r) for r in _score(ev, meta, list(sizes))]
    rate, homes, complete = naive_24h_rate(m)
    res["naive_24h"] = {
        "household_days_firing_pct": 100.0 * rate,
        "homes_firing_pct": 100.0 * homes,
        "complete_household_days": complete,
    }
    references = {
        "plain_48h": replace(PLAIN_48H, chunk_meters=p.chunk_meters),
        "two_nights": replace(p, steady_run_valid_hours=None),
    }
    for name, ref in references.items():
        b_ref = detect_continuous_flow(m.flow, ax.local_hour, ax.local_date, ref)
        e_ref = detect_continuous_flow(inj, ax.local_hour, ax.local_date, ref)
        res[name] = {
            "false_alerts_per_100_hh_days": 100.0 * len(b_ref) / hh_days,
            "sizes": [asdict(r) for r in _score(e_ref, meta, list(sizes))],
        }
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    ap.add_argument("csv", type=Path)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--min-night-flow", type=float, default=None)
    ap.add_argument("--min-nights", type=int, default=None)
    ap.add_argument("--min-run-hours", type=int, default=None)
    ap.add_argument("--steady-run-hours", type=int, default=None, help="0 turns rule 5b off")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    p = ContinuousFlowParams()
    if a.min_night_flow is not None:
        p = replace(p, min_night_flow_lph=a.min_night_flow)
    if a.min_nights is not None:
        p = replace(p, min_nights=a.min_nights)
    if a.min_run_hours is not None:
        p = replace(p, min_run_valid_hours=a.min_run_hours)
    if a.steady_run_hours is not None:
        p = replace(p, steady_run_valid_hours=a.steady_run_hours or None)
    res = evaluate(load_daiad_hourly(a.csv), p, trials=a.trials, seed=a.seed)
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

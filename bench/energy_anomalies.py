"""Energy anomalies on 25 real buildings: false alarms on real series, recall of injected faults.

Usage: python bench/energy_anomalies.py [--data DIR] [--buildings b2,b3] [--price 0.20]

``DIR`` (default ``../shared/data/energy`` beside the repository) holds the Cambridge University
Estates archive's ``cambridge_electricity_2018_2019.csv`` (25 buildings, hourly kWh, UTC) and
``bedford_weather_2018_2019.csv`` (hourly °C, UTC). Each building is scored causally from the
start of 2018, as in production (:func:`analytics.energy.deviation.score_meter`, monthly refit
on the trailing 12 months), by the same code as ``vigie analytics energy-anomalies``; figures
are over April-November 2019 (local time Europe/London and England's bank holidays, the
buildings' own):

- the real series as they are: alarm events per building-month (events detected in the
  window, confirmed level shifts included: they alarmed too), share of hours flagged (of all
  hours, and of the hours scored), level shifts,
  building-months without a usable baseline;
- the same series with faults injected (each kind in its own copy, four per building, four
  weeks apart, none in the same week):
  - ``baseload_week``: +30 % of the building's baseload (the 10th percentile of its hourly kWh
    over the four weeks before) added to every hour of a week, Monday 00:00 to Monday 00:00;
  - ``weekend_on``: the heating (and the plant serving it) left in occupied mode from Saturday
    00:00 to Monday 00:00: every weekend hour is raised to at least the weekday occupied
    level, the median kWh of 08:00-18:00 over the Monday-Friday before.
  A fault is caught when an excess event is flagged from its start to 24 h after its end;
  delay = first flagged hour − fault start (``running``: how many of the caught faults met an
  excess already flagged the hour before they began, so owe nothing to the fault);
  ``est/added`` = the excess kWh of the event that
  caught a fault over the kWh injected (median). Recall is given for every fault, and for the
  faults adding at least 20 % to the energy of their period (a fault that adds 5 % to a
  building that already runs flat over weekends is not something any meter rule can see).

Prints the tables and writes bench/results/energy_anomalies.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.detectors.energy_deviation import (  # noqa: E402
    EnergyDeviationParams,
    reportable,
)
from analytics.energy.deviation import (  # noqa: E402
    DeviationParams,
    MeterDeviation,
    State,
    score_meter,
)
from analytics.energy.hourly_file import (  # noqa: E402
    read_energy_csv,
    read_weather_csv,
    temperature_on,
)

DATA = ROOT.parent / "shared" / "data" / "energy"
READINGS, WEATHER = "cambridge_electricity_2018_2019.csv", "bedford_weather_2018_2019.csv"
LOCAL = ZoneInfo("Europe/London")
WINDOW = (np.datetime64("2019-04-01T00:00"), np.datetime64("2019-12-01T00:00"))
MONTHS = 8
TOLERANCE_H = 24
REPORT = EnergyDeviationParams()  # production's reporting: passes every 6 h, min_share 5 %
MATERIAL = 0.20
# Mondays (local) of the injected weeks, and Saturdays of the injected weekends: 4 weeks apart.
WEEKS = ("2019-04-08", "2019-06-03", "2019-07-29", "2019-09-23")
WEEKENDS = ("2019-05-04", "2019-06-29", "2019-08-24", "2019-10-19")


@dataclass(frozen=True)
class Fault:
    building: str
    kind: str
    start: int  # index of the first hour
    end: int  # index past the last hour
    added_share: float  # injected kWh / the period's kWh
    added_kwh: float


def load(data: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Hourly grid (datetime64[s] UTC), kWh per building (NaN missing), temperature: read by
    the CLI's own readers."""
    energy = read_energy_csv(data / READINGS)
    w_hours, w_temp = read_weather_csv(data / WEATHER)
    kwh = {b: energy.row(b) for b in energy.building_ids}
    return energy.hours, kwh, temperature_on(energy.hours, w_hours, w_temp)


def local_index(hours: np.ndarray, day: str) -> int:
    """Index of local midnight of ``day``."""
    t = datetime.fromisoformat(day).replace(tzinfo=LOCAL).astimezone(UTC).replace(tzinfo=None)
    return int(np.searchsorted(hours, np.datetime64(t, "s")))


def local_hours(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local weekday (0 = Monday) and hour of day of every UTC hour."""
    wd = np.empty(len(hours), dtype=np.int8)
    hod = np.empty(len(hours), dtype=np.int8)
    for i, t in enumerate(hours.astype("datetime64[s]").astype(int)):
        d = datetime.fromtimestamp(int(t), UTC).astimezone(LOCAL)
        wd[i], hod[i] = d.weekday(), d.hour
    return wd, hod


def inject_baseload(hours: np.ndarray, kwh: np.ndarray, b: str) -> tuple[np.ndarray, list[Fault]]:
    out, faults = kwh.copy(), []
    for day in WEEKS:
        i0 = local_index(hours, day)
        i1 = local_index(hours, str((datetime.fromisoformat(day) + timedelta(days=7)).date()))
        before = kwh[i0 - 28 * 24 : i0]
        base = float(np.nanpercentile(before[before > 0], 10))
        period = np.nansum(np.where(kwh[i0:i1] > 0, kwh[i0:i1], np.nan))
        seg = out[i0:i1]
        ok = np.isfinite(seg) & (seg > 0)  # a missing reading stays missing
        seg[ok] += 0.3 * base
        added = 0.3 * base * float(ok.sum())
        faults.append(Fault(b, "baseload_week", i0, i1, added / period, added))
    return out, faults


def inject_weekend(
    hours: np.ndarray, kwh: np.ndarray, b: str, wd: np.ndarray, hod: np.ndarray
) -> tuple[np.ndarray, list[Fault]]:
    out, faults = kwh.copy(), []
    for day in WEEKENDS:
        i0 = local_index(hours, day)
        i1 = local_index(hours, str((datetime.fromisoformat(day) + timedelta(days=2)).date()))
        week = slice(i0 - 5 * 24, i0)
        occupied = (wd[week] < 5) & (hod[week] >= 8) & (hod[week] < 18) & (kwh[week] > 0)
        level = float(np.nanmedian(kwh[week][occupied]))
        seg = out[i0:i1]
        ok = np.isfinite(seg) & (seg > 0)
        added = np.where(ok, np.maximum(seg, level) - seg, 0.0)
        period = float(np.nansum(seg[ok]))
        seg += added
        total = float(added.sum())
        faults.append(Fault(b, "weekend_on", i0, i1, total / period, total))
    return out, faults


def in_window(hours: np.ndarray) -> np.ndarray:
    return (hours >= WINDOW[0]) & (hours < WINDOW[1])


def caught(dev: MeterDeviation, fault: Fault) -> int | None:
    """Delay in hours of the first excess flag from the fault's start to 24 h after its end."""
    end = min(fault.end + TOLERANCE_H, len(dev.hours))
    hits = np.flatnonzero(dev.anomalous[fault.start : end] & (dev.score[fault.start : end] > 0))
    return int(hits[0]) if len(hits) else None


def already_running(dev: MeterDeviation, fault: Fault) -> bool:
    """An excess was flagged the hour before the fault began."""
    i = fault.start - 1
    return bool(i >= 0 and dev.anomalous[i] and dev.score[i] > 0)


def estimated_kwh(dev: MeterDeviation, fault: Fault, delay: int) -> float | None:
    """Excess kWh of the event that caught the fault, as the detector reports it."""
    t = dev.hours[fault.start + delay]
    for e in dev.events:
        if e.onset <= t and (e.end is None or t <= e.end):
            return e.excess_kwh
    return None


@dataclass(frozen=True)
class Alerts:
    """What production raises from one register's scoring: a pass every ``every_h`` hours
    reports the events worth an alert (``reportable``); an alert opens at the first pass that
    reports its direction and is cleared by the first judging pass that does not."""

    opened: list[tuple[int, int]]  # (direction, hour index of the opening pass)
    excess_passes: np.ndarray  # hour indices of the passes that reported an excess


def alerts(dev: MeterDeviation, params: DeviationParams, report: EnergyDeviationParams) -> Alerts:
    n = len(dev.hours)
    starts = [int(np.searchsorted(dev.hours, e.detected_at)) for e in dev.events]
    # an event can be reported from its first flag until it closed and ended_within_h went by
    span = params.merge_gap_h + report.ended_within_h + 1
    stops = [
        n if e.end is None else int(np.searchsorted(dev.hours, e.end)) + span for e in dev.events
    ]
    hour_s = dev.hours.astype("datetime64[s]").astype(np.int64)
    passes = np.flatnonzero((hour_s + 3600) % (report.every_h * 3600) == 0)
    scored = np.convolve(dev.state == State.SCORED, np.ones(24), mode="full")[:n] > 0
    opened: list[tuple[int, int]] = []
    excess: list[int] = []
    open_now = {1: False, -1: False}
    for k in passes:
        if not scored[k]:
            continue  # a register not scored in the last day is not judged: alerts stay
        found = set()
        if any(a <= k < b for a, b in zip(starts, stops, strict=True)):
            then = dev.as_of(int(k), params)
            end_ns = int(then.hours[-1].astype("datetime64[ns]").astype(np.int64)) + 3600 * 10**9
            found = {e.direction for e in reportable(then, end_ns, report)}
        for d in (1, -1):
            if d in found and not open_now[d]:
                opened.append((d, int(k)))
            open_now[d] = d in found
        if 1 in found:
            excess.append(int(k))
    return Alerts(opened, np.asarray(excess, dtype=np.int64))


def alert_caught(a: Alerts, fault: Fault) -> int | None:
    """Delay in hours of the first pass reporting an excess, from the fault's start to 24 h
    after its end (the pass's data end at that hour)."""
    hits = a.excess_passes[
        (a.excess_passes >= fault.start) & (a.excess_passes < fault.end + TOLERANCE_H)
    ]
    return int(hits[0] - fault.start) if len(hits) else None


def summarise(values: list[int]) -> dict[str, float | None]:
    if not values:
        return {"median_h": None, "p90_h": None}
    return {"median_h": float(np.median(values)), "p90_h": float(np.percentile(values, 90))}


def bank_holiday() -> Callable[[date], bool]:
    """England's bank holidays: the buildings' own closed days."""
    england = holiday_calendars.country_holidays("GB", subdiv="ENG", years=range(2017, 2021))

    def closed(day: date) -> bool:
        return day in england

    return closed


def run(data: Path, only: list[str] | None, params: DeviationParams) -> dict[str, Any]:
    hours, kwh, temperature = load(data)
    closed = bank_holiday()
    wd, hod = local_hours(hours)
    window = in_window(hours)
    buildings = [b for b in kwh if not only or b in only]
    clean_rows: list[dict[str, Any]] = []
    faults_out: dict[str, list[dict[str, Any]]] = {"baseload_week": [], "weekend_on": []}
    t0 = time.perf_counter()
    for b in buildings:
        dev = score_meter(hours, kwh[b], temperature, zone=LOCAL, params=params, holidays=closed)
        events = [e for e in dev.events if WINDOW[0] <= e.detected_at < WINDOW[1]]
        shifts = [e for e in dev.events if WINDOW[0] <= e.detected_at < WINDOW[1] and e.level_shift]
        raised = [(d, k) for d, k in alerts(dev, params, REPORT).opened if window[k]]
        scored = window & (dev.state == State.SCORED)
        unusable_h = int((window & (dev.state == State.UNUSABLE)).sum())
        clean_rows.append(
            {
                "building": b,
                "events": len(events),
                "alerts": len(raised),
                "drops_raised": sum(d < 0 for d, _ in raised),
                "level_shifts": len(shifts),
                "flagged_h": int((dev.anomalous & window).sum()),
                "scored_h": int(scored.sum()),
                "hours": int(window.sum()),
                "unusable_h": unusable_h,
                "excess_kwh": [round(e.excess_kwh, 1) for e in events],
            }
        )
        for kind, (series, faults) in {
            "baseload_week": inject_baseload(hours, kwh[b], b),
            "weekend_on": inject_weekend(hours, kwh[b], b, wd, hod),
        }.items():
            dev_f = score_meter(
                hours, series, temperature, zone=LOCAL, params=params, holidays=closed
            )
            raised_f = alerts(dev_f, params, REPORT)
            for fault in faults:
                delay = caught(dev_f, fault)
                alert_delay = alert_caught(raised_f, fault)
                estimate = None if delay is None else estimated_kwh(dev_f, fault, delay)
                faults_out[kind].append(
                    {
                        "building": b,
                        "start": str(hours[fault.start]),
                        "added_share": round(fault.added_share, 3),
                        "added_kwh": round(fault.added_kwh, 1),
                        "estimated_kwh": None if estimate is None else round(estimate, 1),
                        "delay_h": delay,
                        "alert_delay_h": alert_delay,
                        "running": delay is not None and already_running(dev_f, fault),
                    }
                )
        print(
            f"  {b:>5}: {len(events)} event(s), {len(shifts)} shift(s), "
            f"{len(raised)} alert(s), {clean_rows[-1]['flagged_h']} h flagged, "
            f"{unusable_h} h unusable",
            flush=True,
        )
    elapsed = time.perf_counter() - t0
    n = len(buildings)
    events_total = sum(r["events"] for r in clean_rows)
    flagged = sum(r["flagged_h"] for r in clean_rows)
    result: dict[str, Any] = {
        "buildings": n,
        "window": [str(WINDOW[0]), str(WINDOW[1])],
        "params": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "events_per_building_month": events_total / (n * MONTHS),
        "events": events_total,
        "alerts_per_building_month": sum(r["alerts"] for r in clean_rows) / (n * MONTHS),
        "alerts": sum(r["alerts"] for r in clean_rows),
        "drops_raised": sum(r["drops_raised"] for r in clean_rows),
        "level_shifts": sum(r["level_shifts"] for r in clean_rows),
        "hours_flagged_share": flagged / sum(r["hours"] for r in clean_rows),
        "scored_hours_flagged_share": flagged / max(1, sum(r["scored_h"] for r in clean_rows)),
        "unusable_building_months": sum(r["unusable_h"] for r in clean_rows) / (24 * 30.5),
        "seconds": elapsed,
        "per_building": clean_rows,
        "faults": {},
    }
    for kind, rows in faults_out.items():
        found = [r["delay_h"] for r in rows if r["delay_h"] is not None]
        alerted = [r["alert_delay_h"] for r in rows if r["alert_delay_h"] is not None]
        material = [r for r in rows if r["added_share"] >= MATERIAL]
        result["faults"][kind] = {
            "injected": len(rows),
            "recall": len(found) / len(rows) if rows else None,
            "material": len(material),
            "recall_material": (
                sum(r["delay_h"] is not None for r in material) / len(material)
                if material
                else None
            ),
            "running": sum(bool(r.get("running")) for r in rows),
            "missed_by_building": _missed(rows),
            "median_added_share": float(np.median([r["added_share"] for r in rows])),
            "delay": summarise(found),
            "recall_alerts": len(alerted) / len(rows) if rows else None,
            "recall_alerts_material": (
                sum(r["alert_delay_h"] is not None for r in material) / len(material)
                if material
                else None
            ),
            "alert_delay": summarise(alerted),
            "median_estimate_over_added": (
                float(np.median(ratios)) if (ratios := _ratios(rows)) else None
            ),
            "rows": rows,
        }
    return result


def _missed(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        if r["delay_h"] is None:
            out[r["building"]] = out.get(r["building"], 0) + 1
    return out


def _ratios(rows: list[dict[str, Any]]) -> list[float]:
    return [
        r["estimated_kwh"] / r["added_kwh"]
        for r in rows
        if r["estimated_kwh"] is not None and r["added_kwh"] > 0
    ]


def print_table(r: dict[str, Any]) -> None:
    print(f"\nCambridge, {r['buildings']} buildings, April-November 2019, causal monthly refit")
    print(f"  alarm events / building-month  {r['events_per_building_month']:.3f}  ({r['events']})")
    print(
        f"  alerts raised / building-month {r['alerts_per_building_month']:.3f}  ({r['alerts']}, "
        f"{r['drops_raised']} of them drops)"
    )
    print(f"  hours flagged                  {100 * r['hours_flagged_share']:.2f} %")
    print(f"  of hours scored                {100 * r['scored_hours_flagged_share']:.2f} %")
    print(f"  level shifts (re-anchored)     {r['level_shifts']}")
    print(f"  building-months unusable       {r['unusable_building_months']:.1f}")
    print(
        f"  {'fault':<14} {'n':>4} {'recall':>7} {'n≥20%':>6} {'recall':>7} {'delay med':>10} "
        f"{'p90':>6} {'added':>6} {'est/added':>10} {'running':>8}"
    )
    for kind, f in r["faults"].items():
        d = f["delay"]
        med = "-" if d["median_h"] is None else f"{d['median_h']:.0f} h"
        p90 = "-" if d["p90_h"] is None else f"{d['p90_h']:.0f} h"
        rm = "-" if f["recall_material"] is None else f"{f['recall_material']:.2f}"
        ratio = f["median_estimate_over_added"]
        est = "-" if ratio is None else f"{ratio:.2f}"
        print(
            f"  {kind:<14} {f['injected']:>4} {f['recall']:>7.2f} {f['material']:>6} {rm:>7} "
            f"{med:>10} {p90:>6} {100 * f['median_added_share']:>5.0f}% {est:>10} "
            f"{f['running']:>8}"
        )
    head = f"{'recall':>7} {'n≥20%':>6} {'recall':>7} {'delay med':>10} {'p90':>6}"
    print(f"  {'by alerts':<14} {head}")
    for kind, f in r["faults"].items():
        d = f["alert_delay"]
        med = "-" if d["median_h"] is None else f"{d['median_h']:.0f} h"
        p90 = "-" if d["p90_h"] is None else f"{d['p90_h']:.0f} h"
        rm = "-" if f["recall_alerts_material"] is None else f"{f['recall_alerts_material']:.2f}"
        print(
            f"  {kind:<14} {f['recall_alerts']:>7.2f} {f['material']:>6} {rm:>7} {med:>10} {p90:>6}"
        )
    for kind, f in r["faults"].items():
        missed = " ".join(f"{b}×{k}" for b, k in f["missed_by_building"].items())
        print(f"  missed {kind}: {missed or 'none'}")
    print(f"  ({r['seconds']:.0f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--buildings", default="", help="comma-separated ids (default: all)")
    ap.add_argument("--price", type=float, default=0.20, help="€/kWh for the excess")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "energy_anomalies.json"
    )
    ap.add_argument("--set", nargs="*", default=[], help="detector parameters, e.g. threshold=3.5")
    args = ap.parse_args()
    if not (args.data / READINGS).exists() or not (args.data / WEATHER).exists():
        print(
            f"Cambridge data absent: no {READINGS} and {WEATHER} in {args.data}; nothing measured."
        )
        return
    only = [b for b in args.buildings.split(",") if b] or None
    extra: dict[str, Any] = {
        k: float(v) if "." in v else int(v) for k, v in (a.split("=") for a in args.set)
    }
    result = run(args.data, only, DeviationParams(price_eur_per_kwh=args.price, **extra))
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()

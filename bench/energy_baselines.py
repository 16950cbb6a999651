"""Energy baselines against Guideline 14: real Cambridge buildings (ours and OpenDSM) and the
simulated territory's meters.

Usage: python bench/energy_baselines.py [--data DIR] [--no-opendsm] [--no-cambridge] [--sim-seeds N]
       [--sim-first-seed N]

- cambridge: the 25 buildings of ``<data>/energy`` (hourly kWh and Bedford temperatures, UTC),
  fitted on 2018 and scored on 2019 (Guideline 14 hourly, p = 0 on the unseen year), with
  England's bank holidays as days off and Europe/London schedules. Our baseline with its
  defaults, then OpenDSM's ``opendsm.eemeter.HourlyModel`` on the same buildings, hours and
  missing readings (°F, a local-time index, zeros as missing), when the ``evaluation`` extra is
  installed; a building OpenDSM fails on is reported with its error and counts as not passing.
  The variants table shows what each part of ours adds (one global setting for all buildings;
  nothing is tuned per building).
- simulated: every electricity and gas meter of the sample territory (18 buildings, ``sim-seeds``
  seeded years; ``--sim-first-seed``), simulated for two years with no injected faults, fitted
  on the first and scored on the second; days off are what the deviation detector derives from
  a building's schedule and calendar (public holidays, and closures its schedule would have
  opened in: a school's holidays with their weekends and Wednesdays). Hourly Guideline 14 per
  meter, and for information the monthly criterion (CV(RMSE) ≤ 15 %, |NMBE| ≤ 5 %) of the same
  predictions summed per month. For gas meters, also a "state ceiling": our baseline corrected,
  hour-of-week slot by slot, by a regression of its year-1 residuals on the outdoor temperature
  *and the true indoor temperature at the hour's start* (the room's, which a meter's baseline
  never sees), scored on year 2; slots with under 20 hours in year 1 left as they are. With the
  two-node buildings the room sits at its setpoint while the unseen structure sets the load: it
  bounds little now, and is printed for information.

Prints tables and writes bench/results/energy_baselines.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays as public_holidays
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.energy.baseline import Baseline, BaselineParams, slots  # noqa: E402
from analytics.energy.days_off import days_off  # noqa: E402
from analytics.energy.goodness import Goodness, goodness  # noqa: E402
from analytics.energy.hourly_file import (  # noqa: E402
    HourlyEnergy,
    read_energy_csv,
    read_weather_csv,
    temperature_on,
)
from analytics.energy.week_hours import RUN_LOOKAROUND, week_hours  # noqa: E402
from core.calendar import DayKind, FrenchCalendar  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")
SPLIT = np.datetime64("2019-01-01T00:00:00")
DEFAULTS = BaselineParams()
VARIANTS: dict[str, BaselineParams] = {
    "plain TOWT (one model, uniform)": BaselineParams(
        segments="none", half_life_days=None, max_level_shifts=0
    ),
    "CalTRACK month segments": BaselineParams(half_life_days=None, max_level_shifts=0),
    "+ recency (half-life 90 d)": BaselineParams(max_level_shifts=0),
    "+ changes of use (no recency)": BaselineParams(half_life_days=None),
    "one model + changes of use + recency": BaselineParams(segments="none"),
    "defaults (segments + changes + recency)": DEFAULTS,
}


@dataclass(frozen=True)
class Row:
    building_id: str
    ours: Goodness
    opendsm: Goodness | None
    opendsm_error: str | None
    opendsm_s: float


def _score(g: Goodness | None) -> dict[str, Any] | None:
    if g is None:
        return None
    return {"cv_rmse": g.cv_rmse, "nmbe": g.nmbe, "n": g.n, "passes_g14": g.passes_g14}


def ours_on(
    e: HourlyEnergy, t: np.ndarray, params: BaselineParams, holidays: Any
) -> dict[str, Goodness]:
    train, test = e.hours < SPLIT, e.hours >= SPLIT
    out = {}
    for i, bid in enumerate(e.building_ids):
        b = Baseline.fit(
            e.hours[train], e.kwh[i, train], t[train], zone=LONDON, params=params, holidays=holidays
        )
        out[bid] = goodness(e.kwh[i, test], b.predict(e.hours[test], t[test]), 0)
    return out


def opendsm_on(
    e: HourlyEnergy, t: np.ndarray
) -> dict[str, tuple[Goodness | None, str | None, float]] | None:
    try:
        import pandas as pd
        from opendsm import eemeter
    except ImportError:
        return None
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("eemeter").setLevel(logging.ERROR)
    index = pd.DatetimeIndex(e.hours.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(LONDON)
    train, test = e.hours < SPLIT, e.hours >= SPLIT
    out: dict[str, tuple[Goodness | None, str | None, float]] = {}
    for i, bid in enumerate(e.building_ids):
        t0 = time.perf_counter()
        df = pd.DataFrame({"observed": e.kwh[i], "temperature": t * 1.8 + 32.0}, index=index)
        try:
            base = eemeter.HourlyBaselineData(df[train], is_electricity_data=True)
            model = eemeter.HourlyModel().fit(base)
            report = eemeter.HourlyReportingData(df[test], is_electricity_data=True)
            pred = model.predict(report)["predicted"].reindex(index[test]).to_numpy(dtype=float)
            out[bid] = (goodness(e.kwh[i, test], pred, 0), None, time.perf_counter() - t0)
        except Exception as exc:  # a failure is a result: report it, do not hide it
            msg = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            out[bid] = (None, msg, time.perf_counter() - t0)
    return out


def cambridge(data: Path, run_opendsm: bool) -> dict[str, Any] | None:
    energy = data / "energy" / "cambridge_electricity_2018_2019.csv"
    weather = data / "energy" / "bedford_weather_2018_2019.csv"
    if not energy.exists() or not weather.exists():
        print(f"cambridge: {energy} or {weather} not found (the real data set is absent); skipped")
        return None
    e = read_energy_csv(energy)
    w_hours, w_temp = read_weather_csv(weather)
    t = temperature_on(e.hours, w_hours, w_temp)
    days = public_holidays.country_holidays("GB", subdiv="ENG", years=[2018, 2019])

    def holidays(d: date) -> bool:
        return d in days

    t0 = time.perf_counter()
    ours = ours_on(e, t, DEFAULTS, holidays)
    ours_s = time.perf_counter() - t0
    odsm = opendsm_on(e, t) if run_opendsm else None
    rows = [
        Row(
            bid,
            ours[bid],
            odsm[bid][0] if odsm else None,
            odsm[bid][1] if odsm else None,
            odsm[bid][2] if odsm else 0.0,
        )
        for bid in e.building_ids
    ]
    print("\ncambridge: fit 2018, score 2019 (hourly Guideline 14: CV(RMSE) ≤ 30 %, |NMBE| ≤ 10 %)")
    print(
        f"{'building':9s} {'ours CV':>8s} {'NMBE':>7s} {'pass':>5s}   {'OpenDSM CV':>10s} "
        f"{'NMBE':>7s} {'pass':>5s}"
    )
    for r in rows:
        o = r.opendsm
        right = (
            f"{o.cv_rmse:10.3f} {o.nmbe:+7.3f} {'yes' if o.passes_g14 else 'no':>5s}"
            if o is not None
            else f"{'failed: ' + (r.opendsm_error or '')[:60]}"
            if odsm
            else "   (not run)"
        )
        print(
            f"{r.building_id:9s} {r.ours.cv_rmse:8.3f} {r.ours.nmbe:+7.3f} "
            f"{'yes' if r.ours.passes_g14 else 'no':>5s}   {right}"
        )
    n = len(rows)
    ours_pass = sum(r.ours.passes_g14 for r in rows)
    summary: dict[str, Any] = {
        "buildings": n,
        "ours_pass": ours_pass,
        "ours_pass_share": ours_pass / n,
        "ours_median_cv_rmse": statistics.median(r.ours.cv_rmse for r in rows),
        "ours_fit_s": ours_s,
    }
    print(
        f"\nours:    {ours_pass}/{n} pass ({ours_pass / n:.0%}), median CV(RMSE) "
        f"{summary['ours_median_cv_rmse']:.3f}, {ours_s:.1f} s for {n} buildings"
    )
    if odsm is None:
        why = (
            "not requested (--no-opendsm)"
            if not run_opendsm
            else ("not installed (pip install -e '.[evaluation]')")
        )
        print(f"OpenDSM: {why}")
        summary["opendsm"] = why
    else:
        ok = [r.opendsm for r in rows if r.opendsm is not None]
        failed = [r.building_id for r in rows if r.opendsm is None]
        o_pass = sum(g.passes_g14 for g in ok)
        summary.update(
            opendsm_pass=o_pass,
            opendsm_pass_share=o_pass / n,
            opendsm_failed=failed,
            opendsm_median_cv_rmse=statistics.median(g.cv_rmse for g in ok) if ok else None,
            opendsm_fit_s=sum(r.opendsm_s for r in rows),
        )
        print(
            f"OpenDSM: {o_pass}/{n} pass ({o_pass / n:.0%}), median CV(RMSE) "
            f"{summary['opendsm_median_cv_rmse']:.3f} over the {len(ok)} it fitted; "
            f"failed on {len(failed)}: {', '.join(failed) or '-'}; "
            f"{summary['opendsm_fit_s']:.0f} s"
        )
    print("\nvariants (one setting for every building):")
    variants = {}
    for name, params in VARIANTS.items():
        v = ours_on(e, t, params, holidays)
        passing = sum(g.passes_g14 for g in v.values())
        med = statistics.median(g.cv_rmse for g in v.values())
        variants[name] = {"pass": passing, "median_cv_rmse": med}
        print(f"  {name:42s} {passing:2d}/{n} pass, median CV(RMSE) {med:.3f}")
    no_holidays = ours_on(e, t, DEFAULTS, None)
    passing = sum(g.passes_g14 for g in no_holidays.values())
    variants["defaults without bank holidays"] = {"pass": passing}
    print(f"  {'defaults without bank holidays':42s} {passing:2d}/{n} pass")
    return {
        "summary": summary,
        "buildings": [
            {
                "building_id": r.building_id,
                "ours": _score(r.ours),
                "opendsm": _score(r.opendsm),
                "opendsm_error": r.opendsm_error,
            }
            for r in rows
        ],
        "variants": variants,
    }


def state_ceiling(
    how: np.ndarray,
    t: np.ndarray,
    indoor: np.ndarray,
    kwh: np.ndarray,
    base: np.ndarray,
    train: np.ndarray,
) -> Goodness:
    """Out-of-sample goodness of the baseline ``base`` corrected, slot by slot, by a regression
    of its year-1 residuals on the outdoor and the indoor temperature."""
    pred = base.copy()
    x = np.stack([np.ones_like(t), t, indoor, np.maximum(indoor - 19.0, 0.0)], axis=1)
    for s in np.unique(how):
        fit, rows = train & (how == s), how == s
        if fit.sum() < 20:  # a closure's rare slots: too few hours to correct
            continue
        coef = np.linalg.lstsq(x[fit], kwh[fit] - base[fit], rcond=None)[0]
        pred[rows] += x[rows] @ coef
    return goodness(kwh[~train], pred[~train], 0)


def simulated(seeds: int, params: BaselineParams = DEFAULTS, first_seed: int = 1) -> dict[str, Any]:
    from simulator.buildings import occupancy_factor, opening_hours, simulate_buildings
    from simulator.territory_file import load_territory
    from simulator.weather import simulate_weather

    territory = load_territory()
    calendar = FrenchCalendar()
    start, days = datetime(2025, 1, 1, tzinfo=UTC), 730
    hours = (np.datetime64("2025-01-01T00", "h") + np.arange(days * 24)).astype("datetime64[s]")
    train = hours < np.datetime64("2026-01-01")

    # The calendar reaches past the simulated years, as a deployment's does: a day's run of
    # holidays is placed up to RUN_LOOKAROUND days away (the Christmas holidays end in January).
    local_days = tuple(
        date(2025, 1, 1) + timedelta(days=k) for k in range(-RUN_LOOKAROUND, days + RUN_LOOKAROUND)
    )

    def calendar_of(b: Any) -> Any:
        # As the deviation detector derives them from the registry's schedule and calendar.
        _, intervals = occupancy_factor(b, local_days, calendar)
        week_open = {wd for wd, day in enumerate(opening_hours(b.schedule)) if day}
        off = days_off(local_days, [bool(i) for i in intervals], week_open)

        def holidays(d: date) -> bool:
            return d in off or calendar.day_kind(d) is DayKind.PUBLIC_HOLIDAY

        return holidays

    months = hours[~train].astype("datetime64[M]").astype(np.int64)
    months -= months[0]
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for seed in range(first_seed, first_seed + seeds):
        weather = simulate_weather(territory.climate, start, days, seed)
        runs = simulate_buildings(
            territory.buildings, weather, start, days, seed, calendar, faults=False
        )
        t = weather.temperature_c[: days * 24]
        for code, run in runs.items():
            for carrier, kw in (("electricity", run.electricity_kw), ("gas", run.gas_kw)):
                kwh = kw.reshape(-1, 4).sum(axis=1) * 0.25  # quarter-hour kW → kWh per hour
                if not kwh.any():
                    continue
                b = Baseline.fit(
                    hours[train],
                    kwh[train],
                    t[train],
                    zone=PARIS,
                    params=params,
                    holidays=calendar_of(run.building),
                )
                pred = b.predict(hours[~train], t[~train])
                g = goodness(kwh[~train], pred, 0)
                gm = goodness(np.bincount(months, kwh[~train]), np.bincount(months, pred), 0)
                ceiling: Goodness | None = None
                if carrier == "gas":
                    # Indoor temperature at each hour's start: the end of the previous quarter.
                    indoor = np.roll(run.indoor_c.reshape(-1, 4)[:, 3], 1)
                    how = slots(week_hours(hours, PARIS, calendar_of(run.building)), params)
                    base = np.concatenate([b.predict(hours[train], t[train]), pred])
                    ceiling = state_ceiling(how, t, indoor, kwh, base, train)
                results.append(
                    {
                        "ceiling_cv_rmse": ceiling.cv_rmse if ceiling else None,
                        "ceiling_passes_g14": ceiling.passes_g14 if ceiling else None,
                        "seed": seed,
                        "building": code,
                        "kind": run.building.kind.value,
                        "carrier": carrier,
                        "cv_rmse": g.cv_rmse,
                        "nmbe": g.nmbe,
                        "passes_g14": g.passes_g14,
                        "monthly_cv_rmse": gm.cv_rmse,
                        "monthly_nmbe": gm.nmbe,
                        "passes_g14_monthly": gm.cv_rmse <= 0.15 and abs(gm.nmbe) <= 0.05,
                    }
                )
    elapsed = time.perf_counter() - t0
    n = len(results)
    passing = sum(r["passes_g14"] for r in results)
    print(
        f"\nsimulated: {n} meters ({seeds} seeded territories × 18 buildings, electricity and "
        f"gas), fit year 1, score year 2, no injected faults"
    )
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault((r["kind"], r["carrier"]), []).append(r)
    print(
        f"  {'kind':14s} {'carrier':12s} {'hourly G14':>10s}  median CV  worst CV  monthly G14"
        "  state ceiling CV (pass)"
    )
    for (kind, carrier), rs in sorted(by.items()):
        cvs = [r["cv_rmse"] for r in rs]
        ceil = [r["ceiling_cv_rmse"] for r in rs if r["ceiling_cv_rmse"] is not None]
        right = (
            f"  {statistics.median(ceil):9.3f} ({sum(r['ceiling_passes_g14'] for r in rs)})"
            if ceil
            else ""
        )
        print(
            f"  {kind:14s} {carrier:12s} {sum(r['passes_g14'] for r in rs):4d}/{len(rs):<5d} "
            f"{statistics.median(cvs):9.3f} {max(cvs):9.3f}  "
            f"{sum(r['passes_g14_monthly'] for r in rs):4d}/{len(rs):<5d}{right}"
        )
    summary: dict[str, Any] = {"meters": n, "pass": passing, "pass_share": passing / n}
    for carrier in ("electricity", "gas"):
        rs = [r for r in results if r["carrier"] == carrier]
        ok = sum(r["passes_g14"] for r in rs)
        monthly = sum(r["passes_g14_monthly"] for r in rs)
        summary[carrier] = {"meters": len(rs), "pass": ok, "pass_monthly": monthly}
        ceiling_ok = sum(bool(r["ceiling_passes_g14"]) for r in rs)
        extra = f"; state ceiling {ceiling_ok}/{len(rs)} hourly" if carrier == "gas" else ""
        if carrier == "gas":
            summary[carrier]["ceiling_pass"] = ceiling_ok
        print(
            f"  {carrier}: {ok}/{len(rs)} pass hourly ({ok / len(rs):.0%}), "
            f"{monthly}/{len(rs)} monthly{extra}"
        )
    print(f"  all meters: {passing}/{n} pass hourly ({passing / n:.0%}); {elapsed:.0f} s")
    return {"summary": summary, "results": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data directory")
    ap.add_argument("--no-opendsm", action="store_true", help="skip OpenDSM even if installed")
    ap.add_argument("--no-cambridge", action="store_true", help="only the simulated meters")
    ap.add_argument("--sim-seeds", type=int, default=3, help="simulated territories (0: none)")
    ap.add_argument(
        "--sim-first-seed", type=int, default=1, help="the first one's seed (settings: 4-6)"
    )
    args = ap.parse_args()
    result: dict[str, Any] = {
        "params": {k: v for k, v in vars(DEFAULTS).items()},
        "cambridge": None if args.no_cambridge else cambridge(args.data, not args.no_opendsm),
    }
    if args.sim_seeds > 0:
        result["simulated"] = simulated(args.sim_seeds, first_seed=args.sim_first_seed)
    out = ROOT / "bench" / "results" / "energy_baselines.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\n→ {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Baselines judged on a holdout: fit each building on one period, score it on another.

What ``vigie analytics baseline-fit`` and the evaluation scripts do: a baseline that passes
Guideline 14 on hours it never saw can stand for the building; one that does not (too little
data, a change of use after the fit period) says so instead of judging the building with it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from analytics.energy.baseline import Baseline, BaselineError, BaselineParams
from analytics.energy.goodness import Goodness, goodness
from analytics.energy.hourly_file import (
    FloatArray,
    HourArray,
    HourlyEnergy,
    read_energy_csv,
    read_weather_csv,
    temperature_on,
)
from core.csv_cells import safe_cell

OUT_COLUMNS = ("building_id", "cv_rmse", "nmbe", "passes_g14")
DEFAULTS = BaselineParams()


@dataclass(frozen=True)
class HoldoutScore:
    """One building: its baseline's goodness on the test hours, or why there is none."""

    building_id: str
    test: Goodness | None
    fit: Goodness | None = None
    level_shifts: int = 0
    error: str | None = None

    @property
    def passes_g14(self) -> bool:
        return self.test is not None and self.test.passes_g14


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p]


def score_holdout(
    train: HourlyEnergy,
    test: HourlyEnergy,
    weather_hours: HourArray,
    temperature_c: FloatArray,
    *,
    zone: ZoneInfo,
    params: BaselineParams = DEFAULTS,
    holidays: Callable[[date], bool] | None = None,
) -> list[HoldoutScore]:
    """Fit every building of ``train``, score it on its hours in ``test`` (buildings of either)."""
    t_train = temperature_on(train.hours, weather_hours, temperature_c)
    t_test = temperature_on(test.hours, weather_hours, temperature_c)
    out: list[HoldoutScore] = []
    for bid in sorted(set(train.building_ids) | set(test.building_ids), key=_natural):
        if bid not in train.building_ids:
            out.append(HoldoutScore(bid, None, error="no readings in the fit period"))
            continue
        if bid not in test.building_ids:
            out.append(HoldoutScore(bid, None, error="no readings in the test period"))
            continue
        try:
            b = Baseline.fit(
                train.hours, train.row(bid), t_train, zone=zone, params=params, holidays=holidays
            )
        except BaselineError as exc:
            out.append(HoldoutScore(bid, None, error=str(exc)))
            continue
        # The test hours cost the model no degrees of freedom: Guideline 14 with p = 0.
        g = goodness(test.row(bid), b.predict(test.hours, t_test), 0)
        out.append(HoldoutScore(bid, g, b.fit_goodness, len(b.level_shifts)))
    return out


def _fraction(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.4f}"


def write_holdout_csv(scores: list[HoldoutScore], out: Path) -> None:
    """Write ``building_id,cv_rmse,nmbe,passes_g14`` (fractions; empty when not scored)."""
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(OUT_COLUMNS)
        for s in scores:
            cv = "" if s.test is None else _fraction(s.test.cv_rmse)
            nmbe = "" if s.test is None else _fraction(s.test.nmbe)
            w.writerow([safe_cell(s.building_id), cv, nmbe, "true" if s.passes_g14 else "false"])


def holdout_csv(
    train: Path,
    test: Path,
    weather: Path,
    out: Path,
    *,
    zone: ZoneInfo,
    holidays: Callable[[date], bool] | None = None,
    params: BaselineParams = DEFAULTS,
) -> list[HoldoutScore]:
    """Read the three files, fit on ``train``, score on ``test``, write ``out``; the scores."""
    w_hours, w_temp = read_weather_csv(weather)
    scores = score_holdout(
        read_energy_csv(train, params.zero_run_hours),
        read_energy_csv(test, params.zero_run_hours),
        w_hours,
        w_temp,
        zone=zone,
        params=params,
        holidays=holidays,
    )
    write_holdout_csv(scores, Path(out))
    return scores

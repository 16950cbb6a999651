"""The DAIAD evaluation protocol on hand-built homes (no shared data read here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from analytics.evaluation.daiad_homes import evaluate, main, naive_24h_rate
from analytics.water.axis import hourly_axis
from analytics.water.daiad import HourlyMatrix

START = datetime(2016, 5, 2, tzinfo=UTC)  # no DST change in the 60 days that follow
DAYS = 60


def _homes(n: int, seed: int) -> HourlyMatrix:
    """Homes that use water from 07:00 to 22:00 only, a few hours missing."""
    axis = hourly_axis(START, DAYS * 24)
    rng = np.random.default_rng(seed)
    day = (axis.local_hour >= 7) & (axis.local_hour <= 22)
    flow = np.where(day, np.round(rng.gamma(1.5, 20.0, (n, day.size))), 0.0)
    flow[rng.random(flow.shape) < 0.3] = 0.0
    flow[rng.random(flow.shape) < 0.02] = np.nan
    return HourlyMatrix([str(i) for i in range(n)], flow, axis)


def _by_size(res: dict[str, Any], reference: str | None = None) -> dict[float, dict[str, Any]]:
    sizes = res["sizes"] if reference is None else res[reference]["sizes"]
    return {s["leak_lph"]: s for s in sizes}


def test_leaks_on_dry_homes_are_found_after_one_night() -> None:
    res = evaluate(_homes(12, seed=1), trials=20, seed=3)
    assert res["false_alerts"] == 0
    new, old = _by_size(res), _by_size(res, "two_nights")
    for size in (5.0, 10.0, 20.0):
        assert new[size]["injected"] == 20
        assert new[size]["recall"] == 1.0
        assert -1.0 <= new[size]["median_onset_error_h"] <= 0.0  # the run may begin with use
        assert new[size]["median_flow_error_pct"] == 0.0
        # 30 valid hours of a steady run (29 h after the onset; less when the run began with
        # use just before the leak, more when hours are missing)...
        assert 26.0 <= new[size]["median_delay_h"] <= 31.0
        # ...where two leaky nights wait until the second night has ended.
        assert old[size]["median_delay_h"] >= new[size]["median_delay_h"] + 6.0
    assert _by_size(res, "plain_48h")[10.0]["median_delay_h"] >= 47.0


def test_real_continuous_flow_is_a_false_alert_and_no_leak_is_put_on_it() -> None:
    m = _homes(6, seed=2)
    busy = slice(24 * (DAYS - 6) + 12, 24 * (DAYS - 2) + 12)  # four days at 15 L/h in home 0
    m.flow[0, busy] = np.nan_to_num(m.flow[0, busy]) + 15.0
    res = evaluate(m, trials=30, seed=5)
    assert res["false_alerts"] == res["homes_with_false_alert"] == 1
    assert res["false_alerts_per_100_hh_days"] > 0
    # No leak window touches the real flow (± 1 day), so none is found thanks to it.
    assert all(s["recall"] == 1.0 for s in res["sizes"])


def test_naive_rate_counts_complete_days_without_a_zero_hour() -> None:
    axis = hourly_axis(datetime(2016, 5, 1, 22, tzinfo=UTC), 3 * 24)  # 3 local days from 00:00
    flow = np.full((2, 72), 4.0)
    flow[0, [30, 60]] = 0.0  # home a: days 2 and 3 stop once, day 1 never
    flow[1, 5] = np.nan  # home b: day 1 incomplete, day 2 never stops, day 3 stops once
    flow[1, 50] = 0.0
    rate, homes, complete = naive_24h_rate(HourlyMatrix(["a", "b"], flow, axis))
    assert (rate, homes, complete) == (2 / 5, 1.0, 5)


def _write_csv(path: Path, m: HourlyMatrix) -> None:
    """Hourly register readings at minute 7 (local time, like the DAIAD file)."""
    lines = ["household_id,timestamp_local,meter_reading_l,consumption_l_since_prev"]
    for hid, row in zip(m.household_ids, np.nan_to_num(m.flow), strict=True):
        index = 100_000.0 + np.concatenate([[0.0], np.cumsum(row)])
        for h in range(row.size):
            local = START + timedelta(hours=h + 2, minutes=7)  # UTC+2 in summer
            lines.append(f"{hid},{local:%Y-%m-%d %H:%M:%S},{index[h]:.1f},0")
    path.write_text("\n".join(lines) + "\n")


def test_command_line(tmp_path: Path) -> None:
    csv = tmp_path / "homes.csv"
    _write_csv(csv, _homes(4, seed=7))
    out = tmp_path / "res.json"
    assert main([str(csv), "--trials", "5", "--seed", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["households"] == 4
    assert res["params"]["steady_run_valid_hours"] == 30
    assert {"sizes", "naive_24h", "plain_48h", "two_nights"} <= res.keys()
    assert [s["injected"] for s in res["sizes"]] == [5, 5, 5]
    assert main([str(csv), "--trials", "5", "--steady-run-hours", "0", "--json", str(out)]) == 0
    off = json.loads(out.read_text())
    assert off["params"]["steady_run_valid_hours"] is None
    assert off["sizes"] == off["two_nights"]["sizes"]

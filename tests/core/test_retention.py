"""Retention per quantity and purpose: purposes combine by the longest, and a purge on both stores
removes raw readings, hourly and daily rollups past their retention and keeps what is newer."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pydantic import ValidationError

from core.config import StoreSettings
from core.config_example import render_example
from core.quantities import QUANTITIES, Domain
from core.reading import Reading
from core.retention import Granularity, KeepFor
from core.series import NS
from core.stores.rollup import HOUR_NS, cutoffs
from core.stores.sqlite import SqliteStore
from core.timeseries import Agg, Selection

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 9, 40, tzinfo=UTC)
DEVICES = ("a840410000000011", "a840410000000012")
TAGS = {d: {"tenant": "t1", "site": "s1"} for d in DEVICES}
CLIMATE = [q for q, spec in QUANTITIES.items() if spec.domain is Domain.CLIMATE]
DAY = timedelta(days=1)


def purposes(**extra: Any) -> StoreSettings:
    """Two purposes over the temperature: comfort keeps every climate quantity, energy keeps
    the temperature's raw readings longer and its hourly rollups shorter."""
    return StoreSettings.model_validate(
        {
            "retention": {
                "purposes": {
                    "comfort_monitoring": {
                        "quantities": CLIMATE,
                        "raw_days": 10,
                        "hourly_days": 40,
                        "daily_days": 100,
                    },
                    "energy_management": {
                        "quantities": ["temperature_c"],
                        "raw_days": 20,
                        "hourly_days": 30,
                    },
                }
            },
            **extra,
        }
    )


def hourly_readings() -> list[Reading]:
    """One temperature an hour (17 minutes past) per device over the 150 days before NOW,
    across the October DST change."""
    rng = np.random.default_rng(3)
    start = (NOW - 150 * DAY).replace(minute=17, second=0)
    out = []
    for k in range(150 * 24):
        t = start + timedelta(hours=k)
        for d in DEVICES:
            out.append(Reading(t, d, "temperature_c", round(float(rng.normal(19, 2)), 3)))
    return out


def local_midnight(t: datetime) -> datetime:
    day = t.astimezone(PARIS).date()
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def rollup_starts(store: Any, table: str) -> np.ndarray:
    """Bucket starts (ns) of the temperature's rollup rows of every series."""
    if isinstance(store, SqliteStore):
        rows = store._reader().execute(f"SELECT t FROM rollup_{table}").fetchall()
        return np.asarray([r[0] for r in rows], dtype=np.int64)
    _, partials = store.rollups.read("temperature_c", table, "time >= 0")
    return partials.t


def ns(t: datetime) -> int:
    return int(t.timestamp()) * NS


@pytest.fixture
def filled(store: Any) -> Iterator[tuple[Any, list[Reading]]]:
    readings = hourly_readings()
    for i in range(0, len(readings), 5000):
        assert store.write(readings[i : i + 5000], TAGS).accepted == len(readings[i : i + 5000])
    yield store, readings


def test_purposes_combine_by_the_longest_at_each_granularity() -> None:
    plan = purposes().retention_plan()
    # raw from energy_management, hourly and daily from comfort_monitoring
    assert plan["temperature_c"] == KeepFor(20 * DAY, 40 * DAY, 100 * DAY)
    assert plan["humidity_pct"] == KeepFor(10 * DAY, 40 * DAY, 100 * DAY)
    assert "volume_m3" not in plan  # named by no purpose, no raw retention: kept forever


def test_a_quantity_no_purpose_names_keeps_the_per_quantity_raw_setting() -> None:
    settings = purposes(rollups={"raw_retention_days": {"volume_m3": 400}})
    assert settings.retention_plan()["volume_m3"] == KeepFor(raw=400 * DAY)
    legacy = StoreSettings.model_validate({"rollups": {"default_raw_retention_days": 90}})
    assert legacy.retention_plan()["leak"] == KeepFor(raw=90 * DAY)
    assert legacy.retention_plan()["leak"].of(Granularity.DAILY) is None  # rollups forever


def test_forever_and_not_needed() -> None:
    settings = StoreSettings.model_validate(
        {
            "retention": {
                "purposes": {
                    "billing_history": {"quantities": ["volume_m3"], "daily_days": "forever"},
                    "leak_detection": {"quantities": ["volume_m3", "leak"], "raw_days": 60},
                }
            }
        }
    )
    plan = settings.retention_plan()
    # hourly rollups are asked by no purpose: kept as long as the raw readings they summarise
    assert plan["volume_m3"] == KeepFor(60 * DAY, 60 * DAY, None)
    assert plan["leak"].of(Granularity.DAILY) == 60 * DAY


@pytest.mark.parametrize(
    ("purpose", "error"),
    [
        ({"quantities": ["volume_m3", "volume_l"], "raw_days": 5}, "unknown quantities: volume_l"),
        ({"quantities": [], "raw_days": 5}, "names the quantities"),
        ({"quantities": ["leak"]}, "keeps raw readings, hourly or daily"),
        ({"quantities": ["leak"], "raw_days": 30, "hourly_days": 10}, "hourly_days is shorter"),
        ({"quantities": ["leak"], "hourly_days": "forever", "daily_days": 900}, "daily_days"),
        ({"quantities": ["leak"], "raw_days": -1}, "greater than or equal to 0"),
        ({"quantities": ["leak"], "raw_days": 5, "weekly_days": 9}, "Extra inputs"),
    ],
)
def test_a_purpose_that_cannot_hold_is_refused(purpose: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        StoreSettings.model_validate({"retention": {"purposes": {"a_purpose": purpose}}})


def test_a_quantity_set_both_ways_and_bad_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="keep it in the purposes"):
        purposes(rollups={"raw_retention_days": {"temperature_c": 5}})
    with pytest.raises(ValidationError, match="lower-case identifiers"):
        StoreSettings.model_validate(
            {"retention": {"purposes": {"Leak Detection": {"quantities": ["leak"], "raw_days": 1}}}}
        )


def test_the_documented_example_purposes_load() -> None:
    lines = render_example().splitlines()
    first = lines.index("# [store.retention.purposes.leak_detection]")
    block = []
    for line in lines[first:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("#").strip())
    settings = StoreSettings.model_validate(tomllib.loads("\n".join(block))["store"])
    plan = settings.retention_plan()
    assert plan["volume_m3"] == KeepFor(60 * DAY, 400 * DAY, 1830 * DAY)
    assert plan["flow_m3h"].of(Granularity.DAILY) is None
    assert StoreSettings().retention.purge_at == time(3, 30)
    assert StoreSettings().retention_plan() == {}  # nothing is deleted by default


def test_cutoffs_are_whole_hours_for_raw_and_local_days_for_rollups() -> None:
    keep = KeepFor(20 * DAY, 40 * DAY, 100 * DAY)
    cuts = cutoffs(keep, NOW, "Europe/Paris", None)
    assert cuts[Granularity.RAW] == ns(NOW.replace(minute=0) - 20 * DAY)
    assert cuts[Granularity.HOURLY] == ns(local_midnight(NOW - 40 * DAY))
    assert cuts[Granularity.DAILY] == ns(local_midnight(NOW - 100 * DAY))
    # An hour still marked (not rolled up) holds back every cutoff past it.
    mark = ns(NOW - 70 * DAY) // HOUR_NS * HOUR_NS
    held = cutoffs(keep, NOW, "Europe/Paris", mark)
    assert held[Granularity.RAW] == mark
    assert held[Granularity.HOURLY] == ns(local_midnight(NOW - 70 * DAY))
    assert held[Granularity.DAILY] == cuts[Granularity.DAILY]
    assert cutoffs(KeepFor(raw=None), NOW, "Europe/Paris", None) == {}


def test_a_purge_removes_each_granularity_past_its_retention(
    filled: tuple[Any, list[Reading]],
) -> None:
    store, readings = filled
    plan = purposes().retention_plan()
    raw_cut = NOW.replace(minute=0) - 20 * DAY
    hourly_cut = local_midnight(NOW - 40 * DAY)
    daily_cut = local_midnight(NOW - 100 * DAY)
    sel = Selection.of("temperature_c")
    days_before = store.aggregate(sel, daily_cut, raw_cut, "1d", Agg.MEAN, "Europe/Paris")

    counts = store.purge(plan, NOW)

    hours = {(r.device, ns(r.time) // HOUR_NS) for r in readings}
    days = {(r.device, local_midnight(r.time)) for r in readings}
    assert counts["temperature_c"] == {
        Granularity.RAW: sum(r.time < raw_cut for r in readings),
        Granularity.HOURLY: sum(h * HOUR_NS < ns(hourly_cut) for _, h in hours),
        Granularity.DAILY: sum(d < daily_cut for _, d in days),
    }
    raw = store.read(sel, NOW - 200 * DAY, NOW + DAY)
    assert int(raw.times.min()) == ns(raw_cut.replace(minute=17))
    assert len(raw.times) == sum(r.time >= raw_cut for r in readings)
    hourly = rollup_starts(store, "1h")
    assert int(hourly.min()) == ns(hourly_cut)
    assert len(hourly) == sum(h * HOUR_NS >= ns(hourly_cut) for _, h in hours)
    daily = rollup_starts(store, "1d")
    assert int(daily.min()) == ns(daily_cut)
    assert len(daily) == sum(d >= daily_cut for _, d in days)
    # What is kept still answers as before: daily means read the daily rollups.
    days_after = store.aggregate(sel, daily_cut, raw_cut, "1d", Agg.MEAN, "Europe/Paris")
    np.testing.assert_allclose(days_after.values, days_before.values, rtol=1e-12)
    # Nothing more goes until time moves on; a day later, one more day of each granularity.
    assert all(not any(c.values()) for c in store.purge(plan, NOW).values())
    later = store.purge(plan, NOW + DAY)["temperature_c"]
    assert later[Granularity.DAILY] == len(DEVICES)
    assert later[Granularity.HOURLY] == len(DEVICES) * 24
    assert later[Granularity.RAW] == len(DEVICES) * 24


def test_a_late_reading_older_than_the_hourly_rollups_leaves_the_daily_ones_as_they_were(
    filled: tuple[Any, list[Reading]],
) -> None:
    store, _ = filled
    store.purge(purposes().retention_plan(), NOW)
    sel = Selection.of("temperature_c")
    span = (local_midnight(NOW - 60 * DAY), local_midnight(NOW - 50 * DAY))
    before = store.aggregate(sel, *span, "1d", Agg.COUNT, "Europe/Paris")
    late = Reading(NOW - 55 * DAY, DEVICES[0], "temperature_c", 40.0)
    store.write([late], TAGS)
    store.refresh_rollups()
    after = store.aggregate(sel, *span, "1d", Agg.COUNT, "Europe/Paris")
    np.testing.assert_array_equal(after.values, before.values)
    assert len(store.read(sel, *span).times) == 0  # dropped, not left as a raw point
    assert not np.any(rollup_starts(store, "1h") < ns(span[1]))  # no hourly row comes back

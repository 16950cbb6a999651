"""A day whose load shape differs from the building's past days of the same kind.

The building's consumption of each complete local day (kWh per hour of its registers that do
not only heat: a gas boiler's shape follows the weather and the setpoints, which the comfort and
unoccupied rules judge) becomes a 24-value profile by local hour (a 23-hour spring day repeats
its 01:00 hour for 02:00, a 25-hour autumn day averages its two 02:00 hours), divided by the
day's mean: its *shape*, so that the level (weather, a cold week) is left to the baseload and
deviation rules. Days are of two
kinds: with occupied hours, or without.

Causal: the latest complete day is compared with the ``reference_days`` before it of its kind
(at least ``min_reference_days``). Its distance is the mean Euclidean distance (per hour) to its
``neighbours`` nearest references; the references' own distances (each against the others) give
the usual spread. The day is anomalous when its distance exceeds the references' median by
``k_mad`` median absolute deviations and is at least ``min_distance``. Evidence names the hours
that differ most, with their kWh and the usual kWh (the references' median at that hour).

A k-nearest-neighbour distance rather than an isolation forest: with 10 to 30 reference days a
pass sees, it ranks days the same way and needs no library beyond numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from analytics.energy.building_hours import BuildingHours
from core.series import NS, FloatArray


@dataclass(frozen=True)
class LoadShapeParams:
    reference_days: int = field(default=28, metadata={"doc": "past days of the same kind"})
    min_reference_days: int = field(default=8, metadata={"doc": "needed to judge"})
    neighbours: int = field(default=3, metadata={"doc": "nearest references averaged"})
    k_mad: float = field(default=6.0, metadata={"doc": "MADs above the usual distance"})
    min_distance: float = field(default=0.25, metadata={"doc": "shape units (× day mean)"})


@dataclass(frozen=True)
class ShapeAnomaly:
    day: np.datetime64
    distance: float
    usual_distance: float
    evidence: dict[str, Any]


def daily_profiles(b: BuildingHours) -> tuple[np.ndarray, FloatArray, np.ndarray]:
    """Complete local days, their kWh by local hour [day, 24], and whether each was occupied."""
    rows = [r for r, reg in enumerate(b.registers) if reg.heating_share < 1.0]
    total = b.kwh[rows].sum(axis=0) if rows else np.full(b.n, np.nan)
    zone = ZoneInfo(b.zone)
    local_hour = np.array(
        [datetime.fromtimestamp(int(t) // NS, UTC).astimezone(zone).hour for t in b.hours_ns],
        dtype=np.int64,
    )
    days, inverse = np.unique(b.local_day, return_inverse=True)
    sums = np.zeros((len(days), 24))
    counts = np.zeros((len(days), 24))
    known = np.isfinite(total)
    np.add.at(sums, (inverse[known], local_hour[known]), total[known])
    np.add.at(counts, (inverse[known], local_hour[known]), 1)
    hours_in_day = np.bincount(inverse, minlength=len(days))
    known_in_day = np.bincount(inverse[known], minlength=len(days))
    with np.errstate(invalid="ignore"):
        profiles = sums / counts
    # A spring-forward day has no 02:00: it takes its 01:00.
    gap = (counts[:, 2] == 0) & (counts[:, 1] > 0)
    profiles[gap, 2] = profiles[gap, 1]
    complete = (known_in_day == hours_in_day) & (hours_in_day >= 23) & np.isfinite(profiles).all(1)
    # The window's first and last local days are cut by it unless they hold all their hours.
    occupied = np.bincount(inverse, weights=b.occupied.astype(float), minlength=len(days)) > 0
    return days[complete], profiles[complete], occupied[complete]


def _shape(profiles: FloatArray) -> FloatArray:
    mean = profiles.mean(axis=1, keepdims=True)
    return np.asarray(np.where(mean > 0, profiles / np.where(mean > 0, mean, 1.0), 0.0))


def _knn(x: FloatArray, refs: FloatArray, k: int) -> float:
    d = np.sqrt(((refs - x) ** 2).mean(axis=1))
    return float(np.sort(d)[: min(k, len(d))].mean())


def latest_shape_anomaly(b: BuildingHours, p: LoadShapeParams) -> tuple[ShapeAnomaly | None, bool]:
    """Whether the latest complete day's shape is anomalous; and whether it could be judged."""
    days, profiles, occupied = daily_profiles(b)
    if len(days) < 2:
        return None, False
    kind = occupied[-1]
    refs = np.flatnonzero(occupied[:-1] == kind)[-p.reference_days :]
    if len(refs) < p.min_reference_days:
        return None, False
    shapes = _shape(profiles)
    ref_shapes = shapes[refs]
    usual = np.array(
        [
            _knn(ref_shapes[i], np.delete(ref_shapes, i, axis=0), p.neighbours)
            for i in range(len(refs))
        ]
    )
    distance = _knn(shapes[-1], ref_shapes, p.neighbours)
    med = float(np.median(usual))
    mad = 1.4826 * float(np.median(np.abs(usual - med)))
    if distance < max(med + p.k_mad * mad, p.min_distance):
        return None, True
    typical = np.median(profiles[refs], axis=0)
    worst = np.argsort(-np.abs(shapes[-1] - np.median(ref_shapes, axis=0)))[:3]
    return (
        ShapeAnomaly(
            days[-1],
            distance,
            med,
            {
                "day": str(days[-1]),
                "occupied_day": bool(kind),
                "distance": round(distance, 2),
                "usual_distance": round(med, 2),
                "day_kwh": round(float(profiles[-1].sum()), 1),
                "usual_day_kwh": round(float(typical.sum()), 1),
                "hours": [
                    {
                        "local_hour": int(h),
                        "kwh": round(float(profiles[-1, h]), 1),
                        "usual_kwh": round(float(typical[h]), 1),
                    }
                    for h in sorted(worst.tolist())
                ],
                "reference_days": len(refs),
            },
        ),
        True,
    )

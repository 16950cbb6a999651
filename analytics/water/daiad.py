"""Load the DAIAD hourly register readings into an hourly consumption matrix.

File columns: ``household_id, timestamp_local, meter_reading_l, consumption_l_since_prev``
(naive local time, Spain, same rules as Europe/Paris). The file is read like any household
readings file (:mod:`analytics.water.household_csv`: the repeated October hour resolved by the
order of readings; the diff column is ignored) and the register readings become hourly litres by
the rules of :mod:`analytics.water.meter_hours` with ``HOUSEHOLD_HOURLY_RULES``: readings at most
90 min apart, each interval given to the UTC hour holding its midpoint, an hour known when its
intervals cover at least 45 min; reverse flow counted as zero, duplicates, and the ±248,5xx L
foreign readings dropped there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from analytics.water.axis import HourlyAxis
from analytics.water.household_csv import household_matrix, read_register_csv
from core.config import DEFAULT_ZONE


@dataclass(frozen=True)
class HourlyMatrix:
    """Hourly consumption (litres, NaN = missing) for several households on one axis."""

    household_ids: list[str]
    flow: NDArray[np.float64]
    axis: HourlyAxis


def load_daiad_hourly(path: str | Path, tz: str = DEFAULT_ZONE) -> HourlyMatrix:
    """Read the DAIAD hourly CSV into a ``[households, hours]`` matrix."""
    readings = read_register_csv(Path(path), tz)
    hours = household_matrix(readings, tz)
    return HourlyMatrix(
        household_ids=readings.household_ids,
        flow=np.asarray(hours.volume_l, dtype=np.float64),
        axis=hours.axis,
    )

"""What detectors read, loaded from the time-series store for their subjects over a window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from analytics.detectors.base import Subject
from analytics.levels.findings import QUANTITY as LEVEL_QUANTITY
from analytics.water.loading import (
    BUILDING_HOURLY_RULES,
    SectorMeters,
    register_matrix,
    sector_inflow,
    sector_matrix,
)
from analytics.water.meter_hours import HOUSEHOLD_HOURLY_RULES, MeterHours, RegisterRules
from core.config import DEFAULT_ZONE
from core.series import FloatArray, Int64Array, SeriesSet
from core.timeseries import Selection, TimeSeriesStore


@dataclass(frozen=True)
class HourlyRegisters:
    """Each subject's ``volume_m3`` register as litres per hour (rows follow the subjects)."""

    name: str
    rules: RegisterRules

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> MeterHours:
        devices = [s.devices[0] for s in subjects]
        return register_matrix(store, devices, start, end, rules=self.rules, tz=zone)


@dataclass(frozen=True)
class SectorQuarterHours:
    """Each sector's net inflow volume per 15-minute step (rows follow the subjects)."""

    name: str = "sector_quarter_hours"

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> MeterHours:
        boundaries = [SectorMeters(inflow=list(s.devices)) for s in subjects]
        return sector_matrix(store, boundaries, start, end, tz=zone)


@dataclass(frozen=True)
class SectorInflows:
    """Each sector's inflow as measured: (times ns, flow m³/h) per subject code."""

    name: str = "sector_inflows"

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> dict[str, tuple[Int64Array, FloatArray]]:
        return {
            s.code: sector_inflow(store, SectorMeters(inflow=list(s.devices)), start, end, tz=zone)
            for s in subjects
        }


@dataclass(frozen=True)
class RawReadings:
    """The raw readings of one quantity from the subjects' devices, as stored."""

    name: str
    quantity: str

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> SeriesSet:
        devices = [d for s in subjects for d in s.devices]
        return store.read(Selection.of(self.quantity, devices), start, end)


HOUSEHOLD_REGISTERS = HourlyRegisters("household_registers", HOUSEHOLD_HOURLY_RULES)
BUILDING_REGISTERS = HourlyRegisters("building_registers", BUILDING_HOURLY_RULES)
SECTOR_QUARTER_HOURS = SectorQuarterHours()
SECTOR_INFLOWS = SectorInflows()
LEVEL_READINGS = RawReadings("level_readings", LEVEL_QUANTITY)

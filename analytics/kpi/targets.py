"""Décret tertiaire trajectory and 2022 sobriety plan: a year against its reference years.

Décret tertiaire (décret 2019-771, code de la construction et de l'habitation R174-22 ff.):
buildings of 1,000 m² or more cut their final energy by 40 % in 2030, 50 % in 2040 and 60 % in
2050 against a reference year of 2010 or later, or reach an absolute level in kWh/m²/yr set per
activity (Cabs, arrêtés "valeurs absolues"). The year is compared with the reference in the
reference year's climate: its heating is scaled by DJU_ref / DJU_year (COSTIC degree days),
E_adj = E − H + H × DJU_ref / DJU_year, which leaves the consumption that does not depend on the
weather as it is. Progress is E_adj / E_ref − 1; the path is a straight line from the reference
year (0 %) to −40 % in 2030, then to −50 % in 2040 and −60 % in 2050; the gap is E_adj minus the
2030 target (what is left to save, in kWh).

2022 sobriety plan: −10 % by 2024 against 2019, on the consumption as measured; the
climate-adjusted change is given beside it (the same adjustment, to 2019's climate).

A year in progress is not compared (its months are not a year's); neither is a year whose meters
do not cover it all.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from analytics.kpi.building import BuildingYear

DECREE_AREA_M2 = 1000.0
MILESTONES = {2030: 0.40, 2040: 0.50, 2050: 0.60}
SOBRIETY_YEAR, SOBRIETY_TARGET, SOBRIETY_BY = 2019, -0.10, 2024
COMPLETE = 0.99  # of the period metered: under four days missing in a year


@dataclass(frozen=True, slots=True)
class Baseline:
    """A past year's final energy, all carriers, and its degree days (COSTIC), if known."""

    year: int
    energy_kwh: float
    degree_days: float | None
    source: str  # "registry" (declared) or "metered" (from the store)


def comparable(current: BuildingYear) -> bool:
    return not current.partial and current.coverage >= COMPLETE and current.energy_kwh > 0


def in_climate_of(current: BuildingYear, degree_days: float | None) -> float | None:
    """The year's energy in a reference year's climate; None when either DJU is unknown."""
    measured = current.degree_days_costic
    if degree_days is None or measured is None or measured < 1.0:
        return None
    heating = current.heating_kwh
    return current.energy_kwh - heating + heating * degree_days / measured


def path_reduction(year: int, reference_year: int) -> float:
    """The reduction the trajectory asks for in ``year`` (0.4 = −40 %)."""
    points = [(reference_year, 0.0), *sorted(MILESTONES.items())]
    if year <= reference_year:
        return 0.0
    for (y0, r0), (y1, r1) in itertools.pairwise(points):
        if year <= y1:
            return r0 + (r1 - r0) * (year - y0) / (y1 - y0)
    return MILESTONES[2050]


@dataclass(frozen=True, slots=True)
class Trajectory:
    subject: bool  # floor area of 1,000 m² or more
    reference: Baseline | None
    adjusted_kwh: float | None  # the year in the reference year's climate, when known
    climate_adjusted: bool  # False: compared as measured (a year's degree days unknown)
    change: float | None  # adjusted / reference − 1
    targets_kwh: dict[int, float]
    expected_kwh: float | None  # where the straight path stands this year
    on_track: bool | None
    gap_2030_kwh: float | None  # still to save to reach the 2030 target
    absolute_target_kwh_m2: float | None
    absolute_gap_kwh_m2: float | None  # kWh/m² above the absolute target (negative: below)


def trajectory(current: BuildingYear, reference: Baseline | None) -> Trajectory:
    b = current.building
    area = b.floor_area_m2
    subject = area is not None and area >= DECREE_AREA_M2
    absolute = b.absolute_target_kwh_m2
    ok = comparable(current)
    absolute_gap = (
        current.energy_kwh_m2 - absolute
        if ok and absolute is not None and current.energy_kwh_m2 is not None
        else None
    )
    if reference is None or reference.energy_kwh <= 0:
        return Trajectory(
            subject, reference, None, False, None, {}, None, None, None, absolute, absolute_gap
        )
    targets = {y: reference.energy_kwh * (1 - r) for y, r in MILESTONES.items()}
    adjusted = in_climate_of(current, reference.degree_days) if ok else None
    climate_adjusted = adjusted is not None
    if ok and adjusted is None:
        adjusted = current.energy_kwh  # a year's climate unknown: compared as measured
    expected = reference.energy_kwh * (1 - path_reduction(current.year, reference.year))
    return Trajectory(
        subject=subject,
        reference=reference,
        adjusted_kwh=adjusted,
        climate_adjusted=climate_adjusted,
        change=None if adjusted is None else adjusted / reference.energy_kwh - 1,
        targets_kwh=targets,
        expected_kwh=expected,
        on_track=None if adjusted is None else adjusted <= expected,
        gap_2030_kwh=None if adjusted is None else adjusted - targets[2030],
        absolute_target_kwh_m2=absolute,
        absolute_gap_kwh_m2=absolute_gap,
    )


@dataclass(frozen=True, slots=True)
class Sobriety:
    baseline: Baseline | None
    change: float | None  # as measured, against 2019
    change_adjusted: float | None  # in 2019's climate
    target_change: float
    met: bool | None


def sobriety(current: BuildingYear, baseline: Baseline | None) -> Sobriety:
    if baseline is None or baseline.energy_kwh <= 0 or not comparable(current):
        return Sobriety(baseline, None, None, SOBRIETY_TARGET, None)
    change = current.energy_kwh / baseline.energy_kwh - 1
    adjusted = in_climate_of(current, baseline.degree_days)
    return Sobriety(
        baseline=baseline,
        change=change,
        change_adjusted=None if adjusted is None else adjusted / baseline.energy_kwh - 1,
        target_change=SOBRIETY_TARGET,
        met=change <= SOBRIETY_TARGET,
    )


def declared(
    year: int | None, energy_kwh: float | None, degree_days: float | None
) -> Baseline | None:
    """A baseline from the registry's declared values."""
    if year is None or energy_kwh is None:
        return None
    return Baseline(year, energy_kwh, degree_days, "registry")


def metered(past: BuildingYear) -> Baseline | None:
    """A baseline from a metered year, when its meters cover all of it."""
    if not comparable(past):
        return None
    return Baseline(past.year, past.energy_kwh, past.degree_days_costic, "metered")

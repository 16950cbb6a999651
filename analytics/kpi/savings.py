"""Where to act first: each building's savings potential in kWh and €, ranked.

Three yardsticks, each giving a potential of max(0, consumption − yardstick):

- its own baseline: the same months of the previous year, their heating brought to this year's
  climate (B = E' − H' + H' × DJU / DJU', COSTIC degree days; as measured when either is
  unknown), over the months both years cover completely. This is the simple, documented
  per-building reference the energy baselines (time-of-week and temperature models) will
  replace;
- its peers: the median kWh/m² of the portfolio's buildings of the same activity category
  (at least ``MIN_PEERS`` with complete data, itself included), times its floor area;
- the national reference of its category (settings ``kpi.reference_kwh_m2``), for complete
  years only.

€ = kWh × the building's own average price (its cost over its energy, by carrier). Buildings rank
by their largest potential in € (in kWh when no price is known), largest first.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, replace

from analytics.kpi.building import BuildingYear

MIN_PEERS = 3
COMPLETE = 0.99  # of the period metered: under four days missing in a year
MONTH_COMPLETE = 0.999  # a month compared with last year's must be all there


@dataclass(frozen=True, slots=True)
class OwnBaseline:
    months: int  # months compared
    baseline_kwh: float
    actual_kwh: float


@dataclass(frozen=True, slots=True)
class Savings:
    building: str
    own: OwnBaseline | None
    own_kwh: float | None
    peer_median_kwh_m2: float | None
    peer_count: int
    peers_kwh: float | None
    national_kwh_m2: float | None
    national_kwh: float | None
    price_eur_kwh: float | None
    best_kwh: float | None
    best_basis: str | None  # own, peers or national
    rank: int = 0

    def eur(self, kwh: float | None) -> float | None:
        return None if kwh is None or self.price_eur_kwh is None else kwh * self.price_eur_kwh

    @property
    def best_eur(self) -> float | None:
        return self.eur(self.best_kwh)


def own_baseline(current: BuildingYear, previous: BuildingYear | None) -> OwnBaseline | None:
    """The previous year's same months, climate-corrected to this year's."""
    if previous is None:
        return None
    before = {m.month.month: m for m in previous.months}
    months, baseline, actual = 0, 0.0, 0.0
    for m in current.months:
        p = before.get(m.month.month)
        if p is None or not m.elapsed or m.coverage < MONTH_COMPLETE or p.coverage < MONTH_COMPLETE:
            continue
        heating = p.heating_kwh
        if (
            m.degree_days_costic is not None
            and p.degree_days_costic is not None
            and (p.degree_days_costic >= 1.0)
        ):
            heating = heating * m.degree_days_costic / p.degree_days_costic
        months += 1
        baseline += p.energy_kwh - p.heating_kwh + heating
        actual += m.energy_kwh
    return OwnBaseline(months, baseline, actual) if months else None


def _complete(y: BuildingYear) -> bool:
    return y.coverage >= COMPLETE and y.energy_kwh_m2 is not None and y.energy_kwh > 0


def rank_savings(
    years: list[BuildingYear],
    previous: dict[str, BuildingYear],
    national_kwh_m2: dict[str, float],
) -> list[Savings]:
    """The savings potential of every building, ranked (rank 1 first)."""
    groups: dict[str | None, list[float]] = defaultdict(list)
    for y in years:
        if _complete(y) and y.building.activity_category:
            groups[y.building.activity_category].append(y.energy_kwh_m2 or 0.0)
    out: list[Savings] = []
    for y in years:
        b = y.building
        own = own_baseline(y, previous.get(b.code))
        own_kwh = max(0.0, own.actual_kwh - own.baseline_kwh) if own else None
        peers = groups.get(b.activity_category, []) if b.activity_category else []
        median = statistics.median(peers) if len(peers) >= MIN_PEERS else None
        area = b.floor_area_m2
        peers_kwh = None
        if median is not None and _complete(y) and area:
            peers_kwh = max(0.0, ((y.energy_kwh_m2 or 0.0) - median) * area)
        national = national_kwh_m2.get(b.activity_category or "")
        national_kwh = None
        if national is not None and _complete(y) and not y.partial and area:
            national_kwh = max(0.0, ((y.energy_kwh_m2 or 0.0) - national) * area)
        price = y.cost_eur / y.energy_kwh if y.cost_eur is not None and y.energy_kwh > 0 else None
        candidates = [
            (kwh, basis)
            for kwh, basis in ((own_kwh, "own"), (peers_kwh, "peers"), (national_kwh, "national"))
            if kwh is not None
        ]
        best = max(candidates, key=lambda c: c[0]) if candidates else (None, None)
        out.append(
            Savings(
                building=b.code,
                own=own,
                own_kwh=own_kwh,
                peer_median_kwh_m2=median,
                peer_count=len(peers),
                peers_kwh=peers_kwh,
                national_kwh_m2=national,
                national_kwh=national_kwh,
                price_eur_kwh=price,
                best_kwh=best[0],
                best_basis=best[1],
            )
        )

    def key(s: Savings) -> tuple[float, float, str]:
        eur = s.best_eur
        return (-(eur if eur is not None else -1.0), -(s.best_kwh or -1.0), s.building)

    return [replace(s, rank=i + 1) for i, s in enumerate(sorted(out, key=key))]

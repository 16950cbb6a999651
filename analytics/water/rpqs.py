"""French RPQS performance indicators of a drinking-water network and the décret 2012-97 check.

Definitions (arrêté du 2 mai 2007, SISPEA; design brief §5 Water), volumes in m³ over the
period, L = network length in km excluding service connections, ``days`` = 365 for a year:

- V mis en distribution = V produit + V importé − V exporté
- V consommé autorisé = V comptabilisé + V consommateurs sans comptage + V de service du réseau
- P104.3 rendement (%) = (V consommé autorisé + V exporté) / (V produit + V importé) × 100
- P105.3 ILVNC (m³/km/day) = (V mis en distribution − V comptabilisé) / (days × L)
- P106.3 ILP (m³/km/day) = (V mis en distribution − V consommé autorisé) / (days × L)
- ILC (m³/km/day) = (V consommé autorisé + V exporté) / (days × L)
- Décret 2012-97: an action plan is due when the rendement is below 85 % *and* below
  ``65 + ILC/5`` (``base_pct`` is 70 instead of 65 where the resource is under quantitative
  distribution rules and withdrawals exceed 2 million m³ a year).  A rendement equal to the
  threshold complies.

Volumes the telemetry cannot see: V sans comptage (fire hydrants, street cleaning) and V de
service (mains flushing, reservoir cleaning) default to zero when the service gives no figure.
Zero is the cautious side: it can only lower the rendement and raise ILVNC and ILP; and a
network the décret check passes with zero also passes with the true volumes whenever
V produit + V importé is under 500 m³ per km and day (the rendement then gains more than the
threshold ``65 + ILC/5`` does), which real networks are far below.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.water.balance import SectorBalance

DECRET_RENDEMENT_PCT = 85.0
DECRET_BASE_PCT = 65.0
DECRET_ZRE_BASE_PCT = 70.0


@dataclass(frozen=True)
class RpqsVolumes:
    """The volumes (m³) of one service or sector over the period, as the RPQS names them."""

    produced_m3: float
    imported_m3: float
    exported_m3: float
    billed_m3: float  # V comptabilisé
    unmetered_m3: float = 0.0  # V consommateurs sans comptage
    service_m3: float = 0.0  # V de service du réseau
    network_length_km: float | None = None
    days: float = 365.0

    @property
    def distributed_m3(self) -> float:
        """V mis en distribution."""
        return self.produced_m3 + self.imported_m3 - self.exported_m3

    @property
    def authorised_m3(self) -> float:
        """V consommé autorisé."""
        return self.billed_m3 + self.unmetered_m3 + self.service_m3


@dataclass(frozen=True)
class DecretCheck:
    """Décret 2012-97 check; ``action_plan_due`` is None when L is unknown and it matters."""

    rendement_pct: float
    ilc_m3_km_day: float | None
    threshold_pct: float
    action_plan_due: bool | None


@dataclass(frozen=True)
class RpqsIndicators:
    """P104.3, P105.3, P106.3, ILC and the décret check; None where an input is missing."""

    distributed_m3: float
    authorised_m3: float
    rendement_pct: float | None
    ilvnc_m3_km_day: float | None
    ilp_m3_km_day: float | None
    ilc_m3_km_day: float | None
    decret: DecretCheck | None


def rendement_pct(v: RpqsVolumes) -> float | None:
    """P104.3, in %; None when nothing entered the network."""
    entered = v.produced_m3 + v.imported_m3
    return None if entered <= 0 else (v.authorised_m3 + v.exported_m3) / entered * 100.0


def _per_km_day(v: RpqsVolumes, volume_m3: float) -> float | None:
    if v.network_length_km is None or v.network_length_km <= 0 or v.days <= 0:
        return None
    return volume_m3 / (v.days * v.network_length_km)


def ilvnc(v: RpqsVolumes) -> float | None:
    """P105.3, non-revenue water index, m³/km/day."""
    return _per_km_day(v, v.distributed_m3 - v.billed_m3)


def ilp(v: RpqsVolumes) -> float | None:
    """P106.3, linear loss index, m³/km/day."""
    return _per_km_day(v, v.distributed_m3 - v.authorised_m3)


def ilc(v: RpqsVolumes) -> float | None:
    """Linear consumption index, m³/km/day."""
    return _per_km_day(v, v.authorised_m3 + v.exported_m3)


def decret_2012_97(
    rendement: float, ilc_m3_km_day: float | None, base_pct: float = DECRET_BASE_PCT
) -> DecretCheck:
    """Whether an action plan is due: rendement < 85 % and rendement < base + ILC/5."""
    if ilc_m3_km_day is None:
        due = None if rendement < DECRET_RENDEMENT_PCT else False
        return DecretCheck(rendement, None, DECRET_RENDEMENT_PCT, due)
    threshold = min(DECRET_RENDEMENT_PCT, base_pct + ilc_m3_km_day / 5.0)
    return DecretCheck(rendement, ilc_m3_km_day, threshold, rendement < threshold)


def rpqs_indicators(v: RpqsVolumes, base_pct: float = DECRET_BASE_PCT) -> RpqsIndicators:
    """Every indicator of one set of volumes."""
    r = rendement_pct(v)
    c = ilc(v)
    return RpqsIndicators(
        distributed_m3=v.distributed_m3,
        authorised_m3=v.authorised_m3,
        rendement_pct=r,
        ilvnc_m3_km_day=ilvnc(v),
        ilp_m3_km_day=ilp(v),
        ilc_m3_km_day=c,
        decret=None if r is None else decret_2012_97(r, c, base_pct),
    )


def volumes_from_balance(
    balance: SectorBalance,
    network_length_km: float | None,
    days: float = 365.0,
    unmetered_m3: float = 0.0,
    service_m3: float = 0.0,
) -> RpqsVolumes:
    """RPQS volumes of a sector from its balance over the period.

    The sector's metered inflow stands for V produit + V importé, its metered outflow for
    V exporté, the sum of its consumer meters for V comptabilisé; V sans comptage and V de
    service are the service's figures, zero when unknown (see the module note).
    """
    return RpqsVolumes(
        produced_m3=balance.inflow_m3,
        imported_m3=0.0,
        exported_m3=balance.outflow_m3,
        billed_m3=balance.consumption_m3,
        unmetered_m3=unmetered_m3,
        service_m3=service_m3,
        network_length_km=network_length_km,
        days=days,
    )

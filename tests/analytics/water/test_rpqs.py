"""RPQS indicators and the décret 2012-97 check, on volumes computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.water.balance import Coverage, SectorBalance
from analytics.water.rpqs import (
    RpqsVolumes,
    decret_2012_97,
    ilc,
    ilp,
    ilvnc,
    rendement_pct,
    rpqs_indicators,
    volumes_from_balance,
)

SERVICE = RpqsVolumes(
    produced_m3=1_000_000,
    imported_m3=50_000,
    exported_m3=100_000,
    billed_m3=700_000,
    unmetered_m3=10_000,
    service_m3=15_000,
    network_length_km=100,
)


def test_volumes_and_indicators_of_a_service() -> None:
    assert SERVICE.distributed_m3 == 950_000
    assert SERVICE.authorised_m3 == 725_000
    # (725,000 + 100,000) / 1,050,000
    assert rendement_pct(SERVICE) == pytest.approx(78.5714, abs=1e-4)
    # (950,000 − 700,000) / (365 × 100)
    assert ilvnc(SERVICE) == pytest.approx(6.8493, abs=1e-4)
    # (950,000 − 725,000) / 36,500
    assert ilp(SERVICE) == pytest.approx(6.1644, abs=1e-4)
    # (725,000 + 100,000) / 36,500
    assert ilc(SERVICE) == pytest.approx(22.6027, abs=1e-4)
    ind = rpqs_indicators(SERVICE)
    assert ind.decret is not None
    assert ind.decret.threshold_pct == pytest.approx(65 + 22.6027 / 5, abs=1e-4)
    assert ind.decret.action_plan_due is False


# ILC = 70,000 / (280 × 10) = 25 exactly, so the threshold is 65 + 5 = 70 %.
AT_THRESHOLD = RpqsVolumes(100_000, 0, 0, 70_000, network_length_km=10, days=280)


@pytest.mark.parametrize(
    ("billed_m3", "due"),
    [(70_000, False), (69_990, True), (90_000, False)],
)
def test_decret_threshold_65_plus_ilc_over_5_is_met_with_equality(
    billed_m3: float, due: bool
) -> None:
    v = RpqsVolumes(100_000, 0, 0, billed_m3, network_length_km=10, days=280)
    ind = rpqs_indicators(v)
    assert ind.decret is not None
    assert ind.decret.action_plan_due is due
    assert rpqs_indicators(AT_THRESHOLD).decret.threshold_pct == 70.0  # type: ignore[union-attr]


def test_decret_85_percent_caps_the_threshold_of_dense_networks() -> None:
    assert decret_2012_97(85.0, 150.0).threshold_pct == 85.0
    assert decret_2012_97(85.0, 150.0).action_plan_due is False
    assert decret_2012_97(84.9, 150.0).action_plan_due is True
    # Resources under distribution rules: 70 + ILC/5.
    assert decret_2012_97(72.0, 20.0, base_pct=70.0).action_plan_due is True


def test_without_network_length_the_indices_are_unknown() -> None:
    v = RpqsVolumes(100_000, 0, 0, 80_000)
    ind = rpqs_indicators(v)
    assert ind.rendement_pct == pytest.approx(80.0)
    assert ind.ilvnc_m3_km_day is None and ind.ilp_m3_km_day is None
    assert ind.decret is not None
    assert ind.decret.action_plan_due is None  # below 85 %: the ILC rule would decide
    assert rpqs_indicators(RpqsVolumes(100_000, 0, 0, 90_000)).decret.action_plan_due is False  # type: ignore[union-attr]
    assert rendement_pct(RpqsVolumes(0, 0, 0, 0)) is None


def test_volumes_from_a_year_of_balance() -> None:
    cov = Coverage(1, 1, 0, 0)
    b = SectorBalance(
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 1, tzinfo=UTC),
        inflow_m3=400_000,
        outflow_m3=50_000,
        input_m3=350_000,
        consumption_m3=280_000,
        non_revenue_m3=70_000,
        non_revenue_share=0.2,
        inflow_coverage=cov,
        outflow_coverage=cov,
        consumer_coverage=cov,
        meters=(),
    )
    v = volumes_from_balance(b, network_length_km=20)
    assert v.unmetered_m3 == 0 and v.service_m3 == 0  # unknown: zero, the cautious side
    assert v.distributed_m3 == 350_000
    assert rendement_pct(v) == pytest.approx((280_000 + 50_000) / 400_000 * 100)
    assert ilp(v) == pytest.approx(70_000 / (365 * 20))
    w = volumes_from_balance(b, 20, unmetered_m3=4_000, service_m3=6_000)
    assert ilp(w) == pytest.approx(60_000 / (365 * 20))
    assert ilvnc(w) == ilvnc(v)

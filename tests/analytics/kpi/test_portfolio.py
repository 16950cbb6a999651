"""A tenant's portfolio year: every building's report, references, and the ranking."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from analytics.kpi.portfolio import portfolio_year
from core.config import KpiSettings
from core.state.models import Building
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.analytics.kpi.conftest import NOW, YEAR


def test_the_portfolio_ranks_every_building_of_the_territory(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    p = portfolio_year(kpi_store, kpi_state, "agglo", YEAR, NOW, kpi_settings)

    assert p.tenants == ["agglo", "ville"] and p.tenant_name == "Agglomération du Val"
    assert not p.partial
    assert sorted(b.code for b in p.buildings) == [
        "ecole-curie",
        "ecole-ferry",
        "ecole-jaures",
        "mairie",
    ]
    assert [b.savings.rank for b in p.buildings if b.savings] == [1, 2, 3, 4]
    # Marie-Curie uses 30 % more per m² than Jean-Jaurès: first among the schools.
    schools = [b.code for b in p.buildings if b.code.startswith("ecole")]
    assert schools[0] == "ecole-curie"
    curie = next(b for b in p.buildings if b.code == "ecole-curie")
    assert curie.savings is not None and curie.savings.peer_count == 3
    assert (curie.savings.peers_kwh or 0) > 0
    assert p.total_kwh() == sum(b.current.energy_kwh for b in p.buildings)
    assert p.total_kwh("gas") + p.total_kwh("electricity") == p.total_kwh()
    assert p.total_kwh(previous=True) > 0
    assert p.carriers == ["electricity", "gas"]


def test_references_come_from_the_registry_or_from_metered_years(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    p = portfolio_year(kpi_store, kpi_state, "ville", YEAR, NOW, kpi_settings)
    by = {b.code: b for b in p.buildings}

    jaures = by["ecole-jaures"]
    assert jaures.trajectory.reference is not None
    assert (jaures.trajectory.reference.year, jaures.trajectory.reference.source) == (
        2015,
        "registry",
    )
    assert jaures.trajectory.subject and jaures.trajectory.climate_adjusted
    assert jaures.sobriety.baseline is not None and jaures.sobriety.change is not None
    # Jules-Ferry declares nothing and the store starts in 2024: no reference.
    assert by["ecole-ferry"].trajectory.reference is None
    assert by["ecole-ferry"].sobriety.baseline is None
    # The town hall declares its 2019 energy but not its degree days: compared as measured.
    mairie = by["mairie"].sobriety
    assert mairie.change is not None and mairie.change_adjusted is None
    assert jaures.previous is not None and jaures.previous.year == YEAR - 1
    assert jaures.comfort is not None and jaures.comfort_previous is not None


def test_a_metered_year_serves_as_reference_when_none_is_declared(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    with kpi_state.session() as session:
        ferry = session.scalars(select(Building).where(Building.code == "ecole-ferry")).one()
        ferry.reference_year = 2024
        session.commit()
    p = portfolio_year(kpi_store, kpi_state, "ville", YEAR, NOW, kpi_settings)
    ferry_report = next(b for b in p.buildings if b.code == "ecole-ferry")
    reference = ferry_report.trajectory.reference
    assert reference is not None and reference.source == "metered"
    assert ferry_report.previous is not None
    assert reference.energy_kwh == ferry_report.previous.energy_kwh


def test_unknown_tenant_and_future_year(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    with pytest.raises(LookupError):
        portfolio_year(kpi_store, kpi_state, "nowhere", YEAR, NOW, kpi_settings)
    with pytest.raises(ValueError, match="has not started"):
        portfolio_year(kpi_store, kpi_state, "agglo", 2027, NOW, kpi_settings)

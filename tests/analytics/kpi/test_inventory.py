"""What the KPIs read from the registry, on both state-store backends (SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from analytics.kpi.inventory import building_info, portfolio_buildings, tenant_scope
from core.state.registry_io import import_registry
from core.state.store import StateStore
from tests.analytics.kpi.conftest import OUTDOOR, SITES, SUBMETER

PROBES = """\
devices:
  - {dev_eui: "a840410000f70009", tenant: ville, codec_id: dragino/lht65, role: climate,
     site: s-mairie, parameters: {outdoor_temperature: true}}
  - {dev_eui: "a840410000f7000a", tenant: ville, codec_id: dragino/lht65, role: climate,
     building: mairie, parameters: {outdoor_temperature: false}}
"""


def test_meters_carriers_probes_and_submeters(state_store: StateStore, kpi_registry: Path) -> None:
    import_registry(state_store, kpi_registry)
    info = building_info(state_store, "ecole-jaures")
    assert info is not None
    site = SITES[0]
    assert [(m.device, m.carrier, m.heating_share) for m in info.meters] == [
        (site.linky, "electricity", 0.0),
        (site.gas, "gas", 1.0),
    ]
    assert info.submeters == (SUBMETER,)
    assert info.climate == (site.climate,)
    # The probe stands on the agglomeration's site: the commune's buildings find it there.
    assert [(p.device, p.channel) for p in info.outdoor] == [(OUTDOOR, "ext")]
    assert info.outdoor_scope == "territory" and info.territory == "agglo"
    assert info.reference_year == 2015 and info.operat_id == "EFA-0001"
    mairie = building_info(state_store, "mairie")
    assert mairie is not None and mairie.meters[0].heating_share == 0.5
    assert building_info(state_store, "nowhere") is None


def test_the_nearest_probe_wins(
    state_store: StateStore, kpi_registry: Path, tmp_path: Path
) -> None:
    import_registry(state_store, kpi_registry)
    (tmp_path / "probes.yaml").write_text(PROBES, encoding="utf-8")
    import_registry(state_store, tmp_path / "probes.yaml")
    mairie = building_info(state_store, "mairie")
    school = building_info(state_store, "ecole-jaures")
    assert mairie is not None and school is not None
    # A probe on the town hall's site (readings without a channel); the one on the building
    # itself says false: it is indoors, and also not a room sensor of the building's comfort.
    assert [(p.device, p.channel) for p in mairie.outdoor] == [("a840410000f70009", None)]
    assert mairie.outdoor_scope == "site"
    assert "a840410000f7000a" in mairie.climate
    assert school.outdoor_scope == "tenant"  # the commune's probe, nearer than the agglo's


def test_a_portfolio_is_a_tenant_and_its_communes(
    state_store: StateStore, kpi_registry: Path
) -> None:
    import_registry(state_store, kpi_registry)
    assert tenant_scope(state_store, "agglo") == ["agglo", "ville"]
    assert tenant_scope(state_store, "ville") == ["ville"]
    assert tenant_scope(state_store, "nowhere") is None
    codes = ["ecole-curie", "ecole-ferry", "ecole-jaures", "mairie"]
    assert [b.code for b in portfolio_buildings(state_store, "agglo")] == codes
    assert [b.code for b in portfolio_buildings(state_store, "ville")] == codes
    assert portfolio_buildings(state_store, "nowhere") == []

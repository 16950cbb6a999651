"""Territory files: the sample meets the issue's counts, and its registry imports for real."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.state.models import Building
from core.state.registry_io import import_registry
from core.state.store import StateStore
from simulator.territory_file import (
    SAMPLE_TERRITORY,
    TerritoryFileError,
    load_territory,
    write_registry,
)


def test_the_sample_territory_has_what_the_issue_asks() -> None:
    t = load_territory()
    communes = [x for x in t.tenants if x["kind"] == "commune"]
    assert {c["insee"] for c in communes} >= {"59139", "59136"} and len(communes) >= 3
    assert len(t.buildings) >= 15
    assert {b.kind.value for b in t.buildings} >= {
        "school",
        "town_hall",
        "gym",
        "pool",
        "media_library",
    }
    assert len(t.sectors) == 2 and sum(len(s.households) for s in t.sectors) >= 500
    assert len(t.stations) >= 2
    assert len(t.areas) >= 3 and sum(len(a.spaces) for a in t.areas) >= 60
    assert len(t.hubs) == 1


def test_devices_are_deterministic_and_distinct() -> None:
    first, again = load_territory(), load_territory()
    euis = [d.dev_eui for d in first.devices()]
    assert euis == [d.dev_eui for d in again.devices()]
    assert len(set(euis)) == len(euis)
    assert all(len(e) == 16 and int(e, 16) >= 0 for e in euis)


def test_the_exported_registry_imports_into_a_real_state_store(tmp_path: Path) -> None:
    t = load_territory()
    path = write_registry(t, tmp_path / "registry.yaml")
    store = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    store.migrate()
    try:
        report = import_registry(store, path)
        assert report.counts["devices"].inserted == len(t.devices())
        assert report.counts["spaces"].inserted == sum(len(a.spaces) for a in t.areas)
        assert not import_registry(store, path).changed  # re-import: nothing changes
        # The décret tertiaire references the KPIs need come through with the buildings.
        with store.session() as session:
            years = dict(session.execute(sa.select(Building.code, Building.reference_year)).all())
        declared = {b.code: b.references.get("reference_year") for b in t.buildings}
        assert years == declared and any(declared.values())
    finally:
        store.dispose()


def test_errors_name_the_line_and_the_field(tmp_path: Path) -> None:
    text = SAMPLE_TERRITORY.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("codec: dragino/ldds75", "codec: acme/ruler", 1), encoding="utf-8")
    with pytest.raises(TerritoryFileError) as caught:
        load_territory(bad)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "code: selle-le-cateau" in ln)
    assert any(
        e.startswith(f"bad.yaml:{line}: stations selle-le-cateau codec")
        for e in caught.value.errors
    )

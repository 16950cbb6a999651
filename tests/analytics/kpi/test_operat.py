"""The OPERAT annual CSV: a row per building and carrier, whole kWh, safe cells."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from analytics.kpi.building import BuildingYear, building_year
from analytics.kpi.inventory import building_info
from analytics.kpi.operat import COLUMNS, operat_csv
from core.config import KpiSettings
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.analytics.kpi.conftest import NOW, SITES, YEAR


def _years(state: StateStore, store: SqliteStore, settings: KpiSettings) -> list[BuildingYear]:
    out = []
    for s in SITES[:2] + SITES[3:]:
        info = building_info(state, s.building)
        assert info is not None
        out.append(building_year(store, info, YEAR, NOW, settings, baseload=False))
    return out


def test_one_row_per_building_and_carrier(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    years = _years(kpi_state, kpi_store, kpi_settings)

    data = operat_csv(years)

    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["reference_interne"], r["type_energie"]) for r in rows] == [
        ("ecole-jaures", "Électricité"),
        ("ecole-jaures", "Gaz naturel réseau"),
        ("ecole-curie", "Électricité"),
        ("ecole-curie", "Gaz naturel réseau"),
        ("mairie", "Électricité"),
    ]
    jaures_gas = rows[1]
    gas = next(c for c in years[0].carriers if c.carrier == "gas")
    assert jaures_gas["consommation"] == str(round(gas.energy_kwh)) and jaures_gas["unite"] == "kWh"
    assert (jaures_gas["identifiant_efa"], jaures_gas["annee_consommation"]) == ("EFA-0001", "2025")
    assert (jaures_gas["date_debut"], jaures_gas["date_fin"]) == ("2025-01-01", "2025-12-31")
    assert jaures_gas["assujetti_decret_tertiaire"] == "oui"
    assert jaures_gas["compteurs"] == SITES[0].gas
    assert rows[4]["identifiant_efa"] == ""  # the town hall has no EFA id in the registry
    assert data.count(b"\r\n") == len(rows) + 1


def test_names_that_look_like_formulas_are_neutralised(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    year = _years(kpi_state, kpi_store, kpi_settings)[0]
    hostile = replace(year, building=replace(year.building, name='=HYPERLINK("http://x")'))
    row = next(csv.reader(io.StringIO(operat_csv([hostile]).decode("utf-8-sig").split("\r\n")[1])))
    assert row[2] == '\'=HYPERLINK("http://x")'

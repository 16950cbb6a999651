"""Registry fields of the energy KPIs: building targets and meter parameters, in YAML and CSV."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.state.models import Building, Device
from core.state.registry_io import RegistryImportError, export_registry, import_registry
from core.state.store import StateStore

BASE = """\
tenants:
  - {code: caudry, name: Caudry, kind: commune, insee: "59139"}
sites:
  - {code: s, tenant: caudry, name: S}
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_targets_and_meter_parameters_survive_a_csv_round_trip(
    state_store: StateStore, tmp_path: Path
) -> None:
    import_registry(state_store, _write(tmp_path, "base.yaml", BASE))
    (tmp_path / "csv").mkdir()
    _write(
        tmp_path / "csv",
        "buildings.csv",
        "code;site;name;floor_area_m2;operat_id;reference_year;reference_energy_kwh;"
        "reference_degree_days;energy_2019_kwh;degree_days_2019;absolute_target_kwh_m2\n"
        "ecole;s;École;2150;EFA-0001;2012;412500,5;2790;390000;2480;95,5\n",
    )
    _write(
        tmp_path / "csv",
        "devices.csv",
        "dev_eui,tenant,codec_id,role,building,carrier,heating_share,submeter,"
        "outdoor_temperature,kwh_per_m3\n"
        '0000000000000001,caudry,milesight-iot/em300-di,gas_meter,ecole,gas,"0,8",non,,11.2\n'
        "0000000000000002,caudry,dragino/lht65,climate,ecole,,,,EXT,\n"
        "0000000000000003,caudry,adeunis/tic-cbe-linky-mono,energy_meter,ecole,,,oui,,\n",
    )
    import_registry(state_store, tmp_path / "csv")

    with state_store.session() as session:
        b = session.scalars(sa.select(Building)).one()
        assert (b.operat_id, b.reference_year, b.reference_energy_kwh) == (
            "EFA-0001",
            2012,
            412500.5,
        )
        assert (b.reference_degree_days, b.energy_2019_kwh, b.degree_days_2019) == (
            2790,
            390000,
            2480,
        )
        assert b.absolute_target_kwh_m2 == 95.5
        params = dict(session.execute(sa.select(Device.dev_eui, Device.parameters)).all())
    assert params == {
        "0000000000000001": {
            "carrier": "gas",
            "heating_share": 0.8,
            "submeter": False,
            "kwh_per_m3": 11.2,
        },
        "0000000000000002": {"outdoor_temperature": "ext"},
        "0000000000000003": {"submeter": True},
    }
    export_registry(state_store, tmp_path / "out")
    assert not import_registry(state_store, tmp_path / "out").changed
    export_registry(state_store, tmp_path / "out.yaml")
    assert not import_registry(state_store, tmp_path / "out.yaml").changed


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("reference_year: 2009", "reference_year", "greater than or equal to 2010"),
        ("reference_energy_kwh: 1000", None, "reference_energy_kwh without reference_year"),
        (
            "reference_year: 2015, reference_energy_kwh: -5",
            "reference_energy_kwh",
            "greater than or equal to 0",
        ),
        ("degree_days_2019: 0", "degree_days_2019", "greater than 0"),
        ("absolute_target_kwh_m2: 0", "absolute_target_kwh_m2", "greater than 0"),
    ],
)
def test_building_target_rules(
    state_store: StateStore, tmp_path: Path, row: str, field: str | None, reason: str
) -> None:
    path = _write(
        tmp_path, "r.yaml", BASE + f"buildings:\n  - {{code: b, site: s, name: B, {row}}}\n"
    )
    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)
    [error] = caught.value.errors
    assert error.field == field
    assert reason in error.reason


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ("{heating_share: 1.5}", "less than or equal to 1"),
        ("{carrier: coal}", "Input should be 'electricity'"),
        ("{outdoor_temperature: 'dehors !'}", "channel that measures the outdoor air"),
    ],
)
def test_meter_parameter_rules(
    state_store: StateStore, tmp_path: Path, parameters: str, reason: str
) -> None:
    path = _write(
        tmp_path,
        "r.yaml",
        BASE
        + "devices:\n  - {dev_eui: '0000000000000001', tenant: caudry, codec_id: dragino/lht65,"
        + f" role: climate, parameters: {parameters}}}\n",
    )
    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)
    assert reason in caught.value.errors[0].reason

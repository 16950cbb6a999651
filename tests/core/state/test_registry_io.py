"""Registry import/export: validation with line numbers, all-or-nothing, idempotent upserts."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.clock import ManualClock
from core.state.models import Building, Device, Hub, ParkingSpace, Tenant, WaterSector
from core.state.registry_io import (
    KindCounts,
    RegistryImportError,
    export_registry,
    import_registry,
)
from core.state.store import StateStore
from core.state.vocabulary import MeterDirection

SAMPLE = Path(__file__).parents[3] / "vigie" / "data" / "sample_registry.yaml"
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

TENANTS_YAML = """\
tenants:
  - {code: agglo, name: Agglo, kind: agglomeration}
  - {code: caudry, name: Caudry, kind: commune, insee: "59139", parent: agglo}
"""


def _write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding=encoding)
    return path


def _count(store: StateStore, model: type[Any]) -> int:
    with store.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _device(store: StateStore, dev_eui: str) -> Device:
    with store.session() as session:
        return session.scalars(sa.select(Device).where(Device.dev_eui == dev_eui)).one()


def _updated_at(store: StateStore) -> dict[str, datetime]:
    with store.session() as session:
        return dict(session.execute(sa.select(Device.dev_eui, Device.updated_at)).all())


def test_sample_registry_imports_cleanly(state_store: StateStore) -> None:
    report = import_registry(state_store, SAMPLE)

    assert {kind: counts.inserted for kind, counts in report.counts.items()} == {
        "tenants": 5,
        "sites": 8,
        "buildings": 6,
        "sectors": 1,
        "areas": 2,
        "devices": 22,
        "spaces": 7,
        "hubs": 1,
    }
    assert report.rows == 52 and report.changed and report.elapsed_s > 0
    assert state_store.device_tags(["70b3d5e050020001"]) == {
        "70b3d5e050020001": {
            "tenant": "ca-caudresis",
            "area": "59136-C-001",
            "model": "nwave/nps405",
        }
    }
    inflow = _device(state_store, "24e1241260a30001")
    assert inflow.parameters == {"pulse_weight": 0.1, "index_offset": 152347.6, "heartbeat_s": 900}
    with state_store.session() as session:
        hub = session.scalars(sa.select(Hub)).one()
        assert [area.id_lieu for area in hub.areas] == ["59139-C-001", "59136-C-001"]
        assert hub.name == "Pôle d'échanges de Caudry"
        school = session.scalars(sa.select(Building).where(Building.code == "caudry-ecole-jaures"))
        assert school.one().schedule == {
            day: [["08:20", "11:45"], ["13:30", "16:30"]] for day in ("mon", "tue", "thu", "fri")
        }


def test_reimporting_the_same_file_changes_nothing(state_store: StateStore) -> None:
    clock = ManualClock(T0)
    import_registry(state_store, SAMPLE, clock=clock)
    before = _updated_at(state_store)
    clock.advance(timedelta(days=1))

    report = import_registry(state_store, SAMPLE, clock=clock)

    assert not report.changed
    assert all(c.unchanged == c.total for c in report.counts.values())
    assert _updated_at(state_store) == before == dict.fromkeys(before, T0)


def test_reimporting_a_modified_file_updates_only_what_changed(
    state_store: StateStore, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    import_registry(state_store, SAMPLE, clock=clock)
    text = SAMPLE.read_text(encoding="utf-8")
    edited = (
        text.replace("name: Compteur d'eau, gymnase", "name: Compteur d'eau, gymnase (DN25)")
        .replace("pulse_weight: 0.1,", "pulse_weight: 0.25,")
        .replace("areas: [59139-C-001, 59136-C-001]", "areas: [59136-C-001, 59139-C-001]")
        .replace('inflow: ["24e1241260a30001"]', 'outflow: ["24e1241260a30001"]')
    )
    assert edited.count("\n") == text.count("\n") and edited != text
    clock.advance(timedelta(hours=1))

    report = import_registry(state_store, _write(tmp_path, "registry.yaml", edited), clock=clock)

    assert report.counts["devices"] == KindCounts(inserted=0, updated=2, unchanged=20)
    assert report.counts["hubs"] == KindCounts(updated=1)
    assert report.counts["sectors"] == KindCounts(updated=1)
    assert report.counts["buildings"] == KindCounts(unchanged=6)
    gym_meter = _device(state_store, "d8c3fb0000a10003")
    assert gym_meter.name == "Compteur d'eau, gymnase (DN25)"
    assert gym_meter.updated_at == T0 + timedelta(hours=1)
    assert gym_meter.created_at == T0
    assert _device(state_store, "24e1241260a30001").parameters["pulse_weight"] == 0.25
    with state_store.session() as session:
        hub = session.scalars(sa.select(Hub)).one()
        assert [area.id_lieu for area in hub.areas] == ["59136-C-001", "59139-C-001"]
        sector = session.scalars(sa.select(WaterSector)).one()
        assert sector.meters(MeterDirection.INFLOW) == []
        assert [d.dev_eui for d in sector.meters(MeterDirection.OUTFLOW)] == ["24e1241260a30001"]


def test_a_sector_file_alone_updates_its_boundary_meters(
    state_store: StateStore, tmp_path: Path
) -> None:
    import_registry(state_store, SAMPLE)
    sectors = _write(
        tmp_path,
        "sectors.csv",
        """\
        code,tenant,name,network_length_km,inflow,outflow
        caudry-centre,ca-caudresis,Secteur Caudry centre,42.5,24E1241260A30001,d8c3fb0000a10004
        """,
    )

    report = import_registry(state_store, sectors)

    assert report.counts == {"sectors": KindCounts(updated=1)}
    with state_store.session() as session:
        sector = session.scalars(sa.select(WaterSector)).one()
        assert [d.dev_eui for d in sector.meters(MeterDirection.OUTFLOW)] == ["d8c3fb0000a10004"]
    assert not import_registry(state_store, sectors).changed


@pytest.mark.parametrize(
    ("delimiter", "decimal", "encoding"),
    [(",", ".", "utf-8-sig"), (";", ",", "cp1252"), ("\t", ".", "utf-8")],
    ids=["comma-utf8-bom", "semicolon-decimal-comma-cp1252", "tab"],
)
def test_csv_import_reads_spreadsheet_conventions(
    state_store: StateStore, tmp_path: Path, delimiter: str, decimal: str, encoding: str
) -> None:
    def table(*rows: list[str]) -> str:
        return "".join(
            delimiter.join(_quote(cell, delimiter) for cell in row) + "\n" for row in rows
        )

    _write(
        tmp_path,
        "tenants.csv",
        table(
            ["Code", "Name", "Kind", "INSEE", "Parent"],
            ["caudry", "Caudry", "commune", "59139", ""],
        ),
        encoding,
    )
    building_cells = {
        "code": "ecole",
        "site": "s1",
        "name": 'École "Jaurès",\nbâtiment A',  # Alt+Enter in a spreadsheet cell
        "floor_area_m2": f"2150{decimal}5",
        "energy_carriers": "electricity; gas",
        "holiday_zone": "b",
        "mon": "08:00-12:00 13:30-17:00",
        "sat": "09:00-12:00",
    }
    device_cells = {
        "dev_eui": "70-B3-D5-E0-50-01-00-01",
        "tenant": "caudry",
        "codec_id": "Milesight-IoT/EM300-DI",
        "role": "energy_meter",
        "building": "ecole",
        "pulse_weight": f"0{decimal}25",
        "serial": "00123",
        "enabled": "oui",
    }
    _write(
        tmp_path,
        "buildings.csv",
        table(list(building_cells), list(building_cells.values())),
        encoding,
    )
    _write(
        tmp_path, "sites.csv", table(["code", "tenant", "name"], ["s1", "caudry", "Site"]), encoding
    )
    _write(
        tmp_path, "devices.csv", table(list(device_cells), list(device_cells.values())), encoding
    )

    report = import_registry(state_store, tmp_path)

    assert report.counts["devices"] == KindCounts(inserted=1)
    device = _device(state_store, "70b3d5e050010001")
    assert device.codec_id == "milesight-iot/em300-di"
    # Known parameters are typed; others are read as numbers/booleans only when unambiguous.
    assert device.parameters == {"pulse_weight": 0.25, "serial": "00123", "enabled": "oui"}
    with state_store.session() as session:
        building = session.scalars(sa.select(Building)).one()
        assert building.name == 'École "Jaurès", bâtiment A'
        assert building.floor_area_m2 == 2150.5
        assert building.energy_carriers == ["electricity", "gas"]
        assert building.holiday_zone == "B"
        assert building.schedule == {
            "mon": [["08:00", "12:00"], ["13:30", "17:00"]],
            "sat": [["09:00", "12:00"]],
        }


def _quote(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@pytest.mark.parametrize(("cell", "stored"), [("oui", True), ("Non", False), ("true", True)])
def test_continuous_use_is_a_typed_device_flag(
    state_store: StateStore, tmp_path: Path, cell: str, stored: bool
) -> None:
    _write(tmp_path, "tenants.csv", "code,name,kind,insee\ncaudry,Caudry,commune,59139\n")
    _write(
        tmp_path,
        "devices.csv",
        f"dev_eui;tenant;codec_id;role;continuous_use\n"
        f"0000000000000001;caudry;axioma/qalcosonic-w1;water_meter;{cell}\n",
    )
    import_registry(state_store, tmp_path)
    assert _device(state_store, "0000000000000001").parameters == {"continuous_use": stored}


def test_a_continuous_use_that_is_not_yes_or_no_is_refused(
    state_store: StateStore, tmp_path: Path
) -> None:
    _write(tmp_path, "tenants.csv", "code,name,kind,insee\ncaudry,Caudry,commune,59139\n")
    _write(
        tmp_path,
        "devices.csv",
        "dev_eui,tenant,codec_id,role,continuous_use\n"
        "0000000000000001,caudry,axioma/qalcosonic-w1,water_meter,la nuit\n",
    )
    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, tmp_path)
    assert [(e.field, e.value) for e in caught.value.errors] == [
        ("parameters.continuous_use", "la nuit")
    ]
    assert _count(state_store, Device) == 0


def test_broken_csv_lines_are_all_reported_and_nothing_is_imported(
    state_store: StateStore, tmp_path: Path
) -> None:
    _write(tmp_path, "tenants.csv", "code,name,kind,insee\ncaudry,Caudry,commune,59139\n")
    _write(
        tmp_path,
        "devices.csv",
        """\
        dev_eui,tenant,name,codec_id,role,pulse_weight
        0000000000000001,caudry,"Compteur, hall
        rez-de-chaussée",axioma/qalcosonic-w1,water_meter,
        00000000000000zz,caudry,Bad EUI,axioma/qalcosonic-w1,water_meter,
        0000000000000003,caudry,Good,axioma/qalcosonic-w1,water_meter,
        0000000000000004,nowhere,Unknown tenant,axioma/qalcosonic-w1,water_meter,
        0000000000000005,caudry,Bad role,axioma/qalcosonic-w1,thermometer,

        0000000000000006,caudry,Good,milesight-iot/em300-di,energy_meter,0.5
        0000000000000007,caudry,Negative pulse,milesight-iot/em300-di,energy_meter,-1
        0000000000000008,caudry,Good,axioma/qalcosonic-w1,water_meter,
        0000000000000009,caudry,No codec,,water_meter,
        """,
    )

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, tmp_path)

    errors = caught.value.errors
    assert caught.value.lines == [4, 6, 7, 10, 12]
    assert [(e.source, e.field, e.value) for e in errors] == [
        ("devices.csv", "dev_eui", "00000000000000zz"),
        ("devices.csv", "tenant", "nowhere"),
        ("devices.csv", "role", "thermometer"),
        ("devices.csv", "parameters.pulse_weight", -1),
        ("devices.csv", "codec_id", None),
    ]
    assert "devices.csv:7: devices role='thermometer': Input should be" in str(caught.value)
    assert "codec_id: required field is missing" in str(caught.value)
    assert _count(state_store, Device) == 0
    assert _count(state_store, Tenant) == 0  # the valid tenants.csv of the same import too


def test_unknown_references_are_reported_on_the_yaml_item_line(
    state_store: StateStore, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "registry.yaml",
        TENANTS_YAML
        + """\
devices:
  - dev_eui: "0000000000000001"
    tenant: caudry
    codec_id: axioma/qalcosonic-w1
    role: water_meter
    building: nowhere
  - {dev_eui: "0000000000000002", tenant: caudry, codec_id: nwave/nps405, role: parking_space,
     area: 59139-C-404}
hubs:
  - {code: hub, tenant: agglo, name: Hub, areas: [59139-C-404]}
""",
    )

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)

    assert [(e.line, e.field, e.value) for e in caught.value.errors] == [
        (5, "building", "nowhere"),
        (10, "area", "59139-C-404"),
        (13, "areas", "59139-C-404"),
    ]
    assert "unknown building" in caught.value.errors[0].reason


def test_references_may_point_at_rows_already_stored(
    state_store: StateStore, tmp_path: Path
) -> None:
    import_registry(state_store, _write(tmp_path, "tenants.yaml", TENANTS_YAML))
    devices = _write(
        tmp_path,
        "meters.csv",
        "dev_eui,tenant,codec_id,role\n0000000000000001,caudry,axioma/qalcosonic-w1,water_meter\n",
    )

    report = import_registry(state_store, devices, kind="devices")

    assert report.counts == {"devices": KindCounts(inserted=1)}
    assert state_store.device_tags() == {
        "0000000000000001": {"tenant": "caudry", "model": "axioma/qalcosonic-w1"}
    }


@pytest.mark.parametrize("target", ["registry.yaml", "registry-csv"], ids=["yaml", "csv"])
def test_export_then_import_reproduces_the_registry(
    make_state_store: Callable[[], StateStore], tmp_path: Path, target: str
) -> None:
    original, copy = make_state_store(), make_state_store()
    import_registry(original, SAMPLE)
    export_registry(original, tmp_path / target)

    report = import_registry(copy, tmp_path / target)

    assert report.rows == 52 and report.counts["devices"] == KindCounts(inserted=22)
    export_registry(original, tmp_path / "original.yaml")
    export_registry(copy, tmp_path / "copy.yaml")
    original_text = (tmp_path / "original.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "copy.yaml").read_text(encoding="utf-8") == original_text
    assert copy.device_tags() == original.device_tags()
    assert not import_registry(original, tmp_path / target).changed


def test_exported_csv_files_round_trip_unusual_parameters(
    state_store: StateStore, tmp_path: Path
) -> None:
    import_registry(state_store, _write(tmp_path, "tenants.yaml", TENANTS_YAML))
    parameters = {"serial": "00123", "label": "A, B", "Mixed": 1, "mapping": {"k": [1, 2]}}
    registry = _write(
        tmp_path,
        "devices.yaml",
        f"""\
        devices:
          - dev_eui: "0000000000000001"
            tenant: caudry
            codec_id: adeunis/pulse
            role: energy_meter
            parameters: {parameters!r}
        """,
    )
    import_registry(state_store, registry)
    export_registry(state_store, tmp_path / "csv")

    report = import_registry(state_store, tmp_path / "csv")

    assert not report.changed
    assert _device(state_store, "0000000000000001").parameters == parameters


def test_exported_csv_cells_never_run_as_formulas_and_still_round_trip(
    state_store: StateStore, tmp_path: Path
) -> None:
    import_registry(state_store, _write(tmp_path, "tenants.yaml", TENANTS_YAML))
    parameters = {"label": "@SUM(A1)", "note": "-2+3", "offset_m3": -3.5, "quoted": "'=x"}
    registry = _write(
        tmp_path,
        "devices.yaml",
        f"""\
        devices:
          - dev_eui: "0000000000000001"
            name: "=HYPERLINK(\\"http://evil.example\\", \\"ok\\")"
            tenant: caudry
            codec_id: adeunis/pulse
            role: energy_meter
            parameters: {parameters!r}
        """,
    )
    import_registry(state_store, registry)
    export_registry(state_store, tmp_path / "csv")

    [header, row] = list(csv.reader((tmp_path / "csv" / "devices.csv").open(encoding="utf-8")))
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == '\'=HYPERLINK("http://evil.example", "ok")'
    assert (cells["label"], cells["note"], cells["quoted"]) == ("'@SUM(A1)", "'-2+3", "''=x")
    assert cells["offset_m3"] == "-3.5"  # a number stays a number
    assert [c for c in row if c.startswith(("=", "+", "-", "@"))] == ["-3.5"]

    assert not import_registry(state_store, tmp_path / "csv").changed
    device = _device(state_store, "0000000000000001")
    assert device.name == '=HYPERLINK("http://evil.example", "ok")'
    assert device.parameters == parameters


def test_a_key_given_twice_is_reported_on_its_second_line(
    state_store: StateStore, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "tenants.csv",
        "code,name,kind,insee\ncaudry,Caudry,commune,59139\ncaudry,Caudry bis,commune,59139\n",
    )

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)

    assert caught.value.lines == [3]
    assert caught.value.errors[0].reason == "duplicate, already on line 2"


def test_an_unknown_column_is_reported_on_the_header_line(
    state_store: StateStore, tmp_path: Path
) -> None:
    path = _write(tmp_path, "sites.csv", "code,tenant,name,surface\ns1,caudry,Site,12\n")

    with pytest.raises(
        RegistryImportError, match=r"sites.csv:1: sites unknown column\(s\) surface"
    ):
        import_registry(state_store, path)


def test_a_misspelt_device_column_is_not_taken_for_a_parameter(
    state_store: StateStore, tmp_path: Path
) -> None:
    path = _write(tmp_path, "devices.csv", "dev_eui,tenant,codec_id,role,bulding\n")

    with pytest.raises(
        RegistryImportError, match="unknown column 'bulding': did you mean 'building'"
    ):
        import_registry(state_store, path)


def test_a_csv_of_no_known_kind_is_refused(state_store: StateStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "export-2024.csv", "code,name\n")

    with pytest.raises(RegistryImportError, match="cannot tell the kind from the file name"):
        import_registry(state_store, path)


@pytest.mark.parametrize(
    ("tenant", "reason"),
    [
        ("{code: t, name: T, kind: commune}", "a commune needs its INSEE code"),
        (
            "{code: t, name: T, kind: commune, insee: '59075', parent: caudry}",
            "must be an agglomeration",
        ),
        ("{code: t, name: T, kind: agglomeration, parent: agglo}", "only a commune has a parent"),
        ("{code: t, name: T, kind: region}", "Input should be 'commune' or 'agglomeration'"),
        ("{code: t, name: T, kind: commune, insee: '5913'}", "String should match pattern"),
    ],
)
def test_tenant_rules(state_store: StateStore, tmp_path: Path, tenant: str, reason: str) -> None:
    path = _write(tmp_path, "registry.yaml", TENANTS_YAML + f"  - {tenant}\n")

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)

    assert [e.line for e in caught.value.errors] == [4]
    assert reason in caught.value.errors[0].reason


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("floor_area_m2: 0", "floor_area_m2", "greater than 0"),
        ("holiday_zone: D", "holiday_zone", "Input should be 'A', 'B' or 'C'"),
        ("energy_carriers: [electricity, coal]", "energy_carriers.1", "Input should be"),
        ("schedule: {mon: ['18:00-08:00']}", "schedule", "mon: 18:00-08:00 ends before it starts"),
        ("schedule: {mon: ['08:00-12:00', '11:00-14:00']}", "schedule", "overlaps"),
        ("schedule: {lundi: ['08:00-12:00']}", "schedule", "unknown day(s) lundi"),
    ],
)
def test_building_rules(
    state_store: StateStore, tmp_path: Path, row: str, field: str, reason: str
) -> None:
    path = _write(
        tmp_path,
        "registry.yaml",
        TENANTS_YAML
        + "sites:\n  - {code: s, tenant: caudry, name: S}\n"
        + f"buildings:\n  - {{code: b, site: s, name: B, {row}}}\n",
    )

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)

    [error] = caught.value.errors
    assert (error.line, error.field) == (7, field)
    assert reason in error.reason


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        ("id_lieu: 59139-X-001", "String should match pattern"),
        ("nbre_pl: -1", "greater than or equal to 0"),
        ("nbre_pmr: 50", "nbre_pmr=50 exceeds the capacity nbre_pl=40"),
        ("ylat: 95", "less than or equal to 90"),
        ("type: Parking sauvage", "Input should be 'Aire de covoiturage'"),
    ],
)
def test_area_rules(state_store: StateStore, tmp_path: Path, area: str, reason: str) -> None:
    fields = {
        "id_lieu": "59139-C-001",
        "tenant": "agglo",
        "nom_lieu": "Gare",
        "insee": "'59139'",
        "type": "Parking relais",
        "xlong": "3.41",
        "ylat": "50.1",
        "nbre_pl": "40",
    }
    key, value = area.split(": ")
    fields[key] = value
    item = ", ".join(f"{k}: {v}" for k, v in fields.items())
    path = _write(tmp_path, "registry.yaml", TENANTS_YAML + f"areas:\n  - {{{item}}}\n")

    with pytest.raises(RegistryImportError) as caught:
        import_registry(state_store, path)

    [error] = caught.value.errors
    assert error.line == 5 and reason in error.reason


def test_a_device_on_a_building_of_another_site_is_refused(
    state_store: StateStore, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "registry.yaml",
        TENANTS_YAML
        + """\
sites:
  - {code: s1, tenant: caudry, name: One}
  - {code: s2, tenant: caudry, name: Two}
buildings:
  - {code: b1, site: s1, name: B1}
devices:
  - {dev_eui: "0000000000000001", tenant: caudry, codec_id: a/b, role: climate,
     site: s2, building: b1}
""",
    )

    with pytest.raises(RegistryImportError, match="building 'b1' is on site 's1'"):
        import_registry(state_store, path)


def test_sensors_can_swap_spaces_and_leave_them(state_store: StateStore, tmp_path: Path) -> None:
    import_registry(state_store, SAMPLE)
    swap = _write(
        tmp_path,
        "spaces.csv",
        """\
        code,area,device
        59139-C-001-P01,59139-C-001,70b3d5e050010002
        59139-C-001-P02,59139-C-001,70b3d5e050010001
        59139-C-001-P03,59139-C-001,
        """,
    )

    report = import_registry(state_store, swap)

    assert report.counts["spaces"] == KindCounts(updated=3)
    with state_store.session() as session:
        bound = session.execute(
            sa.select(ParkingSpace.code, Device.dev_eui)
            .outerjoin(Device, ParkingSpace.device_id == Device.id)
            .where(ParkingSpace.code.like("59139-C-001-P0_"))
            .order_by(ParkingSpace.code)
        ).all()
    assert [tuple(row) for row in bound] == [
        ("59139-C-001-P01", "70b3d5e050010002"),
        ("59139-C-001-P02", "70b3d5e050010001"),
        ("59139-C-001-P03", None),
        ("59139-C-001-P04", "70b3d5e050010004"),
    ]


def test_a_sensor_bound_elsewhere_is_refused(state_store: StateStore, tmp_path: Path) -> None:
    import_registry(state_store, SAMPLE)
    path = _write(tmp_path, "spaces.csv", "code,area,device\nnew,59139-C-001,70b3d5e050010004\n")

    with pytest.raises(RegistryImportError, match="sensor already watches space '59139-C-001-P04'"):
        import_registry(state_store, path)


def test_yaml_scalars_are_read_as_yaml_1_2(state_store: StateStore, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "registry.yaml",
        TENANTS_YAML
        + """\
sites:
  - {code: s, tenant: caudry, name: S}
buildings:
  - code: b
    site: s
    name: No
    schedule: {mon: [[08:00, 18:00]], sat: [09:00-12:00]}
devices:
  - {dev_eui: 1234567890123456, tenant: caudry, codec_id: a/b, role: climate, model: on}
""",
    )

    import_registry(state_store, path)

    with state_store.session() as session:
        building = session.scalars(sa.select(Building)).one()
        assert building.name == "No"
        assert building.schedule == {"mon": [["08:00", "18:00"]], "sat": [["09:00", "12:00"]]}
    assert _device(state_store, "1234567890123456").model == "on"


def test_invalid_yaml_is_reported_with_its_line(state_store: StateStore, tmp_path: Path) -> None:
    path = _write(tmp_path, "registry.yaml", TENANTS_YAML + "sites:\n  - {code: s, tenant: [\n")

    with pytest.raises(RegistryImportError, match="invalid YAML") as caught:
        import_registry(state_store, path)

    assert caught.value.lines == [6]

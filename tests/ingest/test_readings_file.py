"""Readings from CSV files: validated line by line, all or nothing, idempotent; load curves of
one meter with their own columns, decimal commas and local times across the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.stores.sqlite import SqliteStore
from core.timeseries import Selection, Tags
from ingest.readings_file import Columns, ReadingsFileError, import_readings, read_readings

METER = "a840414b61866d2f"
LINKY = "0018b20ef9417a05"
REGISTERED: dict[str, Tags] = {METER: {"tenant": "caudry"}, LINKY: {"tenant": "caudry"}}
NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = timedelta(days=400)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readings.csv"
    path.write_text(text, encoding="utf-8")
    return path


def stored(series: SqliteStore, quantity: str) -> list[tuple[datetime, str | None, float]]:
    got = series.read(Selection.of(quantity), NOW - DAYS, NOW)
    return [(r.time, r.channel, r.value) for r in got.readings()]


def test_readings_of_registered_devices_are_imported(tmp_path: Path, series: SqliteStore) -> None:
    path = write(
        tmp_path,
        "device,timestamp,quantity,value,channel\n"
        f"{METER},2026-11-30T10:00:00Z,volume_m3,120.5,\n"
        f"{METER.upper()},2026-11-30T12:00:00+01:00,volume_m3,120.7,\n"
        f"{LINKY},2026-11-30 12:00:00,energy_kwh,5012.25,hp\n",
    )
    report = import_readings(path, Columns(), series, REGISTERED.get, NOW)
    assert (report.written, report.devices) == (3, 2)
    assert stored(series, "volume_m3") == [
        (datetime(2026, 11, 30, 10, tzinfo=UTC), None, 120.5),
        (datetime(2026, 11, 30, 11, tzinfo=UTC), None, 120.7),
    ]
    # A time without an offset is Paris time: 12:00 in November is 11:00 UTC.
    assert stored(series, "energy_kwh") == [(datetime(2026, 11, 30, 11, tzinfo=UTC), "hp", 5012.25)]
    again = import_readings(path, Columns(), series, REGISTERED.get, NOW)
    assert again.written == 3 and len(stored(series, "volume_m3")) == 2, "idempotent"


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_written(
    tmp_path: Path, series: SqliteStore
) -> None:
    path = write(
        tmp_path,
        "device,timestamp,quantity,value\n"
        f"{METER},2026-11-30T10:00:00Z,volume_m3,120.5\n"  # 2: good
        "ffffffffffff0001,2026-11-30T10:00:00Z,volume_m3,1\n"  # 3: not registered
        f"{METER},2026-11-30T11:00:00Z,volume_litres,1\n"  # 4: unknown quantity
        f"{METER},30/11/2026 11:00,volume_m3,1\n"  # 5: not ISO 8601
        f"{METER},2026-11-30T12:00:00Z,volume_m3,abc\n"  # 6: not a number
        f"{METER},2026-11-30T13:00:00Z,humidity_pct,130\n"  # 7: out of range
        f"{METER},2027-06-01T00:00:00Z,volume_m3,121\n"  # 8: in the future
        f"{METER},2026-11-30T10:00:00Z,volume_m3,999\n"  # 9: repeats 2 with another value
        f"{METER},2026-11-30T14:00:00Z\n"  # 10: columns missing
        "not-a-deveui,2026-11-30T14:00:00Z,volume_m3,1\n",  # 11: not a DevEUI
    )
    with pytest.raises(ReadingsFileError) as caught:
        import_readings(path, Columns(), series, REGISTERED.get, NOW)
    reasons = {e.line: e.reason for e in caught.value.errors}
    assert sorted(reasons) == list(range(3, 12))
    assert "not in the registry" in reasons[3]
    assert "vocabulary" in reasons[4]
    assert "ISO 8601" in reasons[5]
    assert "not a number" in reasons[6]
    assert "out of range" in reasons[7]
    assert "future" in reasons[8]
    assert "repeats line 2" in reasons[9]
    assert "columns expected" in reasons[10]
    assert "DevEUI" in reasons[11]
    assert "line 3:" in str(caught.value) and "nothing imported" in str(caught.value)
    assert stored(series, "volume_m3") == [], "all or nothing"


ENEDIS = """Identifiant PRM;Date de début;Date de fin;Grandeur physique;Unité
12345678901234;2026-03-28;2026-03-30;Puissance active;kW
Horodate;Valeur
2026-03-29 01:30:00;1,250
2026-03-29 03:00:00;1,500
2026-03-29 03:30:00;0,875
"""


def test_a_load_curve_export_is_mapped_onto_one_meter(tmp_path: Path, series: SqliteStore) -> None:
    """An Enedis-like export: a preamble, ';', decimal commas, kW, Paris time over the spring
    clock change (02:00-03:00 does not exist)."""
    columns = Columns(
        time="Horodate",
        value="Valeur",
        device=None,
        quantity=None,
        channel=None,
        fixed_device=LINKY,
        fixed_quantity="power_w",
        scale=1000.0,
        delimiter=";",
        decimal_comma=True,
        skip_lines=2,
    )
    import_readings(write(tmp_path, ENEDIS), columns, series, REGISTERED.get, NOW)
    assert stored(series, "power_w") == [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), None, 1250.0),  # 01:30 CET
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), None, 1500.0),  # 03:00 CEST
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), None, 875.0),
    ]


@pytest.mark.parametrize(
    ("local", "reason"),
    [
        ("2026-03-29 02:30:00", "does not exist"),  # spring: clocks jump from 02:00 to 03:00
        ("2026-10-25 02:30:00", "happens twice"),  # autumn: 02:00-03:00 twice
    ],
)
def test_a_local_time_the_clock_change_makes_unclear_is_refused(
    tmp_path: Path, local: str, reason: str
) -> None:
    path = write(tmp_path, f"device,timestamp,quantity,value\n{METER},{local},volume_m3,1\n")
    with pytest.raises(ReadingsFileError, match=reason):
        read_readings(path, Columns(), REGISTERED.get, NOW)
    with_offset = local.replace(" ", "T") + "+01:00"
    path = write(tmp_path, f"device,timestamp,quantity,value\n{METER},{with_offset},volume_m3,1\n")
    assert len(read_readings(path, Columns(), REGISTERED.get, NOW).readings) == 1


def test_a_missing_column_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "meter,time,value\nx,y,1\n")
    with pytest.raises(ReadingsFileError, match="no column timestamp, device, quantity"):
        read_readings(path, Columns(), REGISTERED.get, NOW)

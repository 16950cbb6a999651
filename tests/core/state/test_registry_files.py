"""Registry files: what the exporter writes, the reader reads back as the same values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.state.registry_files import read_csv, read_yaml, section_of, write_csv, write_yaml
from core.state.registry_rows import DeviceRow

# Any text a parameter may hold, minus what no file can carry (NUL, lone surrogates); names
# have no control characters but line breaks and tabs (the row models refuse the others).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
NAMES = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\r\t"), max_size=30
)
VALUES = st.one_of(
    TEXT,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
PARAMETERS = st.dictionaries(st.from_regex(r"p_[a-z0-9_]{1,8}", fullmatch=True), VALUES, max_size=4)


def _device(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    row = {"dev_eui": "0000000000000001", "tenant": "t", "codec_id": "a/b", "role": "climate"}
    if name.strip():
        row["name"] = name
    if parameters:
        row["parameters"] = parameters
    return row


@settings(max_examples=150, deadline=None)
@given(name=NAMES, parameters=PARAMETERS)
def test_devices_survive_a_csv_round_trip(
    tmp_path_factory: Any, name: str, parameters: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("csv") / "devices.csv"
    written = _device(name, parameters)
    write_csv(path, "devices", [written])

    [raw], errors = read_csv(path, "devices")

    assert errors == []
    assert DeviceRow.model_validate(raw.data) == DeviceRow.model_validate(written)


@settings(max_examples=150, deadline=None)
@given(name=NAMES, parameters=PARAMETERS)
def test_devices_survive_a_yaml_round_trip(
    tmp_path_factory: Any, name: str, parameters: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("yaml") / "registry.yaml"
    written = _device(name, parameters)
    write_yaml(path, {"devices": [written]}, "round trip")

    [raw], errors = read_yaml(path)

    assert errors == []
    assert raw.data == written and raw.line == 3


def test_csv_file_names_tell_the_kind() -> None:
    names = ["devices.csv", "Device.csv", "devices-caudry.csv", "areas_2024.csv", "other.csv"]

    assert [section_of(Path(n)) for n in names] == ["devices", "devices", "devices", "areas", None]

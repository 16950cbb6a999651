"""Reading and writing registry files (YAML document, CSV per kind) as line-numbered raw rows."""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.csv_cells import neutralise, restore
from core.state.registry_errors import RowError
from core.state.registry_rows import ROW_MODELS, SECTIONS, DeviceRow
from core.state.vocabulary import WEEKDAYS

_INTEGER = re.compile(r"-?(0|[1-9]\d*)")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")
_DEVICE_FIELDS = frozenset(DeviceRow.model_fields)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One entity as read from a file, before validation."""

    source: str
    line: int
    kind: str
    data: dict[str, Any]


class Yaml12Loader(yaml.SafeLoader):
    """YAML whose only implicit types are null, true/false, decimal integers and decimals.

    PyYAML follows YAML 1.1, where ``18:00`` is the sexagesimal number 1080, ``no`` is False,
    ``0123`` is octal and ``2024-05-01`` a date: all traps in hand-written registries. Every
    scalar read differently here is one PyYAML's dumper leaves plain, so exports read back.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if not tag.endswith((":bool", ":int", ":float", ":timestamp"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


def section_of(path: Path) -> str | None:
    """The kind of a CSV file, from its stem: ``devices.csv``, ``device.csv``, ``devices-2.csv``.

    None when the stem names no kind.
    """
    stem = path.stem.lower()
    for section in SECTIONS:
        for name in (section, section[:-1]):
            if stem == name or (stem.startswith(name) and stem[len(name)] in "-_. "):
                return section
    return None


def read_yaml(path: Path) -> tuple[list[RawRow], list[RowError]]:
    """Rows of a YAML registry: one mapping whose keys are kinds, each a list of mappings."""
    source = path.name
    rows: list[RawRow] = []
    errors: list[RowError] = []
    loader = Yaml12Loader(path.read_text(encoding="utf-8-sig"))
    try:
        root = loader.get_single_node()
        if root is None:
            return rows, errors
        if not isinstance(root, yaml.MappingNode):
            errors.append(
                RowError(
                    source, _line(root), None, f"expected a mapping with keys {', '.join(SECTIONS)}"
                )
            )
            return rows, errors
        for key_node, value_node in root.value:
            section = loader.construct_object(key_node)
            if section not in ROW_MODELS:
                errors.append(
                    RowError(
                        source,
                        _line(key_node),
                        None,
                        f"unknown section {section!r}: sections are {', '.join(SECTIONS)}",
                    )
                )
                continue
            if (
                isinstance(value_node, yaml.ScalarNode)
                and loader.construct_object(value_node) is None
            ):
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                errors.append(
                    RowError(source, _line(value_node), section, "expected a list of entries")
                )
                continue
            for item in value_node.value:
                row, error = _yaml_item(loader, source, section, item)
                if row is not None:
                    rows.append(row)
                if error is not None:
                    errors.append(error)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        errors.append(RowError(source, line, None, f"invalid YAML: {exc.problem or exc}"))
    finally:
        loader.dispose()
    return rows, errors


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _yaml_item(
    loader: Yaml12Loader, source: str, section: str, item: yaml.Node
) -> tuple[RawRow | None, RowError | None]:
    line = _line(item)
    if not isinstance(item, yaml.MappingNode):
        return None, RowError(source, line, section, "expected a mapping of field: value")
    keys = [loader.construct_object(k) for k, _ in item.value]
    repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
    if repeated:
        return None, RowError(source, line, section, f"field(s) given twice: {', '.join(repeated)}")
    data = loader.construct_object(item, deep=True)
    return RawRow(source, line, section, data), None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # French spreadsheets still save "CSV (séparateur: point-virgule)" in Windows-1252.
        return raw.decode("cp1252", errors="replace")


def read_csv(path: Path, section: str) -> tuple[list[RawRow], list[RowError]]:
    """Rows of one kind from a CSV file (comma, semicolon or tab separated, UTF-8 or cp1252)."""
    source = path.name
    text = _decode(path.read_bytes())
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[RawRow] = []
    errors: list[RowError] = []
    try:
        header = [restore(name.strip()).lower() for name in next(reader)]
    except StopIteration:
        return rows, errors
    header_error = _check_header(header, section)
    if header_error:
        return rows, [RowError(source, 1, section, header_error)]
    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(source, line, section, f"{len(cells)} cells for {len(header)} columns")
            )
            continue
        flat = {
            name: restore(cell.strip())
            for name, cell in zip(header, cells, strict=False)
            if cell.strip()
        }
        try:
            rows.append(RawRow(source, line, section, _nest(section, flat)))
        except ValueError as exc:
            errors.append(RowError(source, line, section, str(exc)))
    return rows, errors


def _check_header(header: list[str], section: str) -> str | None:
    if any(not name for name in header):
        return "the header has an empty column name"
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        return f"column(s) given twice: {', '.join(repeated)}"
    if section == "devices":
        # Extra columns are device parameters, unless one looks like a misspelt device field.
        for name in header:
            close = difflib.get_close_matches(name, _DEVICE_FIELDS - {name}, n=1, cutoff=0.9)
            if name not in _DEVICE_FIELDS and close:
                return f"unknown column {name!r}: did you mean {close[0]!r}?"
        return None
    known = set(ROW_MODELS[section].model_fields)
    if section == "buildings":
        known = (known - {"schedule"}) | set(WEEKDAYS)
    unknown = [name for name in header if name not in known]
    if unknown:
        return f"unknown column(s) {', '.join(unknown)}; columns are {', '.join(sorted(known))}"
    return None


def _nest(section: str, flat: dict[str, str]) -> dict[str, Any]:
    """Gather flat CSV columns into the nested shape of the YAML rows."""
    if section == "buildings":
        days = {day: flat.pop(day) for day in WEEKDAYS if day in flat}
        if days:
            flat_any: dict[str, Any] = dict(flat)
            flat_any["schedule"] = days
            return flat_any
    if section == "devices":
        data: dict[str, Any] = {k: v for k, v in flat.items() if k in _DEVICE_FIELDS}
        parameters: dict[str, Any] = {}
        if "parameters" in data:
            try:
                parameters = json.loads(data["parameters"])
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"parameters={data['parameters']!r}: not JSON ({exc.msg})"
                ) from None
            if not isinstance(parameters, dict):
                raise ValueError(f"parameters={data['parameters']!r}: must be a JSON object")
        for name, cell in flat.items():
            if name in _DEVICE_FIELDS:
                continue
            if name in parameters:
                raise ValueError(f"parameter {name!r} given both as a column and in parameters")
            parameters[name] = _scalar(cell)
        if parameters:
            data["parameters"] = parameters
        return data
    return dict(flat)


def _scalar(cell: str) -> Any:
    """A parameter cell: integer, decimal number, true/false, else the text itself."""
    if _INTEGER.fullmatch(cell):
        return int(cell)
    if _FLOAT.fullmatch(cell):
        return float(cell)
    if cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    return cell


class _Dumper(yaml.SafeDumper):
    """Block mappings, with short lists of plain values on one line: ``[electricity, gas]``."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    plain = all(not isinstance(item, list | dict) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=plain)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # PyYAML folds NEL and the Unicode line separators in plain and single-quoted scalars:
    # double quotes escape them.
    style = '"' if any(c in data for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def write_yaml(path: Path, sections: dict[str, list[dict[str, Any]]], header: str) -> None:
    """The registry as one YAML document, schedules written as ``08:00-12:00`` ranges."""
    document = {
        section: [_readable(section, row) for row in rows]
        for section, rows in sections.items()
        if rows
    }
    body = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    path.write_text(comment + body, encoding="utf-8")


def _readable(section: str, row: dict[str, Any]) -> dict[str, Any]:
    if section != "buildings" or not row.get("schedule"):
        return row
    schedule = {
        day: [f"{start}-{end}" for start, end in ranges] for day, ranges in row["schedule"].items()
    }
    return {**row, "schedule": schedule}


def write_csv(path: Path, section: str, rows: list[dict[str, Any]]) -> None:
    """One kind as CSV, flattened the way ``read_csv`` reads it back."""
    flat_rows = [_flatten(section, row) for row in rows]
    columns = [
        name for name in ROW_MODELS[section].model_fields if name not in ("schedule", "parameters")
    ]
    if section == "buildings":
        columns += list(WEEKDAYS)
    if section == "devices":
        extra = sorted({name for row in flat_rows for name in row} - set(columns) - {"parameters"})
        columns += [*extra, "parameters"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        # RFC 4180 line ends: the writer then quotes cells holding a lone \r too. Text that a
        # spreadsheet would run as a formula is neutralised; read_csv restores it.
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([neutralise(name) for name in columns])
        writer.writerows([neutralise(row.get(name, "")) for name in columns] for row in flat_rows)


def _flatten(section: str, row: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in row.items():
        if name == "schedule" and section == "buildings":
            for day, ranges in (value or {}).items():
                flat[day] = " ".join(f"{start}-{end}" for start, end in ranges)
        elif name == "parameters" and section == "devices":
            as_json = {}
            for key, param in value.items():
                cell = _cell(param)
                if not _flat_parameter(key, param, cell):
                    as_json[key] = param  # would not read back as itself from a flat cell
                else:
                    flat[key] = cell
            if as_json:
                flat["parameters"] = json.dumps(as_json, ensure_ascii=False, sort_keys=True)
        else:
            flat[name] = _cell(value)
    return flat


def _flat_parameter(key: str, value: Any, cell: str) -> bool:
    """Whether a parameter survives a trip through its own column (else it goes in JSON)."""
    if key in _DEVICE_FIELDS or key != key.strip().lower() or not key:
        return False  # headers are read lower-cased and must not shadow a device field
    if isinstance(value, list | dict) or cell == "" or cell != cell.strip():
        return False
    read_back = _scalar(cell)
    return type(read_back) is type(value) and read_back == value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(_cell(item) for item in value)
    return str(value)


def csv_files(directory: Path) -> Iterable[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix.lower() == ".csv")

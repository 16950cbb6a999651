"""Readings from a CSV file: another system's export or a utility's load curve, for the meters
that are not on LoRaWAN.

Validated as ingest validates frames — a registered device, a quantity of the vocabulary, a value
in its range, a time that is not in the future — line by line, every bad line reported with its
number, and all or nothing: a file with one bad line writes nothing. Importing a file again
changes nothing (the store overwrites the same series and time). Two layouts:

- one reading a line: ``device,timestamp,quantity,value[,channel]``;
- a load curve of one meter (e.g. an Enedis export: ``Horodate;Valeur`` after a preamble,
  decimal commas): ``Columns`` maps its time and value columns and fixes the device, the
  quantity and a scale (kW → ``power_w``: 1000).

A time with an offset is taken as it is; a time without one is local time in ``tz``, and a local
time that does not exist (the spring change) or exists twice (the autumn change) is an error:
a load curve that cannot tell its two 02:30 apart cannot be stored honestly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.reading import Reading, ReadingError
from core.timeseries import Tags, TimeSeriesStore

MAX_ERRORS_SHOWN = 50


@dataclass(frozen=True)
class Columns:
    """Where a reading's parts are in the file, or what they are when the file does not say."""

    time: str = "timestamp"
    value: str = "value"
    device: str | None = "device"  # None: every line is ``fixed_device``
    quantity: str | None = "quantity"  # None: every line is ``fixed_quantity``
    channel: str | None = "channel"  # an optional column; absent: no channel
    fixed_device: str | None = None
    fixed_quantity: str | None = None
    fixed_channel: str | None = None
    scale: float = 1.0  # value × scale, e.g. kW → W
    delimiter: str = ","
    decimal_comma: bool = False
    skip_lines: int = 0  # a preamble before the header line
    tz: str = "Europe/Paris"  # zone of times without an offset


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ReadingsFileError(ValueError):
    """The file has bad lines (all of them in ``errors``); nothing was written."""

    def __init__(self, path: Path, errors: list[LineError]) -> None:
        self.errors = errors
        shown = [f"{path}:{e}" for e in errors[:MAX_ERRORS_SHOWN]]
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(f"... and {len(errors) - MAX_ERRORS_SHOWN} more")
        super().__init__(f"{len(errors)} bad line(s), nothing imported:\n" + "\n".join(shown))


@dataclass
class ReadingsFile:
    """A file's readings, ready to write, and the registry tags of their devices."""

    readings: list[Reading] = field(default_factory=list)
    tags: dict[str, Tags] = field(default_factory=dict)

    @property
    def devices(self) -> set[str]:
        return {r.device for r in self.readings}


def read_readings(
    path: Path,
    columns: Columns,
    tags_of: Callable[[str], Tags | None],
    now: datetime,
    max_future: timedelta = timedelta(minutes=5),
) -> ReadingsFile:
    """Every reading of ``path``, or ReadingsFileError listing every bad line. ``tags_of`` gives
    a registered device's tags (None: not registered)."""
    zone = ZoneInfo(columns.tz)
    out = ReadingsFile()
    errors: list[LineError] = []
    seen: dict[tuple[str, str, str | None, datetime], tuple[int, float]] = {}
    for line, row in _rows(path, columns, errors):
        try:
            reading = _reading(row, columns, zone)
        except (ReadingError, ValueError) as exc:
            errors.append(LineError(line, str(exc)))
            continue
        tags = out.tags.get(reading.device)
        if tags is None:
            tags = tags_of(reading.device)
            if tags is None:
                errors.append(LineError(line, f"device {reading.device} is not in the registry"))
                continue
            out.tags[reading.device] = tags
        if reading.time > now + max_future:
            errors.append(LineError(line, f"time {reading.time.isoformat()} is in the future"))
            continue
        key = (reading.device, reading.quantity, reading.channel, reading.time)
        if key in seen and seen[key][1] != reading.value:
            errors.append(
                LineError(line, f"repeats line {seen[key][0]} with another value ({seen[key][1]})")
            )
            continue
        seen.setdefault(key, (line, reading.value))
        out.readings.append(reading)
    if errors:
        raise ReadingsFileError(path, errors)
    return out


def _rows(
    path: Path, columns: Columns, errors: list[LineError]
) -> Iterator[tuple[int, Mapping[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Excel is not part of a column
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadingsFileError(path, [LineError(0, f"cannot read the file: {exc}")]) from None
    lines = text.splitlines(keepends=True)[columns.skip_lines :]
    reader = csv.DictReader(io.StringIO("".join(lines)), delimiter=columns.delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    wanted = [c for c in (columns.time, columns.value, columns.device, columns.quantity) if c]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ReadingsFileError(
            path,
            [LineError(columns.skip_lines + 1, f"no column {', '.join(missing)} in {header}")],
        )
    for row in reader:
        line = columns.skip_lines + reader.line_num
        if None in row or any(v is None for v in row.values()):
            errors.append(LineError(line, f"{len(header)} columns expected"))
            continue
        yield line, {k: v.strip() for k, v in row.items()}


def _reading(row: Mapping[str, str], c: Columns, zone: ZoneInfo) -> Reading:
    device = row[c.device] if c.device else c.fixed_device
    quantity = row[c.quantity] if c.quantity else c.fixed_quantity
    channel = (row.get(c.channel) or None) if c.channel else None
    if c.fixed_channel is not None:
        channel = c.fixed_channel
    raw = row[c.value].replace(",", ".") if c.decimal_comma else row[c.value]
    try:
        value = float(raw) * c.scale
    except ValueError:
        raise ValueError(f"value {row[c.value]!r} is not a number") from None
    return Reading(_time(row[c.time], zone), (device or "").lower(), quantity or "", value, channel)


def _time(text: str, zone: ZoneInfo) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {text!r} is not ISO 8601") from None
    if t.tzinfo is not None:
        return t.astimezone(UTC)
    local = t.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != t:
        raise ValueError(f"local time {text!r} does not exist (clock change)")
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise ValueError(f"local time {text!r} happens twice (clock change): give its offset")
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ImportReport:
    written: int
    devices: int
    first: datetime | None
    last: datetime | None

    def __str__(self) -> str:
        if not self.written:
            return "no reading in the file"
        assert self.first is not None and self.last is not None
        span = f"{self.first.isoformat()} → {self.last.isoformat()}"
        return f"{self.written} readings of {self.devices} device(s), {span}"


def import_readings(
    path: Path,
    columns: Columns,
    store: TimeSeriesStore,
    tags_of: Callable[[str], Tags | None],
    now: datetime,
    chunk: int = 50_000,
) -> ImportReport:
    """Validate the whole file, then write it. Raises ReadingsFileError before writing anything
    when a line is bad, and for readings the store refuses (the others are written: run the
    import again once the cause is fixed, it rewrites the same points)."""
    found = read_readings(path, columns, tags_of, now)
    refused: list[LineError] = []
    for lo in range(0, len(found.readings), chunk):
        result = store.write(found.readings[lo : lo + chunk], found.tags)
        refused.extend(
            LineError(0, f"{r.reading.device} {r.reading.quantity} at {r.reading.time}: {r.reason}")
            for r in result.rejected
        )
    if refused:
        raise ReadingsFileError(path, refused)
    times = [r.time for r in found.readings]
    return ImportReport(
        len(found.readings), len(found.devices), min(times, default=None), max(times, default=None)
    )

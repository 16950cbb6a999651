"""InfluxDB line protocol: escaping, and turning readings into lines (the only place they meet).

Escaping follows what InfluxDB 1.x parses (checked against influxd 1.6.7): in measurement names,
tag keys, tag values and field keys a backslash escapes only a comma, an equals sign or a space;
any other backslash is kept literally, so quotes and non-ASCII letters need no escaping. Two cases
cannot be represented and are refused per reading rather than corrupted: a newline, and a
backslash that ends a value or stands before one of the escaped characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from core.quantities import QUANTITIES
from core.reading import Reading
from core.series import to_ns
from core.stores.rollup import HOUR_NS

_ESCAPE = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_UNREPRESENTABLE = re.compile(r"[\n\r]|\\$|\\[,= ]")


class LineError(ValueError):
    """A tag value that line protocol cannot carry."""


@lru_cache(maxsize=65_536)  # tag keys and most values (tenant, site, model) recur
def escape(text: str) -> str:
    """Escape a measurement, tag key, tag value or field key."""
    if _UNREPRESENTABLE.search(text):
        raise LineError(
            f"{text!r} cannot be written as an InfluxDB tag: newline, trailing backslash, or "
            "backslash before a comma, '=' or space"
        )
    return text.translate(_ESCAPE)


def quote_identifier(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    """An InfluxQL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_MEASUREMENT = {key: q.domain.value for key, q in QUANTITIES.items()}
_Entry = tuple[Mapping[str, str] | None, str]  # (the tags it was made with, text)


class Lines(NamedTuple):
    """What ``LineBuilder.build`` makes of a batch."""

    lines: list[str]
    owners: list[Reading]  # the readings of the lines, in order: a line's fields, line by line
    counts: list[int]  # the number of fields (readings) of each line
    refused: list[tuple[Reading, str]]  # readings that cannot be written, with the reason
    hours: set[tuple[str, int]]  # (quantity, hour start in ns) of the lines: rollup marks

    def spans(self) -> list[tuple[int, int]]:
        """Each line's readings as a slice (start, end) of ``owners``."""
        out, start = [], 0
        for n in self.counts:
            out.append((start, start + n))
            start += n
        return out


class LineBuilder:
    """Turns readings into lines, caching each series' escaped prefix.

    Ingest hands over the readings of a frame together, sharing one time object: its nanoseconds
    are computed once, a device's escaped tags once for all its quantities, and consecutive
    readings of one series at that time become the fields of one line (an LHT65 frame's eight
    readings: four lines). InfluxDB stores a multi-field line as the single-field lines it
    replaces — the fields of one series and time are one point either way — with fewer bytes to
    send and parse. A quantity already in the line starts a new one (the later value wins, as
    between lines). ``group=False`` builds one line per reading: the store's way to find which
    field of a refused line the server objected to.
    """

    def __init__(self) -> None:
        # device -> quantity (no channel) or (channel, quantity) -> (the device's tags when the
        # prefix was made, prefix); per device, as a frame's readings are one device's
        self._prefix: dict[str, dict[str | tuple[str, str], _Entry]] = {}
        self._prefixes = 0
        # (device, channel) -> (the device's tags, ``tag=value,…`` sorted, escaped)
        self._tags: dict[tuple[str, str | None], _Entry] = {}

    def build(
        self,
        readings: Sequence[Reading],
        tags: Mapping[str, Mapping[str, str]],
        group: bool = True,
    ) -> Lines:
        out = Lines([], [], [], [], set())
        lines, owners, counts = out.lines, out.owners, out.counts
        by_hour: dict[int, set[str]] = {}  # the rollup marks: hour -> quantities
        quantities: set[str] = set()
        last_time, ns = None, 0
        last_device, device_tags, series = None, None, {}
        head, fields, names = "", [], []  # the open line: prefix, fields, their quantities
        head_ns = 0
        for r in readings:
            if r.device is not last_device:
                last_device = r.device
                device_tags = tags.get(last_device)
                series = self._prefix.get(last_device, {})
            entry = series.get(r.quantity if r.channel is None else (r.channel, r.quantity))
            # The registry may have changed the device's tags since the prefix was made.
            if entry is None or (entry[0] is not device_tags and entry[0] != device_tags):
                try:
                    entry = self._remember(r, device_tags)
                except LineError as exc:
                    out.refused.append((r, str(exc)))
                    continue
                series = self._prefix[r.device]
            same_time = r.time is last_time
            if not same_time:
                last_time = r.time
                ns = to_ns(last_time)
                hour = ns - ns % HOUR_NS
                quantities = by_hour.setdefault(hour, set())
            field = f"{r.quantity}={r.value!r}"
            if group and same_time and entry[1] == head and r.quantity not in names:
                fields.append(field)
                names.append(r.quantity)
            else:
                if fields:
                    lines.append(f"{head}{','.join(fields)} {head_ns}")
                    counts.append(len(fields))
                    fields.clear()
                    names.clear()
                head, head_ns = entry[1], ns
                fields.append(field)
                names.append(r.quantity)
            owners.append(r)
            quantities.add(r.quantity)
        if fields:
            lines.append(f"{head}{','.join(fields)} {head_ns}")
            counts.append(len(fields))
        out.hours.update((q, h) for h, qs in by_hour.items() for q in qs)
        return out

    def tags_written(
        self, device: str, channel: str | None, quantity: str
    ) -> Mapping[str, str] | None:
        """The registry tags this process last wrote the series with, if it wrote it at all."""
        entry = self._prefix.get(device, {}).get(
            quantity if channel is None else (channel, quantity)
        )
        return None if entry is None else {k: v for k, v in (entry[0] or {}).items() if v}

    def _remember(self, r: Reading, tags: Mapping[str, str] | None) -> _Entry:
        if self._prefixes > 1_000_000:  # bound the caches; they refill on demand
            self._prefix.clear()
            self._tags.clear()
            self._prefixes = 0
        body = self._tags.get((r.device, r.channel))
        if body is None or (body[0] is not tags and body[0] != tags):
            # Empty tag values are not allowed in line protocol: an empty tag is no tag.
            pairs = {k: v for k, v in (tags or {}).items() if v}
            body = (tags, _tag_body(r.device, r.channel, pairs))
            self._tags[(r.device, r.channel)] = body
        entry = (tags, f"{escape(_MEASUREMENT[r.quantity])},{body[1]} ")
        key = r.quantity if r.channel is None else (r.channel, r.quantity)
        self._prefix.setdefault(r.device, {})[key] = entry
        self._prefixes += 1
        return entry


def _tag_body(device: str, channel: str | None, tags: dict[str, str]) -> str:
    """``tag=value,…`` with tags sorted by key, as InfluxDB writes fastest."""
    tags["device"] = device
    if channel is not None:
        tags["channel"] = channel
    return ",".join(f"{escape(k)}={escape(v)}" for k, v in sorted(tags.items()))

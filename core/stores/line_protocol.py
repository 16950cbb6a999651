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

from core.quantities import QUANTITIES
from core.reading import Reading
from core.series import to_ns

_ESCAPE = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_UNREPRESENTABLE = re.compile(r"[\n\r]|\\$|\\[,= ]")


class LineError(ValueError):
    """A tag value that line protocol cannot carry."""


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


class LineBuilder:
    """Turns readings into lines, one per reading, caching each series' escaped prefix.

    InfluxDB merges the fields of lines that share measurement, tags and time into one point, so
    grouping quantities of one uplink into one line would only save bytes, not storage.
    """

    def __init__(self) -> None:
        # (device, channel, quantity) -> (the device's tags when the prefix was made, prefix)
        self._prefix: dict[tuple[str, str | None, str], tuple[Mapping[str, str] | None, str]] = {}

    def build(
        self, readings: Sequence[Reading], tags: Mapping[str, Mapping[str, str]]
    ) -> tuple[list[str], list[Reading], list[tuple[Reading, str]]]:
        """Return (lines, the reading of each line, readings refused with a reason)."""
        lines: list[str] = []
        owners: list[Reading] = []
        refused: list[tuple[Reading, str]] = []
        cache = self._prefix
        for r in readings:
            device_tags = tags.get(r.device)
            entry = cache.get((r.device, r.channel, r.quantity))
            # The registry may have changed the device's tags since the prefix was made.
            if entry is None or (entry[0] is not device_tags and entry[0] != device_tags):
                try:
                    entry = self._remember(r, device_tags)
                except LineError as exc:
                    refused.append((r, str(exc)))
                    continue
            lines.append(f"{entry[1]}{r.quantity}={r.value!r} {to_ns(r.time)}")
            owners.append(r)
        return lines, owners, refused

    def tags_written(
        self, device: str, channel: str | None, quantity: str
    ) -> Mapping[str, str] | None:
        """The registry tags this process last wrote the series with, if it wrote it at all."""
        entry = self._prefix.get((device, channel, quantity))
        return None if entry is None else {k: v for k, v in (entry[0] or {}).items() if v}

    def _remember(
        self, r: Reading, tags: Mapping[str, str] | None
    ) -> tuple[Mapping[str, str] | None, str]:
        # Empty tag values are not allowed in line protocol: an empty tag is no tag.
        pairs = tuple((k, v) for k, v in (tags or {}).items() if v)
        entry = (tags, _make_prefix(_MEASUREMENT[r.quantity], r.device, r.channel, pairs))
        if len(self._prefix) > 1_000_000:  # bound the cache; it refills on demand
            self._prefix.clear()
        self._prefix[(r.device, r.channel, r.quantity)] = entry
        return entry


def _make_prefix(
    measurement: str, device: str, channel: str | None, tags: tuple[tuple[str, str], ...]
) -> str:
    """``measurement,tag=value,… `` with tags sorted by key, as InfluxDB writes fastest."""
    pairs = dict(tags)
    pairs["device"] = device
    if channel is not None:
        pairs["channel"] = channel
    body = ",".join(f"{escape(k)}={escape(v)}" for k, v in sorted(pairs.items()))
    return f"{escape(measurement)},{body} "

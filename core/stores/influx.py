"""InfluxStore: the TimeSeriesStore on InfluxDB's HTTP API v1 (``/write`` and ``/query``).

InfluxDB 1.x serves this API natively, 2.x through its v1 compatibility layer (a DBRP mapping and a
token), 3.x too: one adapter covers every version. Write policy, in the spirit of Telegraf's
partial-write spec: points go in gzip-compressed batches of ``batch_size`` lines; a 204 means the
server has them in its WAL; retries and unavailability follow ``influx_http``; a 400 partial write
turns into per-reading rejects; 401, 403 and 404 raise ``StoreError``.
"""

from __future__ import annotations

import gzip as gzip_lib
import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import httpx
import numpy as np

from core.quantities import QUANTITIES
from core.reading import Reading
from core.retention import PurgeCounts, Retention
from core.series import (
    FloatArray,
    Int64Array,
    SeriesGrid,
    SeriesKey,
    SeriesSet,
    from_ns,
    to_ns,
)
from core.stores import rollup
from core.stores.influx_http import MAX_RETRIES, InfluxHttp, error_text, refusal
from core.stores.influx_rollups import InfluxRollups
from core.stores.line_protocol import LineBuilder, quote_identifier, quote_literal
from core.stores.rollup import DEFAULT, SLOTS, Partials, RollupConfig
from core.timeseries import (
    ANY_CHANNEL,
    Agg,
    Rejected,
    Selection,
    StoreError,
    StoreUnavailable,
    Tags,
    WriteResult,
)
from core.windows import parse_every, partial_granularity_ns, reduce, window_edges

log = logging.getLogger(__name__)
_UNPARSABLE = re.compile(r"unable to parse '(.*?)': ([^\n]*?)(?= unable to parse '|\n|$)", re.S)
_DEVICE_FILTER_MAX = 200  # devices per OR-list; beyond a few lists, filter client-side
_LOOKBACKS: tuple[int | None, ...] = (1, 7, 31, 366, None)  # days; None: all history
# Line protocol refuses a literal backslash before , = and space, so these splits are exact.
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_UNESCAPED_EQUALS = re.compile(r"(?<!\\)=")

# For each aggregation, the server-side partials to fetch at the window granularity.
_PARTIALS: dict[Agg, tuple[str, ...]] = {
    Agg.MEAN: ("sum", "count"),
    Agg.SUM: ("sum",),
    Agg.COUNT: ("count",),
    Agg.MIN: ("min",),
    Agg.MAX: ("max",),
    Agg.FIRST: ("first",),
    Agg.LAST: ("last",),
}


class _Partials(NamedTuple):
    """One series' server-side partial aggregates, per bucket."""

    tags: dict[str, str]
    times: Int64Array
    values: FloatArray
    counts: FloatArray | None
    merged: bool = False  # built from several InfluxDB series (the registry moved the device)


class InfluxStore:
    """Readings in InfluxDB: measurement = domain, tags = registry + device + channel.

    Each quantity is a float field; readings of one device, channel and time share a point.
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        retention_policy: str | None = None,
        timeout_s: float = 5.0,
        batch_size: int = 5000,
        gzip: bool = True,
        transport: httpx.BaseTransport | None = None,
        rollups: RollupConfig | None = DEFAULT,
        rollup_retention_policy: str = "vigie_rollups",
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._http = InfluxHttp(
            url,
            username=username,
            password=password,
            token=token,
            timeout_s=timeout_s,
            transport=transport,
        )
        self._db = database
        self._rp = retention_policy
        self._timeout_s = timeout_s
        self._batch_size = batch_size
        self._gzip = gzip
        self._lines = LineBuilder()
        self.rollups: InfluxRollups | None = None
        if rollups is not None:
            rollup.zone_ok(rollups.zone)
            self.rollups = InfluxRollups(
                self._query,
                self._write_lines,
                database,
                self._from,
                rollup_retention_policy,
                rollups,
            )
        self._policies_checked = False
        self._day_seen = 0  # newest local day this process wrote: older days are complete

    # -- administration -------------------------------------------------------------------------

    def create_database(self) -> None:
        """Create the database if it does not exist (InfluxDB 1.x; 2.x needs a DBRP mapping),
        with the rollups' retention policy."""
        self._query([f"CREATE DATABASE {quote_identifier(self._db)}"])
        self.ensure_retention()

    def ensure_retention(
        self, raw_duration: str | None = None, rollup_duration: str = "INF"
    ) -> None:
        """Create or alter the rollup policy and, when given, the raw policy's duration
        (InfluxQL durations: ``400d``, ``INF``)."""
        if self.rollups is not None:
            self.rollups.ensure_policies(self._rp, raw_duration, rollup_duration)
            self._policies_checked = True

    def drop_database(self) -> None:
        self._query([f"DROP DATABASE {quote_identifier(self._db)}"])

    def ping(self) -> None:
        """The server answers (``/ping``, which needs no credentials), and it takes our
        credentials and knows our database: a refusal of either is a StoreError."""
        self._http.ping()
        self._query(["SHOW TAG KEYS LIMIT 1"])  # SHOW MEASUREMENTS ignores a missing database

    def close(self) -> None:
        self._http.close()

    # -- writing --------------------------------------------------------------------------------

    def write(
        self, readings: Sequence[Reading], tags: Mapping[str, Tags] | None = None
    ) -> WriteResult:
        built = self._lines.build(readings, tags or {})
        lines, marks = built.lines, built.hours
        deadline = time.monotonic() + max(self._timeout_s * (MAX_RETRIES + 1), 1.0)
        if self.rollups is not None and marks:
            # Marks first: a crash between the two writes leaves a mark without data, harmless.
            self._mark(marks, deadline)
        spans: list[tuple[int, int]] = []  # made only when the server refuses a line
        server_refused: list[Rejected] = []
        for lo in range(0, len(lines), self._batch_size):
            bad = self._write_batch(lines[lo : lo + self._batch_size], deadline)
            if bad and not spans:
                spans = built.spans()
            for i, why in bad.items():
                start, end = spans[lo + i]
                owned = built.owners[start:end]
                server_refused += self._refused_fields(owned, why, tags or {}, deadline)
        if self.rollups is not None and self.rollups.config.refresh_in_writes and marks:
            self._roll_past_days(max(h for _, h in marks))
        return WriteResult(
            accepted=len(built.owners) - len(server_refused),
            rejected=[Rejected(r, why) for r, why in built.refused] + server_refused,
        )

    def _refused_fields(
        self, owned: list[Reading], why: str, tags: Mapping[str, Tags], deadline: float
    ) -> list[Rejected]:
        """The readings of a refused line that the server refuses. A line of one field is
        refused; the fields of a longer one go again one line each, since InfluxDB drops a
        point whole for one field's type conflict: only the fields it objects to are refused."""
        if len(owned) == 1:
            return [Rejected(owned[0], why)]
        singles = self._lines.build(owned, tags, group=False)
        bad = self._write_batch(singles.lines, deadline)
        return [Rejected(singles.owners[i], w) for i, w in bad.items()]

    def _roll_past_days(self, newest: int) -> None:
        """When the stream reaches a new local day, roll up the days it has left behind, each
        once (a long read rolls up what it needs first). The readings are stored and their hours
        marked, so a failure here only delays the rollups."""
        assert self.rollups is not None
        today = rollup.day_start(newest, self.rollups.config.zone)
        if today > self._day_seen:
            self._day_seen = today
            try:
                self.rollups.refresh(before=today)
            except (StoreUnavailable, StoreError) as exc:
                log.warning("InfluxDB rollups wait for the next refresh: %s", exc)

    def _mark(self, marks: set[tuple[str, int]], deadline: float) -> None:
        assert self.rollups is not None
        lines = self.rollups.mark_lines(marks)
        try:
            self._write_lines(lines, self.rollups.rp, deadline)
        except StoreError:
            if self._policies_checked:
                raise
            try:
                self.ensure_retention()  # a database made before rollups: add their policy once
                self._write_lines(lines, self.rollups.rp, deadline)
            except StoreError as exc:
                # No policy to hold them (2.x/3.x v1 compatibility has no DDL): run without
                # rollups, reads from raw points, no purge, rather than refuse readings.
                log.error("InfluxDB rollups disabled: no retention policy for them: %s", exc)
                self.rollups = None

    def _write_lines(self, lines: list[str], rp: str, deadline: float | None = None) -> None:
        """Write Vigie's own lines (rollups, marks) to ``rp``; any refusal is a StoreError."""
        if deadline is None:
            deadline = time.monotonic() + max(self._timeout_s * (MAX_RETRIES + 1), 1.0)
        for lo in range(0, len(lines), self._batch_size):
            bad = self._write_batch(lines[lo : lo + self._batch_size], deadline, rp)
            if bad:
                raise StoreError(f"InfluxDB refused rollup lines: {next(iter(bad.values()))}")

    def refresh_rollups(self, quantity: str | None = None) -> int:
        """Bring the rollups up to date with every reading written; returns hours recomputed."""
        return 0 if self.rollups is None else self.rollups.refresh(quantity)

    def purge(self, retention: Retention, now: datetime) -> PurgeCounts:
        """Delete raw points and rollup rows older than their retention, raw points once rolled
        up (per measurement); returns the rows deleted per quantity and granularity."""
        if self.rollups is None:
            raise StoreError("purging raw readings needs rollups: they are disabled")
        return self.rollups.purge(retention, now)

    def _write_batch(
        self, lines: list[str], deadline: float, rp: str | None = None
    ) -> dict[int, str]:
        """Write lines; return the index and reason of each line the server refused."""
        body = "\n".join(lines).encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self._gzip:
            body = gzip_lib.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        params = {"db": self._db, "precision": "ns"}
        if rp or self._rp:
            params["rp"] = rp or self._rp or ""
        response = self._http.write(body, params, headers, deadline)
        if response.status_code == 204:
            return {}
        if response.status_code == 413 and len(lines) > 1:
            half = len(lines) // 2
            left = self._write_batch(lines[:half], deadline, rp)
            right = self._write_batch(lines[half:], deadline, rp)
            return left | {i + half: why for i, why in right.items()}
        if response.status_code == 400:
            return self._partial(lines, error_text(response), deadline, rp)
        raise refusal(response)

    def _partial(
        self, lines: list[str], error: str, deadline: float, rp: str | None = None
    ) -> dict[int, str]:
        """Map a 400 partial-write error to the lines it refused.

        InfluxDB names each unparsable line; other refusals (a field type conflict) only give a
        count, so the lines not named are written again in halves to find the culprits — a second
        write of an accepted line is a harmless overwrite.
        """
        index = {line: i for i, line in enumerate(lines)}
        bad: dict[int, str] = {}
        for line, why in _UNPARSABLE.findall(error):
            if line in index:
                bad[index[line]] = f"InfluxDB: {why.strip()}"
        dropped = re.search(r"dropped=(\d+)", error)
        if (dropped is None or dropped.group(1) == "0") and bad:
            return bad
        if len(lines) == 1:
            return {0: f"InfluxDB: {error}"}
        rest = [i for i in range(len(lines)) if i not in bad]
        half = len(rest) // 2
        for part in (rest[:half], rest[half:]):
            if part:
                found = self._write_batch([lines[i] for i in part], deadline, rp)
                bad.update({part[j]: why for j, why in found.items()})
        return bad

    # -- reading --------------------------------------------------------------------------------

    def _query(self, statements: list[str]) -> list[dict[str, Any]]:
        return self._http.query(self._db, statements)

    def _from(self, quantity: str) -> str:
        measurement = quote_identifier(QUANTITIES[quantity].domain.value)
        if self._rp:
            return f"{quote_identifier(self._db)}.{quote_identifier(self._rp)}.{measurement}"
        return measurement

    def _where(self, sel: Selection, lo: int, hi: int) -> str:
        clauses = [f"time >= {lo}", f"time < {hi}"]
        if sel.devices is not None and len(sel.devices) <= _DEVICE_FILTER_MAX:
            ors = " OR ".join(f'"device" = {quote_literal(d)}' for d in sorted(sel.devices))
            clauses.append(f"({ors or 'false'})")
        if sel.channel is not ANY_CHANNEL:
            clauses.append(f'"channel" = {quote_literal(sel.channel or "")}')
        clauses.extend(f"{quote_identifier(k)} = {quote_literal(v)}" for k, v in sel.where)
        return " AND ".join(clauses)

    def _group(
        self, series: list[dict[str, Any]], sel: Selection
    ) -> dict[SeriesKey, tuple[dict[str, str], list[list[Any]]]]:
        """InfluxDB series by (device, quantity, channel): one Vigie series each.

        When the registry moved a device, InfluxDB holds one series per tag set; they are merged
        here, the values of the series with the device's current tags winning at equal times.
        """
        parts: dict[SeriesKey, list[tuple[dict[str, str], list[list[Any]]]]] = {}
        for s in series:
            tags = {k: v for k, v in (s.get("tags") or {}).items() if v}
            device = tags.pop("device", "")
            if sel.devices is not None and device not in sel.devices:
                continue
            key = SeriesKey(device, sel.quantity, tags.pop("channel", None))
            parts.setdefault(key, []).append((tags, s["values"]))
        out: dict[SeriesKey, tuple[dict[str, str], list[list[Any]]]] = {}
        for key, found in parts.items():
            if len(found) == 1:
                out[key] = found[0]
                continue
            current = self._current_tags(key)
            found.sort(key=lambda part: part[0] == current)  # the current tag set last: it wins
            by_time = {row[0]: row for _, rows in found for row in rows}
            out[key] = (found[-1][0], sorted(by_time.values(), key=lambda row: row[0]))
        return out

    def _current_tags(self, key: SeriesKey) -> dict[str, str]:
        """The device's current tags: those this process last wrote it with, else the tags of
        the series holding its newest point (InfluxDB keeps no write order across series)."""
        written = self._lines.tags_written(key.device, key.channel, key.quantity)
        if written is not None:
            return dict(written)
        stmt = (
            f"SELECT last({quote_identifier(key.quantity)}) FROM {self._from(key.quantity)} "
            f'WHERE "device" = {quote_literal(key.device)} '
            f'AND "channel" = {quote_literal(key.channel or "")} GROUP BY *'
        )
        [result] = self._query([stmt])
        newest = max(result["series"], key=lambda s: s["values"][0][0], default=None)
        tags = {k: v for k, v in ((newest or {}).get("tags") or {}).items() if v}
        tags.pop("device", None)
        tags.pop("channel", None)
        return tags

    def read(self, selection: Selection, start: datetime, end: datetime) -> SeriesSet:
        q = quote_identifier(selection.quantity)
        stmt = (
            f"SELECT {q} FROM {self._from(selection.quantity)} "
            f"WHERE {self._where(selection, to_ns(start), to_ns(end))} GROUP BY *"
        )
        [result] = self._query([stmt])
        parts = {
            key: (tags, [row[0] for row in rows], [row[1] for row in rows])
            for key, (tags, rows) in self._group(result["series"], selection).items()
        }
        return SeriesSet.build(parts)

    def aggregate(
        self,
        selection: Selection,
        start: datetime,
        end: datetime,
        every: str,
        agg: Agg = Agg.MEAN,
        tz: str = "UTC",
    ) -> SeriesGrid:
        """Partials computed by InfluxDB, finished into the windows by ``core.windows.reduce``.

        Sub-day windows are grouped on the server as they are. Day and longer windows are
        grouped per local day with ``tz()`` (InfluxDB 1.6+ gives Europe/Paris its 23 and 25 h
        days), then summed into weeks or months here; should the server's day starts ever miss
        the local midnights computed here, the query is redone per hour, which is always exact.
        """
        agg = Agg(agg)
        step = parse_every(every)
        edges = window_edges(start, end, step, tz)
        if self.rollups is not None:
            how = rollup.plan(selection.quantity, agg, step, edges, start, end, self.rollups.config)
            if how is not None:
                return self._from_rollups(selection, how, edges, agg)
        if step.fixed_ns is not None:
            grouped = self._partials(selection, start, end, agg, f"time({step.fixed_ns}ns)")
        else:
            grouped = self._partials(
                selection, start, end, agg, "time(1d)", f" tz({quote_literal(tz)})"
            )
            if any(not np.isin(p.times, edges).all() for p in grouped.values()):
                g = partial_granularity_ns(edges, step)
                grouped = self._partials(selection, start, end, agg, f"time({g}ns)")
        keys = sorted(grouped)
        n = len(edges) - 1
        values = np.zeros((len(keys), n)) if agg is Agg.COUNT else np.full((len(keys), n), np.nan)
        for i, key in enumerate(keys):
            p = grouped[key]
            if p.merged:
                # Partials of a moved device's tag sets may count one time twice: reduce its
                # merged raw points instead, which is exact.
                raw = self.read(
                    Selection.of(key.quantity, devices=[key.device], channel=key.channel),
                    start,
                    end,
                )
                p = _Partials(p.tags, raw.times, raw.values, None, merged=True)
            values[i] = reduce(p.times, p.values, edges, agg, counts=p.counts)[0]
        return SeriesGrid(
            keys=keys,
            tags=[grouped[key].tags for key in keys],
            starts=edges[:-1].copy(),
            ends=edges[1:].copy(),
            values=values,
        )

    def _from_rollups(
        self, sel: Selection, how: rollup.Plan, edges: Int64Array, agg: Agg
    ) -> SeriesGrid:
        """Raw points at the ragged ends of the span, rollups of whole buckets in between.

        Rollup series mirror raw tag sets; those of one device (moved in the registry) are
        joined bucket by bucket, which is exact unless both tag sets hold the same time.
        """
        assert self.rollups is not None
        self.rollups.refresh(sel.quantity, before=how.segments[-1][2])
        index: dict[SeriesKey, int] = {}
        tags: list[dict[str, str]] = []
        newest: list[int] = []
        parts = []
        for kind, lo, hi in how.segments:
            if kind == "raw":
                raw = self.read(sel, from_ns(lo), from_ns(hi))
                for i, key in enumerate(raw.keys):
                    if key not in index:
                        index[key] = len(tags)
                        tags.append(raw.tags[i])
                        newest.append(-1)
                    t, v = raw.series(i)
                    rows = np.full(len(t), index[key], dtype=np.int64)
                    parts.append(Partials.of_points(rows, t, v))
                continue
            where = self._where(sel, lo, hi)
            tag_sets, found = self.rollups.read(sel.quantity, kind, where, agg)
            last_t = np.full(len(tag_sets), -1, dtype=np.int64)
            np.maximum.at(last_t, found.rows, found.t)
            remap = []
            for i, ts in enumerate(tag_sets):
                rest = dict(ts)
                key = SeriesKey(rest.pop("device", ""), sel.quantity, rest.pop("channel", None))
                if sel.devices is not None and key.device not in sel.devices:
                    remap.append(-1)
                    continue
                if key not in index:
                    index[key] = len(tags)
                    tags.append(rest)
                    newest.append(-1)
                j = index[key]
                if last_t[i] > newest[j]:  # the tags of the newest bucket are the current ones
                    tags[j], newest[j] = rest, int(last_t[i])
                remap.append(j)
            if len(found):
                rows = np.asarray(remap, dtype=np.int64)[found.rows]
                keep = rows >= 0
                parts.append(Partials(*(getattr(found, f)[keep] for f in SLOTS)))
                parts[-1].rows = rows[keep]
        keys = sorted(index, key=index.__getitem__)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[order] = np.arange(len(keys))
        joined = Partials.concat(parts)
        joined.rows = rank[joined.rows]
        joined = Partials.concat([joined])  # sorted again by the new rows
        return rollup.grid([keys[i] for i in order], [tags[i] for i in order], joined, edges, agg)

    def _partials(
        self,
        selection: Selection,
        start: datetime,
        end: datetime,
        agg: Agg,
        group_time: str,
        zone: str = "",
    ) -> dict[SeriesKey, _Partials]:
        """Per series: bucket starts, the partial of ``agg`` and, for MEAN and COUNT, counts."""
        q = quote_identifier(selection.quantity)
        fields = ", ".join(f"{fn}({q})" for fn in _PARTIALS[agg])
        stmt = (
            f"SELECT {fields} FROM {self._from(selection.quantity)} "
            f"WHERE {self._where(selection, to_ns(start), to_ns(end))} "
            f"GROUP BY {group_time}, * fill(none){zone}"
        )
        [result] = self._query([stmt])
        out: dict[SeriesKey, _Partials] = {}
        per_key: dict[SeriesKey, int] = {}
        for s in result["series"]:
            tags = s.get("tags") or {}
            k = SeriesKey(tags.get("device", ""), selection.quantity, tags.get("channel") or None)
            per_key[k] = per_key.get(k, 0) + 1
        for key, (tags, rows) in self._group(result["series"], selection).items():
            rows.sort(key=lambda row: row[0])
            times = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            first = np.asarray([row[1] for row in rows], dtype=np.float64)  # None → NaN
            counts: FloatArray | None = None
            if agg is Agg.MEAN:
                counts = np.asarray([row[2] for row in rows], dtype=np.float64)
            elif agg is Agg.COUNT:
                counts = first
            out[key] = _Partials(tags, times, first, counts, merged=per_key[key] > 1)
        return out

    def latest(
        self, devices: Collection[str] | None = None, quantities: Collection[str] | None = None
    ) -> list[Reading]:
        """Newest reading per series: look back one day, then further only for series not found.

        An unbounded ``last()`` reads every shard of the database; most series reported recently,
        so bounded queries touch only the newest shards, and the series index (read without
        touching data) tells which series are still to find.
        """
        present = self._fields()
        asked = QUANTITIES if quantities is None else quantities
        wanted = [q for q in asked if (QUANTITIES[q].domain.value, q) in present]
        only = None if devices is None else frozenset(devices)
        index: dict[str, set[tuple[str, str | None]]] = {}
        missing: dict[str, set[tuple[str, str | None]]] = {}
        for q in wanted:
            m = QUANTITIES[q].domain.value
            if m not in index:
                index[m] = self._series_of(m, only)
            missing[q] = set(index[m])
        out: list[Reading] = []
        for lookback in _LOOKBACKS:
            statements, owners = [], []
            for q, pairs in missing.items():
                for where in _where_devices({d for d, _ in pairs}, lookback):
                    statements.append(
                        f"SELECT last({quote_identifier(q)}) FROM {self._from(q)}{where} "
                        'GROUP BY "device", "channel"'
                    )
                    owners.append(q)
            if not statements:
                break
            for q, result in zip(owners, self._query(statements), strict=True):
                for s in result["series"]:
                    tags = s.get("tags") or {}
                    pair = (tags.get("device", ""), tags.get("channel") or None)
                    [[ts, value]] = s["values"]
                    if pair in missing[q] and value is not None:
                        missing[q].discard(pair)
                        out.append(Reading(from_ns(ts), pair[0], q, value, pair[1]))
            # A series of the measurement may never have carried this quantity: after the
            # unbounded pass, what is still missing has no value to give.
            missing = {q: pairs for q, pairs in missing.items() if pairs}
        return out

    def _series_of(
        self, measurement: str, devices: frozenset[str] | None
    ) -> set[tuple[str, str | None]]:
        """(device, channel) of every series of a measurement, from the index (no data read)."""
        [result] = self._query([f"SHOW SERIES FROM {quote_identifier(measurement)}"])
        pairs: set[tuple[str, str | None]] = set()
        for s in result["series"]:
            for (key,) in s["values"]:
                tags = _series_tags(key)
                device = tags.get("device")
                if device and (devices is None or device in devices):
                    pairs.add((device, tags.get("channel")))
        return pairs

    def _fields(self) -> set[tuple[str, str]]:
        [result] = self._query(["SHOW FIELD KEYS"])
        return {(s["name"], row[0]) for s in result["series"] for row in s["values"]}


def _where_devices(devices: set[str], lookback_days: int | None) -> list[str]:
    """WHERE clauses covering ``devices`` in OR-lists (none if there are many), and a look-back."""
    since = [f"time > now() - {lookback_days}d"] if lookback_days else []
    if not devices:
        return []
    if len(devices) > 10 * _DEVICE_FILTER_MAX:  # cheaper to read all and keep the wanted
        return [f" WHERE {since[0]}" if since else ""]
    ordered = sorted(devices)
    clauses = []
    for i in range(0, len(ordered), _DEVICE_FILTER_MAX):
        chunk = ordered[i : i + _DEVICE_FILTER_MAX]
        ors = " OR ".join(f'"device" = {quote_literal(d)}' for d in chunk)
        clauses.append(" WHERE " + " AND ".join([*since, f"({ors})"]))
    return clauses


def _series_tags(key: str) -> dict[str, str]:
    """Tags of a series key as SHOW SERIES prints it: ``water,channel=hc,device=0123…``."""
    _, *pairs = _UNESCAPED_COMMA.split(key)
    tags: dict[str, str] = {}
    for pair in pairs:
        k, v = _UNESCAPED_EQUALS.split(pair, maxsplit=1)
        tags[_unescape(k)] = _unescape(v)
    return tags


def _unescape(text: str) -> str:
    return text.replace(r"\,", ",").replace(r"\=", "=").replace(r"\ ", " ")

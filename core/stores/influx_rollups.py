"""Rollups of the InfluxDB store, computed by Vigie into a long retention policy.

Raw readings live in the raw retention policy (measurement = domain). Rollups live in another
policy, kept for years: measurements ``<domain>_1h`` and ``<domain>_1d``, the same tags as the raw
series, fields ``<quantity>__<partial>``. Writes mark (quantity, hour) in ``vigie_rollup_dirty``
before the data, so a crash leaves a harmless mark rather than an hour never rolled up; a
refresh recomputes marked hours from raw points and clears the marks written before it began.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from core.quantities import QUANTITIES
from core.retention import Granularity, PurgeCounts, Retention, longest
from core.stores.line_protocol import escape, quote_identifier, quote_literal
from core.stores.rollup import (
    HOUR_NS,
    Partials,
    RollupConfig,
    day_edges,
    fields_of,
    needs,
    regroup,
)
from core.stores.rollup import cutoffs as rollup_cutoffs
from core.timeseries import Agg, StoreError

DIRTY = "vigie_rollup_dirty"
STATE = "vigie_rollup_state"
_RUN_HOURS = 24 * 7
_TABLES = {Granularity.HOURLY: "1h", Granularity.DAILY: "1d"}
log = logging.getLogger(__name__)

Query = Callable[[list[str]], list[dict[str, Any]]]
Write = Callable[[list[str], str], None]


def field(quantity: str, partial: str) -> str:
    return f"{quantity}__{partial}"


def _tagset(tags: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in tags.items() if v))


class InfluxRollups:
    """Rollup bookkeeping for one database: marks, refresh, purge."""

    def __init__(
        self,
        query: Query,
        write: Write,
        database: str,
        raw_from: Callable[[str], str],
        rp: str,
        config: RollupConfig,
    ) -> None:
        self._query = query
        self._write = write
        self._db = database
        self._raw_from = raw_from
        self.rp = rp
        self.config = config

    def target(self, measurement: str) -> str:
        db, rp = quote_identifier(self._db), quote_identifier(self.rp)
        return f"{db}.{rp}.{quote_identifier(measurement)}"

    # -- setup ----------------------------------------------------------------------------------

    def ensure_policies(self, raw_rp: str | None, raw_duration: str | None, duration: str) -> None:
        """Create (or alter) the rollup policy and, when given, the raw policy's duration."""
        [result] = self._query(["SHOW RETENTION POLICIES"])
        names = {row[0] for s in result["series"] for row in s["values"]}
        db = quote_identifier(self._db)
        wanted = [(self.rp, duration)]
        if raw_duration:
            wanted.append((raw_rp or "autogen", raw_duration))
        [shown] = self._query(["SHOW MEASUREMENTS"])
        domains = {q.domain.value for q in QUANTITIES.values()}
        history = any(row[0] in domains for s in shown["series"] for row in s["values"])
        for name, length in wanted:
            verb = "ALTER" if name in names else "CREATE"
            # Year-long shards for rollups: a year of daily rows read from 52 weekly shards
            # (the default for INF) took 0.9 s for 40 meters, most of it opening shards.
            shards = " SHARD DURATION 52w" if name == self.rp else ""
            self._query(
                [
                    f"{verb} RETENTION POLICY {quote_identifier(name)} ON {db} "
                    f"DURATION {length} REPLICATION 1{shards}"
                ]
            )
        if self.rp not in names and history:
            # Readings written before rollups existed carry no marks: no purge may remove them.
            self._write([f"{STATE},measurement=* history_uncovered=1i {time.time_ns()}"], self.rp)

    # -- marks ----------------------------------------------------------------------------------

    def mark_lines(self, marks: Iterable[tuple[str, int]]) -> list[str]:
        now = time.time_ns()
        return [f"{DIRTY},quantity={escape(q)} at={now}i {hour}" for q, hour in sorted(marks)]

    def dirty(
        self, quantity: str | None = None, before: int | None = None
    ) -> dict[str, dict[int, int]]:
        """Marked hours per quantity, with the wall-clock time of their newest mark."""
        clauses = []
        if quantity is not None:
            clauses.append(f'"quantity" = {quote_literal(quantity)}')
        if before is not None:
            clauses.append(f"time < {before}")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        [result] = self._query(
            [f'SELECT "at" FROM {self.target(DIRTY)}{where} GROUP BY "quantity"']
        )
        out: dict[str, dict[int, int]] = {}
        for s in result["series"]:
            q = (s.get("tags") or {}).get("quantity", "")
            out[q] = {int(t): int(at) for t, at in s["values"]}
        return out

    # -- refresh --------------------------------------------------------------------------------

    def refresh(self, quantity: str | None = None, before: int | None = None) -> int:
        """Recompute marked hours (of ``quantity``, before ``before``); returns how many."""
        began = time.time_ns()
        dirty = self.dirty(quantity, before)
        purged_raw: dict[str, list[tuple[int, int]]] = {}
        for q, marks in dirty.items():
            if q not in QUANTITIES:
                continue
            hours = sorted(marks)
            m = QUANTITIES[q].domain.value
            purged = self.purged_before(m)
            # Hours whose hourly rows were purged: their days cannot be recomputed from them,
            # so their late readings are dropped.
            gone = self.purged_before(f"{m}_{_TABLES[Granularity.HOURLY]}")
            for lo, hi in _runs(hours, _RUN_HOURS):
                if lo < gone:
                    log.warning("late readings of %s older than its hourly rollups dropped", q)
                    purged_raw.setdefault(m, []).append((lo, min(hi, gone)))
                    lo = min(hi, gone)
                if lo >= hi:
                    continue
                self._refresh_run(q, lo, hi, purged)
                if lo < purged:
                    purged_raw.setdefault(m, []).append((lo, min(hi, purged)))
        # Late points of purged hours are in their rollups now: drop them so that a second
        # refresh cannot add them twice.
        deletes = [
            f"DELETE FROM {quote_identifier(m)} WHERE time >= {lo} AND time < {hi}"
            for m, ranges in purged_raw.items()
            for lo, hi in ranges
        ]
        if deletes:
            self._query(deletes)
        # Clear the marks, a run of hours per statement (InfluxDB deletes are slow one by one),
        # then mark again the hours written since this refresh began: they stay to do.
        again = self.dirty(quantity, before)
        clear = [
            f'DELETE FROM {quote_identifier(DIRTY)} WHERE "quantity" = {quote_literal(q)} '
            f"AND time >= {lo} AND time < {hi}"
            for q, marks in dirty.items()
            for lo, hi in _runs(sorted(marks))
        ]
        if clear:
            self._query(clear)
        redo = {
            (q, hour)
            for q, marks in again.items()
            for hour, at in marks.items()
            if at >= began or hour not in dirty.get(q, {})
        }
        if redo:
            self._write(self.mark_lines(redo), self.rp)
        return sum(len(m) for m in dirty.values())

    def _refresh_run(self, q: str, lo: int, hi: int, purged: int) -> None:
        parts = fields_of(q)
        # Raw points reduced here rather than GROUP BY time(1h) on the server: influxd 1.6 spends
        # about as long per bucket as per point, and meters send one point an hour.
        [raw] = self._query(
            [
                f"SELECT {quote_identifier(q)} FROM {self._raw_from(q)} "
                f"WHERE time >= {lo} AND time < {hi} GROUP BY *"
            ]
        )
        keys, fresh = _points(raw["series"])
        if lo < purged:
            old_keys, old = self.read(q, "1h", f"time >= {lo} AND time < {min(hi, purged)}")
            keys, fresh = _merge(keys, fresh, old_keys, old)
        m = QUANTITIES[q].domain.value
        self._write(_lines(f"{m}_1h", q, parts, keys, fresh), self.rp)
        days = day_edges(lo, hi, self.config.zone)
        d_keys, hourly = self.read(q, "1h", f"time >= {int(days[0])} AND time < {int(days[-1])}")
        self._write(_lines(f"{m}_1d", q, parts, d_keys, regroup(hourly, edges=days)), self.rp)

    def read(
        self, q: str, table: str, where: str, agg: Agg | None = None
    ) -> tuple[list[dict[str, str]], Partials]:
        """Rollup rows of ``q`` per tag set; ``where`` is an InfluxQL condition (with time)."""
        # Only the partials ``agg`` needs (others left zero): influxd 1.6 reads each field apart.
        parts = fields_of(q) if agg is None else tuple(dict.fromkeys(("n", needs(agg))))
        cols = ", ".join(quote_identifier(field(q, p)) for p in parts)
        m = QUANTITIES[q].domain.value
        [result] = self._query(
            [f"SELECT {cols} FROM {self.target(f'{m}_{table}')} WHERE {where} GROUP BY *"]
        )
        return _partials(result["series"], parts)

    # -- retention ------------------------------------------------------------------------------

    def purged_before(self, measurement: str) -> int:
        [result] = self._query(
            [
                f'SELECT last("purged_before") FROM {self.target(STATE)} '
                f'WHERE "measurement" = {quote_literal(measurement)}'
            ]
        )
        rows = [row for s in result["series"] for row in s["values"]]
        return int(rows[0][1]) if rows and rows[0][1] is not None else -(2**62)

    def purge(self, retention: Retention, now: datetime) -> PurgeCounts:
        """Delete, per measurement, raw points and rollup rows older than the longest
        retention of its quantities (a quantity kept forever keeps its measurement: InfluxQL
        cannot delete one field), never in or after a marked hour; returns the rows deleted per
        quantity and granularity (for rollups, per quantity's rows)."""
        [history] = self._query([f'SELECT last("history_uncovered") FROM {self.target(STATE)}'])
        if history["series"]:
            raise StoreError(
                "raw readings written before rollups existed are not rolled up: no purge "
                "(rolling up that history is not implemented yet)"
            )
        self.refresh()
        pending = self.dirty()
        out: PurgeCounts = {}
        for m in sorted({q.domain.value for q in QUANTITIES.values()}):
            quantities = [k for k, q in QUANTITIES.items() if q.domain.value == m]
            if any(k not in retention for k in quantities):
                continue
            keep = longest([retention[k] for k in quantities])
            oldest = min((h for k in quantities for h in pending.get(k, {})), default=None)
            for g, cutoff in rollup_cutoffs(keep, now, self.config.zone, oldest).items():
                target = m if g is Granularity.RAW else f"{m}_{_TABLES[g]}"
                for q in quantities:
                    out.setdefault(q, {})[g] = 0
                if cutoff <= self.purged_before(target):
                    continue
                source = self._raw_from(quantities[0]) if g is Granularity.RAW else None
                for q, n in self._count(source or self.target(target), cutoff).items():
                    out.setdefault(q, {})[g] = n
                self._query([f"DELETE FROM {quote_identifier(target)} WHERE time < {cutoff}"])
                self._write(
                    [f"{STATE},measurement={escape(target)} purged_before={cutoff}i {cutoff}"],
                    self.rp,
                )
        return out

    def _count(self, source: str, cutoff: int) -> dict[str, int]:
        """Rows per quantity before ``cutoff`` in a raw (field = quantity) or rollup
        (fields ``<quantity>__<partial>``: counted by ``__n``) measurement."""
        [result] = self._query([f"SELECT count(*) FROM {source} WHERE time < {cutoff}"])
        out: dict[str, int] = {}
        for s in result["series"]:
            for column, value in zip(s["columns"][1:], s["values"][0][1:], strict=True):
                name = column.removeprefix("count_")
                q, _, part = name.partition("__")
                if q in QUANTITIES and part in ("", "n"):
                    out[q] = out.get(q, 0) + int(value or 0)
        return out


def _runs(hours: list[int], longest: int | None = None) -> Iterator[tuple[int, int]]:
    """[lo, hi) ranges of consecutive sorted hours, at most ``longest`` hours long."""
    lo = prev = hours[0]
    for h in hours[1:]:
        if h != prev + HOUR_NS or (longest is not None and h - lo >= longest * HOUR_NS):
            yield lo, prev + HOUR_NS
            lo = h
        prev = h
    yield lo, prev + HOUR_NS


def _points(series: list[dict[str, Any]]) -> tuple[list[dict[str, str]], Partials]:
    """Raw points of InfluxDB series as hourly partials; rows index the returned tag sets."""
    keys: list[dict[str, str]] = []
    chunks: list[Partials] = []
    for s in series:
        rows = [row for row in s["values"] if row[1] is not None]
        if rows:
            t = np.asarray([row[0] for row in rows], dtype=np.int64)
            v = np.asarray([row[1] for row in rows], dtype=np.float64)
            chunks.append(Partials.of_points(np.full(len(t), len(keys), dtype=np.int64), t, v))
            keys.append({key: tag for key, tag in (s.get("tags") or {}).items() if tag})
    return keys, regroup(Partials.concat(chunks))


def _partials(
    series: list[dict[str, Any]], parts: tuple[str, ...]
) -> tuple[list[dict[str, str]], Partials]:
    """Rows [time, <parts>…] of InfluxDB series as Partials; rows index the returned tag sets."""
    keys: list[dict[str, str]] = []
    chunks: list[Partials] = []
    for s in series:
        values = [row for row in s["values"] if row[1] is not None]
        if not values:
            continue
        arr = np.asarray([[np.nan if v is None else v for v in row[1:]] for row in values])
        cols = {p: arr[:, i] for i, p in enumerate(parts)}
        zeros = np.zeros(len(values))
        t = np.asarray([row[0] for row in values], dtype=np.int64)
        chunks.append(
            Partials(
                np.full(len(values), len(keys), dtype=np.int64),
                t,
                cols["n"],
                cols.get("sum", zeros),
                cols.get("min", zeros),
                cols.get("max", zeros),
                cols.get("first", zeros),
                cols.get("last", zeros),
            )
        )
        keys.append({k: v for k, v in (s.get("tags") or {}).items() if v})
    return keys, Partials.concat(chunks)


def _merge(
    keys: list[dict[str, str]], p: Partials, old_keys: list[dict[str, str]], old: Partials
) -> tuple[list[dict[str, str]], Partials]:
    """Partials of two sets of tag sets, combined bucket by bucket."""
    index = {_tagset(k): i for i, k in enumerate(keys)}
    merged_keys = list(keys)
    remap = []
    for k in old_keys:
        ts = _tagset(k)
        if ts not in index:
            index[ts] = len(merged_keys)
            merged_keys.append(k)
        remap.append(index[ts])
    if len(old):
        old.rows = np.asarray(remap, dtype=np.int64)[old.rows]
    return merged_keys, regroup(Partials.concat([p, old]))


def _lines(
    measurement: str, q: str, parts: tuple[str, ...], keys: list[dict[str, str]], p: Partials
) -> list[str]:
    prefixes = [
        escape(measurement) + "".join(f",{escape(k)}={escape(v)}" for k, v in sorted(tags.items()))
        for tags in keys
    ]
    names = [escape(field(q, part)) + "=" for part in parts]
    columns = zip(*(getattr(p, part).tolist() for part in parts), strict=True)
    return [
        f"{prefixes[row]} {','.join(n + repr(v) for n, v in zip(names, values, strict=True))} {t}"
        for row, t, values in zip(p.rows.tolist(), p.t.tolist(), columns, strict=True)
    ]

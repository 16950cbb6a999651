"""The series an alert's evidence points to, read back from the time-series store.

A detector names them in ``evidence["series"]``: one mapping or a list of them, each with
``device`` and ``quantity``, and optionally ``channel``, ``start`` and ``end`` (ISO 8601),
``every`` (a window such as ``1h``) and ``agg`` (``sum``, ``mean``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from core.config import DEFAULT_ZONE
from core.quantities import QUANTITIES
from core.series import from_ns
from core.timeseries import ANY_CHANNEL, Agg, Selection, StoreUnavailable, TimeSeriesStore
from core.windows import parse_every

MAX_POINTS = 20_000  # per series: beyond, ask the detector to name windows (every)


@dataclass(frozen=True, slots=True)
class EvidenceSeries:
    """One series of the evidence with its points, or why it could not be read."""

    device: str
    quantity: str
    channel: str | None
    unit: str | None
    start: datetime | None
    end: datetime | None
    every: str | None
    points: list[tuple[datetime, float | None]] = field(default_factory=list)
    error: str | None = None


def series_specs(evidence: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    named = evidence.get("series")
    if isinstance(named, Mapping):
        return [named]
    if isinstance(named, list):
        return [s for s in named if isinstance(s, Mapping)]
    return []


def read_evidence(
    evidence: Mapping[str, Any],
    store: TimeSeriesStore,
    start: datetime,
    end: datetime,
    zone: str = DEFAULT_ZONE,
) -> list[EvidenceSeries]:
    """Every series the evidence names; ``start`` and ``end`` apply where a spec gives none;
    day and longer windows are local to ``zone``.

    A bad spec or an unreachable store gives an entry with ``error`` instead of failing: the
    alert stays readable without its chart.
    """
    out: list[EvidenceSeries] = []
    for spec in series_specs(evidence):
        device = str(spec.get("device", "")).lower()
        quantity = str(spec.get("quantity", ""))
        channel = spec.get("channel")
        every = spec.get("every")
        base = EvidenceSeries(
            device, quantity, channel, None, None, None, every if isinstance(every, str) else None
        )
        try:
            out.extend(_read(spec, base, store, start, end, zone))
        except (ValueError, TypeError) as exc:
            out.append(replace(base, error=f"bad series in evidence: {exc}"))
        except StoreUnavailable as exc:
            out.append(replace(base, error=f"time-series store unavailable: {exc}"))
    return out


def _read(
    spec: Mapping[str, Any],
    base: EvidenceSeries,
    store: TimeSeriesStore,
    default_start: datetime,
    default_end: datetime,
    zone: str,
) -> list[EvidenceSeries]:
    if not base.device:
        raise ValueError("no device")
    quantity = QUANTITIES.get(base.quantity)
    if quantity is None:
        raise ValueError(f"unknown quantity {base.quantity!r}")
    start = _when(spec.get("start"), default_start)
    end = _when(spec.get("end"), default_end)
    if end <= start:
        raise ValueError("end is not after start")
    selection = Selection.of(
        base.quantity,
        devices=[base.device],
        channel=ANY_CHANNEL if base.channel is None else str(base.channel),
    )
    found: list[EvidenceSeries] = []
    if base.every is None:
        raw = store.read(selection, start, end)
        for i, key in enumerate(raw.keys):
            times, values = raw.series(i)
            if len(times) > MAX_POINTS:
                raise ValueError(f"more than {MAX_POINTS} points: name windows with 'every'")
            points = [(from_ns(t), v) for t, v in zip(times.tolist(), values.tolist(), strict=True)]
            found.append(replace(base, channel=key.channel, points=points))
    else:
        parse_every(base.every)
        grid = store.aggregate(
            selection, start, end, base.every, Agg(spec.get("agg", "mean")), zone
        )
        if grid.starts.size > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS} windows: name a longer 'every'")
        starts = [from_ns(t) for t in grid.starts.tolist()]
        for i, key in enumerate(grid.keys):
            cells = [None if np.isnan(v) else float(v) for v in grid.values[i].tolist()]
            found.append(
                replace(base, channel=key.channel, points=list(zip(starts, cells, strict=True)))
            )
    if not found:
        found.append(base)
    return [replace(s, unit=quantity.unit, start=start, end=end) for s in found]


def _when(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return when

"""The JSON document of a notice: the webhook body and the MQTT message (docs/alerts-webhook.md)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from enum import Enum
from typing import Any

from analytics.alerts.model import Notice
from analytics.alerts.notifiers.message import as_utc, subject_line

# Bumped only on an incompatible change (a field removed or its meaning changed); new fields
# may be added within a version, so receivers must ignore fields they do not know.
SCHEMA_VERSION = 1


def iso_utc(when: datetime) -> str:
    """``2026-11-22T02:00:00Z``; a naive time is taken as UTC (as stored)."""
    return as_utc(when).isoformat().replace("+00:00", "Z")


def event_id(notice: Notice) -> str:
    """Same notice, same id: a receiver drops a redelivery (the dispatcher retries) by this key."""
    return f"{notice.alert_id}:{notice.kind.value}:{iso_utc(notice.last_seen)}"


def document(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-ready data, with the stable field names of schema version 1."""
    estimates = notice.estimates
    return {
        "version": SCHEMA_VERSION,
        "id": event_id(notice),
        "event": notice.kind.value,
        "alert_id": notice.alert_id,
        "type": notice.type,
        "title": notice.title_fr,
        "severity": notice.severity.value,
        "status": notice.status.value,
        "tenant": notice.tenant,
        "subject_kind": notice.subject_kind.value,
        "subject": notice.subject,
        "start": iso_utc(notice.start),
        "last_seen": iso_utc(notice.last_seen),
        "estimates": {
            "flow_lph": _finite(estimates.flow_lph),
            "volume_m3": _finite(estimates.volume_m3),
            "cost_eur": _finite(estimates.cost_eur),
        },
        "evidence": _jsonable(notice.evidence),
        "url": notice.url,
        "text": subject_line(notice),
        "resolution": notice.resolution,
        "suppressed_until": iso_utc(notice.suppressed_until) if notice.suppressed_until else None,
    }


def encode(notice: Notice) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON with sorted keys."""
    text = json.dumps(
        document(notice), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def _finite(value: float | None) -> float | None:
    # NaN and infinities are not JSON: an unknown estimate is null.
    return None if value is None or not math.isfinite(value) else float(value)


def _jsonable(value: Any) -> Any:
    """Evidence is meant to be JSON already; make the usual near-misses (times, tuples, numpy
    scalars, NaN) valid rather than failing the delivery over a detail of the evidence."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _finite(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    return str(value)

"""Parameter types the routes share, bounded so that no value reaches a store it would break:
ids within the id columns (32-bit INTEGER on PostgreSQL), offsets within 64-bit integers
(SQLite's, PostgreSQL's bigint), instants within what the time-series stores keep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime

INT64_MAX = 2**63 - 1
ID_MAX = 2**31 - 1  # Integer primary keys: PostgreSQL's integer (SQLite's hold 64 bits)
# Time-series stores keep nanoseconds since 1970 in 64 bits (until 2262): a bit inside that.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _within_stores(when: datetime) -> datetime:
    if not EARLIEST <= when < LATEST:
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d} (UTC)")
    return when


Instant = Annotated[AwareDatetime, AfterValidator(_within_stores)]
"""An aware instant (ISO 8601 with an offset) from 1970 to before 2200."""

AlertIdPath = Annotated[int, Path(ge=1, le=ID_MAX, description="Alert id")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Items to skip")]

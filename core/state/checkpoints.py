"""Checkpoints: where each periodic job got to, so a restart resumes instead of rescanning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.state.base import Base, JSONDocument
from core.state.store import StateStore


class Checkpoint(Base):
    """One job's progress: a watermark and whatever small state it carries between runs."""

    __tablename__ = "checkpoint"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    watermark: Mapped[datetime | None]
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    updated_at: Mapped[datetime]


class Checkpoints:
    """Read and save job checkpoints in the state store."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def load(self, name: str) -> Checkpoint | None:
        with self._state.session() as s:
            return s.scalar(select(Checkpoint).where(Checkpoint.name == name))

    def save(
        self, name: str, watermark: datetime | None, document: dict[str, Any], now: datetime
    ) -> None:
        with self._state.session() as s:
            row = s.get(Checkpoint, name)
            if row is None:
                s.add(Checkpoint(name=name, watermark=watermark, document=document, updated_at=now))
            else:
                row.watermark, row.document, row.updated_at = watermark, document, now

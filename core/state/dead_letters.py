"""Dead letters: every frame ingest could not store, with its reason, raw bytes and fate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.state.base import Base


class LetterStatus(StrEnum):
    OPEN = "open"  # waiting: fix the registry or a codec, then replay
    REPLAYED = "replayed"  # replayed and stored
    DISCARDED = "discarded"  # looked at and dropped on purpose


class DeadLetter(Base):
    """One refused frame. ``key`` identifies the frame, so a broker redelivery updates, not adds."""

    __tablename__ = "dead_letter"
    __table_args__ = (Index("ix_dead_letter_status_reason", "status", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    device: Mapped[str | None] = mapped_column(String(16), index=True)
    event_time: Mapped[datetime | None]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=LetterStatus.OPEN.value)
    attempts: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]

"""What the pipeline's stages hand on: the messages of a batch, its frames, readings and letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.reading import Reading
from core.state.dead_letter_store import Letter


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message; ``token`` is what the consumer needs to acknowledge it."""

    topic: str
    payload: bytes
    token: Any = None


@dataclass(slots=True)
class Outcome:
    """What a batch came to."""

    stored: int = 0  # readings durable in the store
    spooled: int = 0  # readings durable in the spool
    duplicates: int = 0
    ignored: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Batch:
    """A batch on its way: what is to be written, to be dead-lettered, to be remembered."""

    now: datetime
    outcome: Outcome = field(default_factory=Outcome)
    readings: list[Reading] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    letters: list[Letter] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # frame keys, remembered once durable
    seen: set[str] = field(default_factory=set)  # the same, for duplicates within the batch
    joins: dict[str, datetime] = field(default_factory=dict)
    # Per frame with readings: its message, key and event time, and where its readings end.
    frames: list[tuple[Message, str, datetime, int]] = field(default_factory=list)

    def frame_of(self) -> dict[int, tuple[Message, str]]:
        """id(reading) → its message and frame key (asked only when the store refused some)."""
        owner: dict[int, tuple[Message, str]] = {}
        start = 0
        for message, key, _time, end in self.frames:
            for r in self.readings[start:end]:
                owner[id(r)] = (message, key)
            start = end
        return owner

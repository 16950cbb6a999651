"""Replaying dead letters through the ingest pipeline once their cause is fixed."""

from __future__ import annotations

from pathlib import Path

from api.services import Services
from core.config import IngestSettings
from core.state.dead_letter_store import DeadLetterStore
from core.state.dead_letters import LetterStatus
from ingest.pipeline import Message, Pipeline
from ingest.spool import decode_batch


def replay_spool_path(settings: IngestSettings) -> Path:
    """Replay's own spool, beside the worker's: a running worker holds its spool (one process
    per spool), and replay must not wait for it. Readings replay spools while the store is down
    stay there until the next replay drains them."""
    path = settings.spool_path
    return path.with_name(f"{path.stem}.replay{path.suffix}")


def replay(
    pipeline: Pipeline, services: Services, reason: str | None, limit: int
) -> tuple[int, int]:
    """(replayed, still refused). A letter whose frame now fails for another reason is settled:
    the new reason has its own letter; one that fails for the same reason stays open. What an
    earlier replay spooled is written first, and what this one spools is written at the end if
    the store takes it (``pipeline.spool_depth`` tells what is left)."""
    pipeline.drain()
    letters = DeadLetterStore(services.state)
    done: list[int] = []
    still = 0
    for letter in letters.list(reason=reason, status=LetterStatus.OPEN, limit=limit):
        if not letter.topic:  # the store refused spooled readings: the letter carries them
            if letter.payload and pipeline.write_again(*decode_batch(letter.payload)):
                done.append(letter.id)
            else:
                still += 1
            continue
        outcome = pipeline.handle([Message(letter.topic, letter.payload)])
        if letter.reason in outcome.dead_letters:
            still += 1
        else:
            done.append(letter.id)
    letters.mark(done, LetterStatus.REPLAYED, services.clock.now())
    pipeline.drain()
    return len(done), still

"""Replaying dead letters through the ingest pipeline once their cause is fixed."""

from __future__ import annotations

from api.services import Services
from core.state.dead_letter_store import DeadLetterStore
from core.state.dead_letters import LetterStatus
from ingest.pipeline import Message, Pipeline


def replay(
    pipeline: Pipeline, services: Services, reason: str | None, limit: int
) -> tuple[int, int]:
    """(replayed, still refused). A letter whose frame now fails for another reason is settled:
    the new reason has its own letter; one that fails for the same reason stays open."""
    letters = DeadLetterStore(services.state)
    done: list[int] = []
    still = 0
    for letter in letters.list(reason=reason, status=LetterStatus.OPEN, limit=limit):
        if not letter.topic:
            still += 1  # a store refusal of spooled readings: nothing to run again
            continue
        outcome = pipeline.handle([Message(letter.topic, letter.payload)])
        if letter.reason in outcome.dead_letters:
            still += 1
        else:
            done.append(letter.id)
    letters.mark(done, LetterStatus.REPLAYED, services.clock.now())
    return len(done), still

"""Ingesting a replay file (`vigie simulate --out`) through the real pipeline, without a broker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.clock import ManualClock
from core.series import Int64Array, to_ns
from ingest.envelopes import EnvelopeError, parse
from ingest.events import Uplink
from ingest.pipeline import Message, Outcome, Pipeline
from simulator.output import read_replay


@dataclass
class FileOutcome:
    """What a replay file came to, summed over its batches."""

    messages: int = 0
    stored: int = 0
    spooled: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome, messages: int) -> None:
        self.messages += messages
        self.stored += outcome.stored
        self.spooled += outcome.spooled
        self.duplicates += outcome.duplicates
        self.ignored += outcome.ignored
        for reason, n in outcome.dead_letters.items():
            self.dead_letters[reason] = self.dead_letters.get(reason, 0) + n


def ingest_file(
    path: Path,
    make_pipeline: Callable[[ManualClock], Pipeline],
    *,
    batch_size: int = 2000,
) -> FileOutcome:
    """Run every message of ``path`` through a pipeline whose clock is the file's publish time.

    The pipeline refuses frames far from "now" (``bad_time``), so a year-old replay would be
    refused under the wall clock: here "now" is when the network server published each batch,
    as it was for a live consumer.
    """
    clock: ManualClock | None = None
    pipeline: Pipeline | None = None
    total = FileOutcome()
    batch: list[Message] = []
    for published, topic, payload in read_replay(path):
        if clock is None:
            clock = ManualClock(published)
            pipeline = make_pipeline(clock)
        if published > clock.now():
            clock.set(published)
        batch.append(Message(topic, payload))
        if len(batch) >= batch_size:
            assert pipeline is not None
            total.add(pipeline.handle(batch), len(batch))
            batch = []
    if batch and pipeline is not None:
        total.add(pipeline.handle(batch), len(batch))
    return total


def arrival_times(path: Path) -> dict[str, Int64Array]:
    """When each device's uplinks reached the broker (ns UTC, ascending), from the file's publish
    times: a meter that sends its hours once a day makes a detector's result known only then."""
    times: dict[str, list[int]] = {}
    for published, topic, payload in read_replay(path):
        try:
            event = parse(topic, payload)
        except EnvelopeError:
            continue
        if isinstance(event, Uplink):
            times.setdefault(event.device, []).append(to_ns(published))
    return {device: np.sort(np.asarray(t, dtype=np.int64)) for device, t in times.items()}

"""Dead-letter keying: which letter a refused frame gets, so a redelivery finds the same one.

A letter's key is its frame's key (the dedup key, or a digest of a message that has none) and its
reason; a store refusal adds the series refused. Replay (``vigie deadletters replay``) runs the
frame again, or, for readings refused when the spool drained, writes the readings it carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from core.clock import Clock
from core.reading import Reading
from core.state.dead_letter_store import Letter
from core.timeseries import Rejected
from ingest.batch import Message
from ingest.events import EnvelopeError
from ingest.spool import encode_batch

# When a frame has several problems, its dead letter carries the most telling one.
_SEVERITY = ["wrong_fport", "truncated", "bad_payload", "out_of_range", "bad_parameters"]


def series(r: Reading) -> str:
    return f"{r.quantity}[{r.channel}]" if r.channel else r.quantity


def refusals(refused: Sequence[Rejected]) -> str:
    """What the store refused, reading by reading (the first few)."""
    shown = "; ".join(
        f"{series(x.reading)} at {x.reading.time.isoformat()}: {x.reason}" for x in refused[:5]
    )
    return shown + (f"; and {len(refused) - 5} more" if len(refused) > 5 else "")


def worst(problems: Sequence[tuple[str, str]]) -> str:
    """The reason a frame with these (reason, detail) problems is dead-lettered under."""
    return min((p[0] for p in problems), key=lambda r: _SEVERITY.index(r) if r in _SEVERITY else -1)


class Letters:
    """Makes the letters of one process, stamped with its clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def of(
        self,
        m: Message,
        reason: str,
        detail: str,
        device: str | None,
        time: datetime | None,
        *,
        key: str,
        suffix: str = "",
    ) -> Letter:
        """The letter of frame ``key`` (from message ``m``) for ``reason``."""
        return Letter(
            key=f"{key}:{reason}{suffix}",
            reason=reason,
            detail=detail,
            topic=m.topic,
            payload=m.payload,
            device=device,
            event_time=time,
            received_at=self._clock.now(),
        )

    def unreadable(self, m: Message, exc: EnvelopeError) -> Letter:
        """A message that is no event: keyed by a digest of its topic and payload."""
        digest = hashlib.sha256(m.topic.encode() + b"\0" + m.payload).hexdigest()
        return self.of(m, exc.reason, str(exc), exc.device, None, key=f"raw:{digest}")

    def problems(
        self, m: Message, key: str, device: str, time: datetime, found: list[tuple[str, str]]
    ) -> Letter:
        """A frame that lost readings: under its worst reason, naming every problem."""
        detail = "; ".join(f"{r}: {d}" for r, d in found)
        return self.of(m, worst(found), detail, device, time, key=key)

    def store_rejected(self, m: Message, key: str, refused: Sequence[Rejected]) -> Letter:
        """One letter per frame, keyed by the frame and what in it was refused: replay runs that
        frame again (its accepted readings are rewritten, harmlessly)."""
        first = refused[0].reading
        return self.of(
            m,
            "store_rejected",
            refusals(refused),
            first.device,
            first.time,
            key=key,
            suffix=":" + ",".join(sorted({series(r.reading) for r in refused})),
        )

    def spooled_rejected(
        self, refused: Sequence[Rejected], tags: dict[str, dict[str, str]]
    ) -> Letter:
        """Spooled readings have no frame left to run again: the letter carries the refused
        readings themselves, and replay writes exactly those."""
        body = encode_batch([r.reading for r in refused], tags)
        first = refused[0].reading
        return Letter(
            key=f"readings:{hashlib.sha256(body).hexdigest()}:store_rejected",
            reason="store_rejected",
            detail=refusals(refused),
            topic="",
            payload=body,
            device=first.device,
            event_time=first.time,
            received_at=self._clock.now(),
        )

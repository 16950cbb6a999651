"""The ingest pipeline: MQTT messages in, readings durable in the store (or spool), refusals in
dead letters — a batch at a time, and only then may its messages be acknowledged.

Per message: envelope → event; duplicate check (ChirpStack deduplicationId, else DevEUI + fCnt +
time); time sanity (NS event time, never the local clock); registry lookup (unknown devices are
quarantined as dead letters, replayable once registered); payload decoding by the device's codec,
or mapping of the NS-decoded object; derived readings (pulses → index, distance → level); radio
readings from the envelope. A frame partly decoded keeps its good readings and also gets a dead
letter naming what was lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from core.clock import Clock
from core.config import IngestSettings
from core.reading import Reading
from core.state.dead_letter_store import DeadLetterStore, Letter
from core.state.models import Device
from core.state.store import StateStore
from core.timeseries import Rejected, StoreUnavailable, TimeSeriesStore
from ingest import envelopes
from ingest.decoding import decode_uplink, status_readings
from ingest.dedup import RecentFrames
from ingest.directory import DeviceDirectory
from ingest.events import EnvelopeError, Event, Ignored, Join, NsLog, Status
from ingest.metrics import IngestMetrics
from ingest.spool import Spool, encode_batch

log = logging.getLogger(__name__)

# When a frame has several problems, its dead letter carries the most telling one.
_SEVERITY = ["wrong_fport", "truncated", "bad_payload", "out_of_range", "bad_parameters"]


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
class _Batch:
    readings: list[Reading] = field(default_factory=list)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    letters: list[Letter] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    joins: dict[str, datetime] = field(default_factory=dict)
    # id(reading) → its message and the message's frame key
    origin: dict[int, tuple[Message, str]] = field(default_factory=dict)
    times: list[datetime] = field(default_factory=list)


def parse(m: Message) -> Event:
    """The event of a message; every failure is an EnvelopeError, even one the envelope parser did
    not foresee (a field of an unexpected type): a poison message is dead-lettered, never allowed
    to stop the consumer — it would be redelivered to the next worker, and stop it too."""
    try:
        event = envelopes.parse(m.topic, m.payload)
    except EnvelopeError:
        raise
    except Exception as exc:  # the parser is pure: whatever it trips over is the message's fault
        raise EnvelopeError(
            "bad_envelope", f"malformed event: {type(exc).__name__}: {exc}"
        ) from None
    return event


def series(r: Reading) -> str:
    return f"{r.quantity}[{r.channel}]" if r.channel else r.quantity


def refusals(refused: Sequence[Rejected]) -> str:
    """What the store refused, reading by reading (the first few)."""
    shown = "; ".join(
        f"{series(x.reading)} at {x.reading.time.isoformat()}: {x.reason}" for x in refused[:5]
    )
    return shown + (f"; and {len(refused) - 5} more" if len(refused) > 5 else "")


class Pipeline:
    """Turns batches of messages into durable readings and dead letters."""

    def __init__(
        self,
        directory: DeviceDirectory,
        store: TimeSeriesStore,
        state: StateStore,
        spool: Spool,
        clock: Clock,
        metrics: IngestMetrics,
        settings: IngestSettings,
        recent: RecentFrames | None = None,
    ) -> None:
        self._directory = directory
        self._store = store
        self._state = state
        self._letters = DeadLetterStore(state)
        self._spool = spool
        self._clock = clock
        self._metrics = metrics
        self._settings = settings
        self._recent = recent or RecentFrames()
        self._retry_at: datetime | None = None
        self._warned: set[str] = set()

    def close(self) -> None:
        """Release the spool (its lock: another process may then open it)."""
        self._spool.close()

    @property
    def spool_depth(self) -> int:
        """Readings waiting in the outage spool."""
        return self._spool.depth

    # -- one batch --------------------------------------------------------------------------------

    def handle(self, messages: Sequence[Message]) -> Outcome:
        """Make the batch durable; raises (SpoolFull, a state-store error) when it could not be,
        in which case no message of it may be acknowledged."""
        now = self._clock.now()
        batch = _Batch()
        outcome = Outcome()
        seen: set[str] = set()
        for message in messages:
            self._one(message, now, batch, outcome, seen)
        rejected = self._write(batch.readings, batch.tags, outcome)
        by_frame: dict[str, list[Rejected]] = {}
        for rej in rejected:
            by_frame.setdefault(batch.origin[id(rej.reading)][1], []).append(rej)
        for key, refused in by_frame.items():
            # One letter per frame, keyed by the frame and what in it was refused: replay runs
            # that frame again (its accepted readings are rewritten, harmlessly).
            source = batch.origin[id(refused[0].reading)][0]
            first = refused[0].reading
            batch.letters.append(
                self._letter(
                    source,
                    "store_rejected",
                    refusals(refused),
                    first.device,
                    first.time,
                    key=key,
                    suffix=":" + ",".join(sorted({series(r.reading) for r in refused})),
                )
            )
        self._letters.add(batch.letters)
        self._record_joins(batch.joins)
        self._recent.remember(batch.keys)
        for letter in batch.letters:
            outcome.dead_letters[letter.reason] = outcome.dead_letters.get(letter.reason, 0) + 1
            self._metrics.dead_letters.labels(letter.reason).inc()
        done = self._clock.now()
        for t in batch.times:
            self._metrics.lag.observe(max(0.0, (done - t).total_seconds()))
        self._metrics.frames.labels("deduplicated").inc(outcome.duplicates)
        self._metrics.frames.labels("ignored").inc(outcome.ignored)
        self._metrics.frames.labels("dead_lettered").inc(len(batch.letters))
        self._metrics.frames.labels("stored").inc(len(batch.times))
        self._metrics.spool_depth.set(self._spool.depth)
        return outcome

    def _one(
        self, m: Message, now: datetime, batch: _Batch, outcome: Outcome, seen: set[str]
    ) -> None:
        try:
            event = parse(m)
        except EnvelopeError as exc:
            digest = hashlib.sha256(m.topic.encode() + b"\0" + m.payload).hexdigest()
            batch.letters.append(
                self._letter(m, exc.reason, str(exc), exc.device, None, key=f"raw:{digest}")
            )
            return
        if isinstance(event, Ignored):
            outcome.ignored += 1
            return
        key = event.dedup_key
        if key in seen or key in self._recent:
            outcome.duplicates += 1
            return
        seen.add(key)
        batch.keys.append(key)
        if isinstance(event, NsLog):
            if event.code == "UPLINK_CODEC":
                uplink = event.context.get("deduplication_id", "")
                detail = f"network server could not decode uplink {uplink}: {event.description}"
                batch.letters.append(
                    self._letter(m, "ns_codec_error", detail, event.device, event.time, key=key)
                )
            else:
                outcome.ignored += 1
            return
        if event.time > now + timedelta(
            seconds=self._settings.max_future_s
        ) or event.time < now - timedelta(days=self._settings.max_age_days):
            detail = f"event time {event.time.isoformat()} is too far from now ({now.isoformat()})"
            batch.letters.append(
                self._letter(m, "bad_time", detail, event.device, event.time, key=key)
            )
            return
        device = self._directory.get(event.device)
        if device is None:
            detail = f"device {event.device} is not in the registry (quarantined until registered)"
            batch.letters.append(
                self._letter(m, "unknown_device", detail, event.device, event.time, key=key)
            )
            return
        if isinstance(event, Join):
            batch.joins[event.device] = max(event.time, batch.joins.get(event.device, event.time))
            return
        if isinstance(event, Status):
            readings, problems = status_readings(event)
        else:
            try:
                decoding = decode_uplink(event, device, self._settings)
            except Exception as exc:  # pure code tripping over one frame: that frame's problem
                readings, problems = [], [("codec_error", f"{type(exc).__name__}: {exc}")]
            else:
                readings, problems = decoding.readings, decoding.problems
                if decoding.warnings:
                    self._kept_aside(device.codec_id, decoding.warnings)
        if problems:
            reason = min(
                (p[0] for p in problems), key=lambda r: _SEVERITY.index(r) if r in _SEVERITY else -1
            )
            detail = "; ".join(f"{r}: {d}" for r, d in problems)
            batch.letters.append(self._letter(m, reason, detail, event.device, event.time, key=key))
        if readings:
            batch.tags[event.device] = device.tags
            batch.readings.extend(readings)
            batch.origin.update((id(r), (m, key)) for r in readings)
            batch.times.append(event.time)

    def _kept_aside(self, codec_id: str, warnings: list[str]) -> None:
        """Documented values a codec kept without a quantity to store them under (a firmware
        version, a configuration answer): counted per codec, and told once per codec."""
        self._metrics.codec_warnings.labels(codec_id).inc(len(warnings))
        if codec_id not in self._warned:
            self._warned.add(codec_id)
            log.info(
                "%s frames carry values that are kept, not stored (counted in "
                "vigie_ingest_codec_warnings_total; vigie ingest inspect shows them), e.g. %s",
                codec_id,
                warnings[0],
            )

    def _letter(
        self,
        m: Message | None,
        reason: str,
        detail: str,
        device: str | None,
        time: datetime | None,
        *,
        key: str | None = None,
        suffix: str = "",
    ) -> Letter:
        return Letter(
            key=f"{key or (m.topic if m else '')}:{reason}{suffix}",
            reason=reason,
            detail=detail,
            topic=m.topic if m else "",
            payload=m.payload if m else b"",
            device=device,
            event_time=time,
            received_at=self._clock.now(),
        )

    # -- storing ------------------------------------------------------------------------------

    def _write(
        self, readings: list[Reading], tags: dict[str, dict[str, str]], outcome: Outcome
    ) -> list[Rejected]:
        if not readings:
            return []
        if self._spool.depth:  # keep arrival order: new readings queue behind the spooled ones
            self._spool.put(readings, tags)
            outcome.spooled += len(readings)
            self._metrics.readings.labels("spool").inc(len(readings))
            return []
        try:
            result = self._store.write(readings, tags)
        except StoreUnavailable as exc:
            log.warning("store unavailable, spooling %d readings: %s", len(readings), exc)
            self._spool.put(readings, tags)
            self._retry_at = self._clock.now() + timedelta(seconds=self._settings.retry_s)
            outcome.spooled += len(readings)
            self._metrics.readings.labels("spool").inc(len(readings))
            return []
        outcome.stored += result.accepted
        self._metrics.readings.labels("store").inc(result.accepted)
        return result.rejected

    def write_again(self, readings: list[Reading], tags: dict[str, dict[str, str]]) -> bool:
        """Write readings the store once refused (a dead letter's); True when it took them all
        (or they are durable in the spool behind an outage)."""
        return not self._write(readings, tags, Outcome())

    def drain(self, max_batches: int = 50) -> int:
        """Replay spooled batches, oldest first, while the store takes them; readings replayed."""
        now = self._clock.now()
        if not self._spool.depth or (self._retry_at is not None and now < self._retry_at):
            return 0
        replayed = 0
        for _ in range(max_batches):
            head = self._spool.head()
            if head is None:
                break
            try:
                result = self._store.write(head.readings, head.tags)
            except StoreUnavailable:
                self._retry_at = self._clock.now() + timedelta(seconds=self._settings.retry_s)
                break
            if result.rejected:
                # Spooled readings have no frame left to run again: the letter carries the
                # refused readings themselves, and replay writes exactly those.
                body = encode_batch([r.reading for r in result.rejected], head.tags)
                first = result.rejected[0].reading
                self._letters.add(
                    [
                        Letter(
                            key=f"readings:{hashlib.sha256(body).hexdigest()}:store_rejected",
                            reason="store_rejected",
                            detail=refusals(result.rejected),
                            topic="",
                            payload=body,
                            device=first.device,
                            event_time=first.time,
                            received_at=self._clock.now(),
                        )
                    ]
                )
            self._spool.pop(head)
            replayed += result.accepted
            self._metrics.readings.labels("store").inc(result.accepted)
        self._metrics.spool_depth.set(self._spool.depth)
        if not self._spool.depth:
            self._retry_at = None
            log.info("spool drained")
        return replayed

    def _record_joins(self, joins: dict[str, datetime]) -> None:
        if not joins:
            return
        with self._state.session() as session:
            for dev_eui, when in joins.items():
                session.execute(
                    update(Device).where(Device.dev_eui == dev_eui).values(last_join_at=when)
                )

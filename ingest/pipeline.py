"""The ingest pipeline: MQTT messages in, readings durable in the store (or spool), refusals in
dead letters — a batch at a time, and only then may its messages be acknowledged.

A message passes each stage once, in this order (``Pipeline.handle`` reads the same way):
parse (``ingest.envelopes``: the event, or a dead letter); dedup (``ingest.dedup``: ChirpStack
deduplicationId, else DevEUI + fCnt + time); vet (NS log events, and the NS event time, never the
local clock); resolve (``ingest.directory``: unknown devices are quarantined as dead letters,
replayable once registered); decode (``ingest.decoding``: the device's codec, or the NS-decoded
object mapped; derived and radio readings); then, for the whole batch, write (``ingest.writer``:
store, or spool behind an outage) and settle (dead letters, joins, keys remembered, metrics).
Every dead letter is keyed by ``ingest.letters``. A frame partly decoded keeps its good readings
and also gets a dead letter naming what was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update

from core.clock import Clock
from core.config import IngestSettings
from core.reading import Reading
from core.state.dead_letter_store import DeadLetterStore
from core.state.models import Device
from core.state.store import StateStore
from core.timeseries import Rejected, TimeSeriesStore
from ingest import envelopes
from ingest.batch import Batch, Message, Outcome
from ingest.decoding import decode_uplink, status_readings
from ingest.dedup import RecentFrames
from ingest.directory import DeviceDirectory, DeviceInfo
from ingest.events import EnvelopeError, Event, Ignored, Join, NsLog, Status, Uplink
from ingest.letters import Letters
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from ingest.writer import Writer

log = logging.getLogger(__name__)

__all__ = ["Message", "Outcome", "Pipeline", "parse"]

Known = Uplink | Status | Join | NsLog


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
        self._state = state
        self._dead = DeadLetterStore(state)
        self._letters = Letters(clock)
        self._writer = Writer(store, spool, self._dead, clock, metrics, settings.retry_s)
        self._clock = clock
        self._metrics = metrics
        self._settings = settings
        self._recent = recent or RecentFrames()
        self._ahead = timedelta(seconds=settings.max_future_s)
        self._behind = timedelta(days=settings.max_age_days)
        self._warned: set[str] = set()

    def close(self) -> None:
        """Release the spool (its lock: another process may then open it)."""
        self._writer.close()

    @property
    def spool_depth(self) -> int:
        """Readings waiting in the outage spool."""
        return self._writer.depth

    def drain(self, max_batches: int = 50) -> int:
        """Replay spooled batches, oldest first, while the store takes them; readings replayed."""
        return self._writer.drain(max_batches)

    def write_again(self, readings: list[Reading], tags: dict[str, dict[str, str]]) -> bool:
        """Write readings the store once refused (a dead letter's); True when it took them all
        (or they are durable in the spool behind an outage)."""
        return not self._writer.write(readings, tags, Outcome())

    # -- one batch --------------------------------------------------------------------------------

    def handle(self, messages: Sequence[Message]) -> Outcome:
        """Make the batch durable; raises (SpoolFull, a state-store error) when it could not be,
        in which case no message of it may be acknowledged."""
        batch = Batch(self._clock.now())
        for m in messages:
            event = self._parse(m, batch)
            if event is None or self._duplicate(event, batch):
                continue
            frame = self._vetted(m, event, batch)
            if frame is None:
                continue
            device = self._resolve(m, frame, batch)
            if device is None:
                continue
            if isinstance(frame, Join):
                self._joined(frame, batch)
                continue
            self._decode(m, frame, device, batch)
        self._write(batch)
        self._settle(batch)
        return batch.outcome

    # -- the stages, in order ---------------------------------------------------------------------

    def _parse(self, m: Message, batch: Batch) -> Known | None:
        """The message's event; None when it is not one (dead-lettered) or one we ignore."""
        try:
            event = parse(m)
        except EnvelopeError as exc:
            batch.letters.append(self._letters.unreadable(m, exc))
            return None
        if isinstance(event, Ignored):
            batch.outcome.ignored += 1
            return None
        return event

    def _duplicate(self, event: Known, batch: Batch) -> bool:
        """True for a frame already in this batch or stored recently; else it is taken."""
        key = event.dedup_key
        if key in batch.seen or key in self._recent:
            batch.outcome.duplicates += 1
            return True
        batch.seen.add(key)
        batch.keys.append(key)
        return False

    def _vetted(self, m: Message, event: Known, batch: Batch) -> Uplink | Status | Join | None:
        """NS log events end here (a codec failure of the NS is a letter); so does a frame whose
        event time is too far from now."""
        if isinstance(event, NsLog):
            if event.code == "UPLINK_CODEC":
                uplink = event.context.get("deduplication_id", "")
                detail = f"network server could not decode uplink {uplink}: {event.description}"
                batch.letters.append(
                    self._letters.of(
                        m, "ns_codec_error", detail, event.device, event.time, key=event.dedup_key
                    )
                )
            else:
                batch.outcome.ignored += 1
            return None
        now = batch.now
        if event.time > now + self._ahead or event.time < now - self._behind:
            detail = f"event time {event.time.isoformat()} is too far from now ({now.isoformat()})"
            batch.letters.append(
                self._letters.of(
                    m, "bad_time", detail, event.device, event.time, key=event.dedup_key
                )
            )
            return None
        return event

    def _resolve(
        self, m: Message, event: Uplink | Status | Join, batch: Batch
    ) -> DeviceInfo | None:
        """The device in the registry; unknown ones are quarantined."""
        device = self._directory.get(event.device)
        if device is None:
            detail = f"device {event.device} is not in the registry (quarantined until registered)"
            batch.letters.append(
                self._letters.of(
                    m, "unknown_device", detail, event.device, event.time, key=event.dedup_key
                )
            )
            return None
        return device

    def _joined(self, join: Join, batch: Batch) -> None:
        """A join of a known device: its time is recorded with the batch (the latest of it)."""
        batch.joins[join.device] = max(join.time, batch.joins.get(join.device, join.time))

    def _decode(self, m: Message, event: Uplink | Status, device: DeviceInfo, batch: Batch) -> None:
        """The frame's readings into the batch; what it lost, as a letter."""
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
        key = event.dedup_key
        if problems:
            batch.letters.append(self._letters.problems(m, key, event.device, event.time, problems))
        if readings:
            batch.tags[event.device] = device.tags
            batch.readings.extend(readings)
            batch.frames.append((m, key, event.time, len(batch.readings)))

    def _write(self, batch: Batch) -> None:
        """The batch's readings durable; a letter per frame for what the store refused."""
        rejected = self._writer.write(batch.readings, batch.tags, batch.outcome)
        if not rejected:
            return
        owner = batch.frame_of()
        by_frame: dict[str, tuple[Message, list[Rejected]]] = {}
        for rej in rejected:
            message, key = owner[id(rej.reading)]
            by_frame.setdefault(key, (message, []))[1].append(rej)
        for key, (message, refused) in by_frame.items():
            batch.letters.append(self._letters.store_rejected(message, key, refused))

    def _settle(self, batch: Batch) -> None:
        """Letters and joins committed, frame keys remembered, metrics counted."""
        self._dead.add(batch.letters)
        self._record_joins(batch)
        self._recent.remember(batch.keys)
        outcome, metrics = batch.outcome, self._metrics
        for letter in batch.letters:
            outcome.dead_letters[letter.reason] = outcome.dead_letters.get(letter.reason, 0) + 1
            metrics.dead_letters.labels(letter.reason).inc()
        done = self._clock.now()
        lag = metrics.lag
        for _m, _key, time, _end in batch.frames:
            lag.observe(max(0.0, (done - time).total_seconds()))
        metrics.frames.labels("deduplicated").inc(outcome.duplicates)
        metrics.frames.labels("ignored").inc(outcome.ignored)
        metrics.frames.labels("dead_lettered").inc(len(batch.letters))
        metrics.frames.labels("stored").inc(len(batch.frames))
        metrics.spool_depth.set(self._writer.depth)

    # -- helpers ----------------------------------------------------------------------------------

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

    def _record_joins(self, batch: Batch) -> None:
        if not batch.joins:
            return
        with self._state.session() as session:
            for dev_eui, when in batch.joins.items():
                session.execute(
                    update(Device).where(Device.dev_eui == dev_eui).values(last_join_at=when)
                )

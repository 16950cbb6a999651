"""Where the engine's messages go: a replay file, a ground-truth file, or an MQTT broker.

Replay file (JSONL), one published message a line, in publish order::

    {"t": "2025-01-06T00:03:12.418000Z", "topic": "application/…/event/up", "text": "{…}"}

``text`` holds a UTF-8 payload as is (JSON envelopes); ``b64`` a binary one (protobuf). Lost
frames are not in it (no network server published them). The ground-truth file (JSON) holds the
run's parameters, every injected fault (physics and engine) and a summary of what the ingest
should make of the stream: messages by fate, dead letters by reason, expected readings by quantity.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from simulator.engine import Emission
from simulator.truth import Fault

PointKey = tuple[str, str, str | None, datetime]  # device, quantity, channel, time


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Tally:
    """What a stream should come to in the ingest, accumulated as it goes by."""

    keep_points: bool = False
    fates: Counter[str] = field(default_factory=Counter)
    letters: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    quantities: Counter[str] = field(default_factory=Counter)
    points: dict[PointKey, float] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, e: Emission) -> None:
        self.fates[e.fate] += 1
        if e.fault:
            self.faults[e.fault] += 1
        if e.reason:
            self.letters[e.reason] += 1
        for r in e.readings:
            self.quantities[r.quantity] += 1
            if self.keep_points:
                self.points[(e.device, r.quantity, r.channel, r.time)] = r.value
        if e.published:
            self.first = self.first or e.publish_time
            self.last = e.publish_time

    def track(self, emissions: Iterable[Emission]) -> Iterator[Emission]:
        for e in emissions:
            self.add(e)
            yield e

    def summary(self) -> dict[str, Any]:
        return {
            "messages": sum(self.fates.values()),
            "published": sum(n for fate, n in self.fates.items() if fate != "lost"),
            "fates": dict(sorted(self.fates.items())),
            "dead_letters": dict(sorted(self.letters.items())),
            "engine_faults": dict(sorted(self.faults.items())),
            "expected_readings": dict(sorted(self.quantities.items())),
            "first_publish": _iso(self.first) if self.first else None,
            "last_publish": _iso(self.last) if self.last else None,
        }


def replay_line(e: Emission) -> str:
    doc: dict[str, str] = {"t": _iso(e.publish_time), "topic": e.topic}
    try:
        if not e.payload.startswith(b"{"):
            raise UnicodeDecodeError("utf-8", e.payload, 0, 1, "not a JSON document")
        doc["text"] = e.payload.decode("utf-8")
    except UnicodeDecodeError:
        doc["b64"] = base64.b64encode(e.payload).decode()
    return json.dumps(doc, ensure_ascii=False)


def read_replay(path: str | Path) -> Iterator[tuple[datetime, str, bytes]]:
    """The messages of a replay file: (publish time, topic, payload)."""
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            payload = doc["text"].encode() if "text" in doc else base64.b64decode(doc["b64"])
            t = datetime.fromisoformat(doc["t"].replace("Z", "+00:00"))
            yield t, doc["topic"], payload


class Progress:
    """A one-line progress report on stderr, at most once a second."""

    def __init__(self, start: datetime, end: datetime, stream: IO[str] | None = None) -> None:
        self.start, self.end = start, end
        self.stream = stream or sys.stderr
        self.count = 0
        self._began = time.monotonic()
        self._shown = 0.0

    def tick(self, at: datetime) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._shown >= 1.0:
            self._shown = now
            self.show(at)

    def show(self, at: datetime, end: str = "\r") -> None:
        span = (self.end - self.start).total_seconds() or 1.0
        share = min(1.0, max(0.0, (at - self.start).total_seconds() / span))
        rate = self.count / max(1e-9, time.monotonic() - self._began)
        bar = "#" * int(share * 30)
        self.stream.write(
            f"[{bar:<30}] {share:5.1%} {at:%Y-%m-%d %H:%M} {self.count} msgs {rate:,.0f}/s{end}"
        )
        self.stream.flush()


def write_replay(
    emissions: Iterable[Emission], path: str | Path, progress: Progress | None = None
) -> int:
    """Write the published messages as JSONL; returns how many."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for e in emissions:
            if progress is not None:
                progress.tick(e.publish_time)
            if not e.published:
                continue
            out.write(replay_line(e))
            out.write("\n")
            n += 1
    if progress is not None:
        progress.show(progress.end, end="\n")
    return n


def fault_doc(f: Fault) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "subject": f.subject,
        "start": _iso(f.start),
        "end": _iso(f.end) if f.end else None,
        "magnitude": f.magnitude,
        "unit": f.unit,
        "details": f.details,
    }


def write_truth(
    path: str | Path,
    *,
    run: dict[str, Any],
    faults: Iterable[Fault],
    tally: Tally,
) -> None:
    """The ground-truth file: run parameters, faults, and the expected outcome."""
    doc = {
        "run": run,
        "faults": [
            fault_doc(f) for f in sorted(faults, key=lambda f: (f.start, f.kind, f.subject))
        ],
        "expected": tally.summary(),
    }
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


def publish(
    emissions: Iterable[Emission],
    host: str,
    port: int,
    *,
    speed: float = 0.0,
    username: str | None = None,
    password: str | None = None,
    client_id: str = "vigie-simulator",
    progress: Progress | None = None,
) -> int:
    """Publish the messages at QoS 1; ``speed`` simulated seconds per wall second (0: at once)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id)
    if username:
        client.username_pw_set(username, password)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    outstanding: deque[mqtt.MQTTMessageInfo] = deque()
    began = time.monotonic()
    first: datetime | None = None
    n = 0
    try:
        for e in emissions:
            if progress is not None:
                progress.tick(e.publish_time)
            if not e.published:
                continue
            first = first or e.publish_time
            if speed > 0:
                due = began + (e.publish_time - first).total_seconds() / speed
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            outstanding.append(client.publish(e.topic, e.payload, qos=1))
            n += 1
            while len(outstanding) > 5000:
                outstanding.popleft().wait_for_publish(timeout=60)
        while outstanding:
            outstanding.popleft().wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()
    if progress is not None:
        progress.show(progress.end, end="\n")
    return n

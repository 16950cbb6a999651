"""The engine: truths in, the network server's MQTT messages out, each with its expected fate.

For each device: reporting instants over the run (its period with a random phase and jitter;
devices whose truth is ``on_change`` also report a few seconds after every change); the values
(truth at that instant, the hourly history for codecs that carry it, the battery declining
slowly; device faults applied); the codec's ``encode``; a ``Frame`` with the radio's receptions;
the envelope (ChirpStack JSON, ChirpStack protobuf, TTS, or a per-device mix); the broker's
delay and redeliveries. Every ``Emission`` says what the ingest should make of it: its readings
(payload, derived and radio, at codec resolution) and its fate — stored, lost on the air, a
duplicate, or a dead letter with its reason. The stream is ordered by publish time and depends
on nothing but its inputs and the seed: no clock, no ``uuid4``.
"""

from __future__ import annotations

import heapq
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from core.calendar import FrenchCalendar
from ingest.codecs.base import Codec, Field, split_key
from ingest.codecs.registry import CODECS
from ingest.events import STATUS_CHANNEL
from simulator.device_faults import (
    CUMULATIVE,
    OUT_OF_RANGE,
    TRUNCATE_TO,
    DevicePlan,
    FaultRates,
    plan_faults,
    rng_for,
)
from simulator.envelopes import (
    Frame,
    chirpstack_status,
    chirpstack_status_protobuf,
    chirpstack_up_json,
    chirpstack_up_protobuf,
    tts_up,
)
from simulator.physics import PhysicsRun, simulate_physics
from simulator.radio import SNR_FLOOR, Radio, best_reception, link_for
from simulator.territory import SimDevice, Territory
from simulator.truth import Fault, Truth

Format = Literal["chirpstack-json", "chirpstack-protobuf", "tts", "mix"]
FORMATS: tuple[str, ...] = ("chirpstack-json", "chirpstack-protobuf", "tts", "mix")
Fate = Literal["stored", "lost", "duplicate", "dead_letter"]

# History a frame carries: codec → (key, period in hours, values before the current one).
HISTORY = {"axioma/qalcosonic-w1": ("volume_m3", 1, 23)}
BATTERY_KEYS = ("battery_v", "battery_pct")
# States whose change makes an on-change device report (not its temperature drifting).
STATE_KEYS = frozenset({"occupied", "leak"})
# Values a model reports that no truth gives (a meter's own temperature, an unlit room's light).
DEFAULTS = {
    "temperature_c": 12.0,
    "humidity_pct": 70.0,
    "illuminance_lux": 0.0,
    "motion_count": 0.0,
    "co2_ppm": 420.0,
    "pressure_hpa": 1013.0,
    "tvoc_ppb": 50.0,
    "occupied": 0.0,
    "distance_mm": 1000.0,
}


@dataclass(frozen=True, slots=True)
class Expected:
    """A reading the ingest should store: time in UTC, value at codec resolution."""

    quantity: str
    channel: str | None
    time: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Emission:
    """One MQTT message of the network server (or one lost on the air), with its expected fate."""

    publish_time: datetime
    topic: str
    payload: bytes
    device: str
    frame_time: datetime
    fate: Fate
    reason: str | None = None  # the dead-letter reason
    readings: tuple[Expected, ...] = ()
    fault: str | None = None  # the device/network fault that made this message

    @property
    def published(self) -> bool:
        return self.fate != "lost"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    format: Format = "chirpstack-json"
    faults: FaultRates = field(default_factory=FaultRates)
    loss_scale: float = 1.0
    redelivery_p: float = 0.002
    late_p: float = 0.01
    jitter: float = 0.02  # share of the period
    # ChirpStack's device-profile setting: DevStatusReq this many times a day (0: never).
    status_per_day: float = 1.0


def _quantum(value: float, resolution: float) -> float:
    return round(round(value / resolution) * resolution, 9) if resolution else value


class Engine:
    """The message stream of a territory over [start, start + days)."""

    def __init__(
        self,
        territory: Territory,
        truths: Mapping[str, Truth],
        start: datetime,
        days: int,
        seed: int,
        config: EngineConfig | None = None,
    ) -> None:
        self.territory = territory
        self.truths = truths
        self.start = start.astimezone(UTC)
        self.days = days
        self.end = self.start + timedelta(days=days)
        self.seed = seed
        self.config = config or EngineConfig()
        self.devices = [d for d in territory.devices() if d.dev_eui in truths]
        self.plans, self.faults = plan_faults(
            self.devices, self.start, days, seed, self.config.faults
        )
        self.unknown = self._unknown_devices()
        self._defaults: dict[str, dict[str, float]] = {}
        self._fields: dict[str, dict[str, Field]] = {}

    # -- the stream ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Emission]:
        streams = [self._device(d, self.truths[d.dev_eui]) for d in self.devices]
        streams += [self._device(d, t, unknown=True) for d, t in self.unknown]
        return heapq.merge(*streams, key=lambda e: e.publish_time)

    def _unknown_devices(self) -> list[tuple[SimDevice, Truth]]:
        out = []
        for n in range(self.config.faults.unknown_devices):
            rng = rng_for(self.seed, "unknown", str(n))
            eui = f"ffee{rng.getrandbits(48):012x}"
            device = SimDevice(eui, "dragino/lht65", "climate", "", "unknown", 1800, "unknown")
            steps = self.days * 24 + 1
            truth = Truth(
                self.start,
                timedelta(hours=1),
                {
                    "temperature_c": np.full(steps, 18.0 + rng.random() * 4),
                    "humidity_pct": np.full(steps, 45.0 + rng.random() * 10),
                },
            )
            out.append((device, truth))
            self.faults.append(
                Fault(
                    "unknown_device", eui, self.start, self.end, details={"codec": "dragino/lht65"}
                )
            )
        return out

    def _format(self, dev_eui: str) -> str:
        if self.config.format != "mix":
            return self.config.format
        draw = rng_for(self.seed, "format", dev_eui).random()
        return "chirpstack-json" if draw < 0.6 else "chirpstack-protobuf" if draw < 0.8 else "tts"

    def _instants(self, d: SimDevice, truth: Truth, rng: np.random.Generator) -> list[int]:
        """Unix seconds of the device's uplinks, sorted."""
        t0, t1 = int(self.start.timestamp()), int(self.end.timestamp())
        period = d.period_s
        base = np.arange(t0 + rng.uniform(0, period), t1, period)
        jitter = min(60.0, period * self.config.jitter)
        times = base + rng.uniform(-jitter, jitter, len(base))
        if truth.on_change and truth.steps > 1:
            arrays = [a for k, a in truth.values.items() if split_key(k)[0] in STATE_KEYS]
            changed = np.zeros(truth.steps - 1, dtype=bool)
            for a in arrays:
                changed |= np.diff(a) != 0
            idx = np.nonzero(changed)[0] + 1
            step = truth.step.total_seconds()
            t_start = truth.start.timestamp()
            events = t_start + idx * step + rng.uniform(1, min(30, step / 2), len(idx))
            times = np.concatenate([times, events])
        times = np.round(times)
        times = times[(times >= t0) & (times < t1)]
        return sorted({int(x) for x in times})

    def _device(self, d: SimDevice, truth: Truth, unknown: bool = False) -> Iterator[Emission]:
        codec = CODECS[d.codec_id]
        plan = self.plans.get(d.dev_eui, DevicePlan())
        np_rng = np.random.default_rng(rng_for(self.seed, "instants", d.dev_eui).getrandbits(64))
        radio = Radio(
            self.seed,
            d.dev_eui,
            link_for(self.seed, d.dev_eui, d.role),
            loss_scale=self.config.loss_scale,
            redelivery_p=self.config.redelivery_p,
            late_p=self.config.late_p,
        )
        rng = radio.rng
        fmt = self._format(d.dev_eui)
        battery0 = 0.9 + 0.1 * rng.random()
        pending: list[tuple[datetime, int, Emission]] = []
        seq = 0
        status = _StatusRequests(self.config.status_per_day if fmt != "tts" else 0.0)
        for f_cnt, ts in enumerate(self._instants(d, truth, np_rng), start=1):
            at = datetime.fromtimestamp(ts, UTC)
            if plan.silent_from is not None and at >= plan.silent_from:
                break
            answers_status = status.answered_by_next()
            values = self._values(d, codec, truth, at, plan, battery0)
            fault: str | None = None
            reason: str | None = None
            oor = OUT_OF_RANGE.get(d.codec_id)
            draw = rng.random()
            rates = self.config.faults
            if oor is not None and draw < rates.out_of_range_p:
                values[oor[0]] = oor[1]
                fault, reason = "out_of_range", "out_of_range"
            f_port, payload = self._encode(codec, values, at)
            expected = [] if unknown else self._expected(d, codec, values, at)
            if fault == "out_of_range" and oor is not None:
                quantity, channel = split_key(oor[0])
                expected = [e for e in expected if (e.quantity, e.channel) != (quantity, channel)]
            draw = rng.random()
            broken_json = False
            if fault is None and draw < rates.truncated_p:
                payload = payload[: TRUNCATE_TO.get(d.codec_id, 1)]
                fault, reason, expected = "malformed_frame", "truncated", []
            elif fault is None and draw < rates.truncated_p + rates.bad_json_p:
                broken_json = True
                fault, reason, expected = "malformed_frame", "bad_json", []
            delivery = radio.deliver()
            dedup = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if not delivery.receptions:
                emission = Emission(at, "", b"", d.dev_eui, at, "lost", None, (), "lost_frame")
                heapq.heappush(pending, (at, seq, emission))
                seq += 1
                continue
            frame = Frame(
                d.dev_eui,
                f_cnt,
                f_port,
                payload,
                at,
                spreading_factor=radio.link.spreading_factor,
                receptions=delivery.receptions,
                dedup_id=dedup,
                profile=d.codec_id,
            )
            topic, body = self._envelope(frame, "chirpstack-json" if broken_json else fmt)
            if broken_json:
                body = body[: len(body) // 2]
            if unknown and not broken_json:
                # Half a JSON document names no device: the ingest can only call it bad_json.
                reason, fault = "unknown_device", "unknown_device"
            elif not broken_json:
                best = best_reception(delivery.receptions)
                expected += [
                    Expected("rssi_dbm", None, at, float(best.rssi)),
                    Expected("snr_db", None, at, float(best.snr)),
                    Expected("gateway_count", None, at, float(len(delivery.receptions))),
                    Expected("spreading_factor", None, at, float(radio.link.spreading_factor)),
                ]
            publish = at + timedelta(seconds=delivery.delay_s)
            status.heard(at)
            if answers_status:
                # ChirpStack handles the uplink's MAC commands first: the status event, with the
                # uplink's deduplicationId, is published before the uplink event.
                emission = self._status(d, frame, fmt, publish, battery0, unknown)
                heapq.heappush(pending, (publish, seq, emission))
                seq += 1
            fate: Fate = "dead_letter" if reason else "stored"
            emission = Emission(
                publish, topic, body, d.dev_eui, at, fate, reason, tuple(expected), fault
            )
            heapq.heappush(pending, (publish, seq, emission))
            seq += 1
            if delivery.redelivery_s is not None and fate == "stored":
                again = Emission(
                    publish + timedelta(seconds=delivery.redelivery_s),
                    topic,
                    body,
                    d.dev_eui,
                    at,
                    "duplicate",
                    fault="redelivery",
                )
                heapq.heappush(pending, (again.publish_time, seq, again))
                seq += 1
            while pending and pending[0][0] <= at:
                yield heapq.heappop(pending)[2]
        while pending:
            yield heapq.heappop(pending)[2]

    def _status(
        self,
        d: SimDevice,
        frame: Frame,
        fmt: str,
        publish: datetime,
        battery0: float,
        unknown: bool,
    ) -> Emission:
        """The status event of a DevStatusAns carried by ``frame``: battery on the MAC layer's
        1-254 scale (ChirpStack reports it as a percentage), SNR margin of the request."""
        age = (frame.time - self.start).total_seconds() / (365 * 86400)
        level = max(0.05, battery0 - 0.08 * age)
        battery = min(254, max(1, round(level * 254))) / 254 * 100
        snr = best_reception(frame.receptions).snr
        margin = int(max(-32, min(31, round(snr - SNR_FLOOR[frame.spreading_factor]))))
        build = chirpstack_status_protobuf if fmt == "chirpstack-protobuf" else chirpstack_status
        topic, body = build(d.dev_eui, frame.time, round(battery, 4), margin, frame.dedup_id)
        if unknown:
            return Emission(
                publish,
                topic,
                body,
                d.dev_eui,
                frame.time,
                "dead_letter",
                "unknown_device",
                fault="unknown_device",
            )
        readings = (
            Expected("battery_pct", STATUS_CHANNEL, frame.time, round(battery, 4)),
            Expected("margin_db", None, frame.time, float(margin)),
        )
        return Emission(publish, topic, body, d.dev_eui, frame.time, "stored", None, readings)

    # -- one frame ----------------------------------------------------------------------------

    def _values(
        self,
        d: SimDevice,
        codec: Codec,
        truth: Truth,
        at: datetime,
        plan: DevicePlan,
        battery0: float,
    ) -> dict[str, float]:
        fields = self._fields.setdefault(codec.id, {f.key: f for f in codec.fields})

        def sample(t: datetime) -> dict[str, float]:
            when = t
            if plan.stuck_from is not None and t >= plan.stuck_from:
                when = plan.stuck_from
            v = {k: x for k, x in truth.at(when).items() if k in fields}
            if plan.reset_at is not None and t >= plan.reset_at:
                base = truth.at(plan.reset_at)
                for k in v:
                    if split_key(k)[0] in CUMULATIVE:
                        v[k] = max(0.0, v[k] - base[k])
            return v

        values = sample(at)
        history = HISTORY.get(d.codec_id)
        if history is not None and history[0] in values:
            key, hours, count = history
            for n in range(1, count + 1):
                # Before the run the truth holds its first value: the meter stood still.
                values[f"{key}@-{n * hours}h"] = sample(at - timedelta(hours=n * hours))[key]
        # The battery: a slow decline over the years of the device's life.
        age = (at - self.start).total_seconds() / (365 * 86400)
        level = max(0.05, battery0 - 0.08 * age)
        if "battery_v" in fields:
            bv = fields["battery_v"]
            values["battery_v"] = bv.minimum + (bv.maximum - bv.minimum) * (0.55 + 0.45 * level)
        if "battery_pct" in fields:
            values["battery_pct"] = round(100 * level)
        for k, x in values.items():
            field_ = fields.get(k.partition("@")[0])
            if field_ is not None and math.isfinite(x):
                values[k] = min(field_.maximum, max(field_.minimum, x))
        values.update(
            {k: v for k, v in self._defaults.get(codec.id, {}).items() if k not in values}
        )
        return values

    def _encode(self, codec: Codec, values: dict[str, float], at: datetime) -> tuple[int, bytes]:
        while True:
            try:
                return codec.encode(values, at)
            except KeyError as exc:
                key = str(exc.args[0])
                if key not in DEFAULTS or key in values:
                    raise
                self._defaults.setdefault(codec.id, {})[key] = DEFAULTS[key]
                values[key] = DEFAULTS[key]

    def _expected(
        self, d: SimDevice, codec: Codec, values: Mapping[str, float], at: datetime
    ) -> list[Expected]:
        resolution = {k: f.resolution for k, f in self._fields[codec.id].items()}
        out = []
        for key, value in values.items():
            name, _, ago = key.partition("@")
            when = at - timedelta(hours=int(ago[1:-1])) if ago else at
            quantity, channel = split_key(name)
            out.append(Expected(quantity, channel, when, _quantum(value, resolution[name])))
        params = d.parameters
        for e in list(out):
            if e.quantity == "pulse_count" and params.get("pulse_quantity"):
                weight = params.get(f"pulse_weight_{e.channel}", params.get("pulse_weight"))
                offset = params.get(f"index_offset_{e.channel}", params.get("index_offset", 0))
                if weight is not None:
                    value = float(offset) + e.value * float(weight)
                    target = str(params["pulse_quantity"])
                    out.append(Expected(target, e.channel, e.time, value))
            elif e.quantity == "distance_mm" and "reference_height_m" in params:
                level = float(params["reference_height_m"]) - e.value / 1000
                out.append(Expected("water_level_m", e.channel, e.time, level))
        return out

    @staticmethod
    def _envelope(frame: Frame, fmt: str) -> tuple[str, bytes]:
        if fmt == "chirpstack-protobuf":
            return chirpstack_up_protobuf(frame)
        if fmt == "tts":
            return tts_up(frame)
        return chirpstack_up_json(frame)


class _StatusRequests:
    """When ChirpStack asks a device for its status: in the downlink after an uplink it heard,
    once ``per_day`` times a day; the device answers in its next uplink (lost if that is)."""

    def __init__(self, per_day: float) -> None:
        self._interval = timedelta(days=1 / per_day) if per_day > 0 else None
        self._last: datetime | None = None
        self._asked = False

    def answered_by_next(self) -> bool:
        asked, self._asked = self._asked, False
        return asked

    def heard(self, at: datetime) -> None:
        if self._interval is not None and (self._last is None or at - self._last >= self._interval):
            self._last, self._asked = at, True


def device_faults_of(engine: Engine) -> list[Fault]:
    """The engine's own faults (device, network) for the ground truth."""
    return list(engine.faults)


def run_physics(
    territory: Territory, start: datetime, days: int, seed: int, placed: Sequence[Fault] = ()
) -> PhysicsRun:
    """The physical run the engine samples (``simulator.physics``), with the French calendar."""
    return simulate_physics(territory, start, days, seed, FrenchCalendar(), placed)

"""Faults of the devices and of the network, drawn from the seed before a run.

Physical faults (leaks, heating left on) live in the truths; these change what a device *says*:
a stuck sensor repeats the value it froze on, a silent one (dead battery) stops, a counter reset
sends its index back to 0, and a few frames go wrong on the way (a value the ingest refuses as
out of range, a truncated payload, a broken JSON document). Unknown devices — DevEUIs absent from
the registry — also send frames. Each becomes a ``Fault`` of the ground truth.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.codecs.registry import CODECS
from simulator.territory import SimDevice
from simulator.truth import Fault

# Cumulative quantities a counter reset sends back to 0 (codecs without history in the frame).
CUMULATIVE = ("pulse_count", "energy_kwh", "volume_m3")
HISTORY_CODECS = frozenset({"axioma/qalcosonic-w1", "adeunis/pulse"})
# A field whose byte can carry more than the quantity allows: the ingest refuses the reading as
# out_of_range and keeps the frame's other readings (humidity as half-percent or percent byte).
OUT_OF_RANGE = {
    "milesight-iot/am307": ("humidity_pct", 120.0),
    "milesight-iot/am103": ("humidity_pct", 120.0),
    "milesight-iot/em300-di": ("humidity_pct", 120.0),
    "elsys/ers-co2": ("humidity_pct", 120.0),
}
# Bytes a truncated frame keeps: one, unless one byte is already a valid frame of the model.
TRUNCATE_TO = {"bosch/tps110": 0, "nwave/nps310sm": 0}


@dataclass(frozen=True, slots=True)
class FaultRates:
    stuck_share: float = 0.01  # devices whose sensor freezes
    silent_share: float = 0.01  # devices whose battery dies
    counter_resets: int = 2  # meters whose index goes back to 0
    unknown_devices: int = 2  # DevEUIs not in the registry that send frames
    out_of_range_p: float = 0.002  # per frame, for codecs in OUT_OF_RANGE
    truncated_p: float = 0.0005  # per frame
    bad_json_p: float = 0.0005  # per frame


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """When each fault of one device starts (None: never)."""

    stuck_from: datetime | None = None
    silent_from: datetime | None = None
    reset_at: datetime | None = None


def rng_for(seed: int, *parts: str) -> random.Random:
    digest = hashlib.blake2b("/".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _resettable(d: SimDevice) -> bool:
    keys = {f.key.partition(":")[0] for f in CODECS[d.codec_id].fields}
    return d.codec_id not in HISTORY_CODECS and bool(keys & set(CUMULATIVE))


def plan_faults(
    devices: list[SimDevice], start: datetime, days: int, seed: int, rates: FaultRates
) -> tuple[dict[str, DevicePlan], list[Fault]]:
    """The device faults of a run: a plan per affected DevEUI and the ground-truth records."""
    rng = rng_for(seed, "device-faults")
    span = timedelta(days=days)
    end = start + span
    plans: dict[str, DevicePlan] = {}
    faults: list[Fault] = []

    def when() -> datetime:
        offset = (0.2 + 0.6 * rng.random()) * span.total_seconds()
        return start + timedelta(seconds=round(offset))

    sensors = [d for d in devices if d.role not in ("parking_space",)]
    n_stuck = max(1, round(len(sensors) * rates.stuck_share)) if rates.stuck_share else 0
    n_silent = max(1, round(len(devices) * rates.silent_share)) if rates.silent_share else 0
    chosen = rng.sample(devices, k=min(len(devices), n_stuck + n_silent + rates.counter_resets))
    for d in [x for x in chosen if x in sensors][:n_stuck]:
        at = when()
        plans[d.dev_eui] = DevicePlan(stuck_from=at)
        faults.append(Fault("stuck_sensor", d.dev_eui, at, end, details={"codec": d.codec_id}))
    used = set(plans)
    for d in [x for x in chosen if x.dev_eui not in used][:n_silent]:
        at = when()
        plans[d.dev_eui] = DevicePlan(silent_from=at)
        faults.append(Fault("silent_sensor", d.dev_eui, at, None, details={"cause": "battery"}))
    resettable = [d for d in devices if _resettable(d) and d.dev_eui not in plans]
    for d in rng.sample(resettable, k=min(len(resettable), rates.counter_resets)):
        at = when()
        plans[d.dev_eui] = DevicePlan(reset_at=at)
        faults.append(Fault("counter_reset", d.dev_eui, at, at, 0.0, details={"codec": d.codec_id}))
    return plans, faults

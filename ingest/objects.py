"""Payloads the network server already decoded (ChirpStack ``object``, TTS ``decoded_payload``),
mapped to readings by a per-profile table in the settings — for devices whose codec lives in the NS.

Keys may name nested values with dots (``sensors.co2``). ChirpStack sends numbers as floats, TTS
as integers: every value becomes a float here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.config import ObjectField
from core.reading import Reading, ReadingError


def lookup(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def from_object(
    obj: Mapping[str, Any], fields: Mapping[str, ObjectField], device: str, time: datetime
) -> tuple[list[Reading], list[str]]:
    """Readings for the mapped keys present, and errors for mapped values that are unusable."""
    readings: list[Reading] = []
    errors: list[str] = []
    for key, rule in fields.items():
        value = lookup(obj, key)
        if value is None:
            continue  # TTS omits zero/false values and devices send subsets: absent is fine
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float):
            errors.append(f"{key}={value!r} is not a number")
            continue
        try:
            readings.append(
                Reading(time, device, rule.quantity, float(value) * rule.scale, rule.channel)
            )
        except ReadingError as exc:
            errors.append(f"{key}: {exc}")
    return readings, errors

"""Readings derived from others with registry parameters: pulses to volume or energy, distance
to water level.

- ``pulse_count`` × ``pulse_weight`` (+ ``index_offset``) → ``pulse_quantity`` (``volume_m3`` or
  ``energy_kwh``): the meter's index, in the same channel. A per-channel weight may be given as
  ``pulse_weight_<channel>``.
- ``water_level_m`` = ``reference_height_m`` − ``distance_mm`` / 1000 (sensor mounted above the
  water, reference height in the station's datum).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.reading import Reading, ReadingError

PULSE_TARGETS = frozenset({"volume_m3", "energy_kwh"})


def derived(readings: list[Reading], params: Mapping[str, Any]) -> tuple[list[Reading], list[str]]:
    """Readings to add, and problems with the parameters (reported, never fatal)."""
    out: list[Reading] = []
    problems: list[str] = []
    target = params.get("pulse_quantity")
    reference = params.get("reference_height_m")
    for r in readings:
        try:
            if r.quantity == "pulse_count" and target is not None:
                if target not in PULSE_TARGETS:
                    problems.append(
                        f"pulse_quantity {target!r} must be one of {sorted(PULSE_TARGETS)}"
                    )
                    continue
                weight = params.get(f"pulse_weight_{r.channel}", params.get("pulse_weight"))
                if weight is None:
                    problems.append("pulse_quantity is set but pulse_weight is missing")
                    continue
                offset = float(
                    params.get(f"index_offset_{r.channel}", params.get("index_offset", 0))
                )
                out.append(
                    Reading(r.time, r.device, target, offset + r.value * float(weight), r.channel)
                )
            elif r.quantity == "distance_mm" and reference is not None:
                level = float(reference) - r.value / 1000
                out.append(Reading(r.time, r.device, "water_level_m", level, r.channel))
        except (ReadingError, TypeError, ValueError) as exc:
            problems.append(f"cannot derive from {r.quantity}={r.value}: {exc}")
    return out, problems

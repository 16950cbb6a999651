"""What the parking analytics read of the registry: the shapes of an area, a space and a sensor.

Protocols, so the state store's rows (``ParkingArea``, ``ParkingSpace``, ``Device``) are passed
as they are, and tests or exports may pass plain records with the same attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class SensorLike(Protocol):
    @property
    def dev_eui(self) -> str: ...

    @property
    def codec_id(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any]: ...


class SpaceLike(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def pmr(self) -> bool: ...

    @property
    def device(self) -> SensorLike | None: ...


class AreaLike(Protocol):
    """A carpool area with its BNLC fields: ``nbre_pl`` spaces, ``nbre_pmr`` of them PMR."""

    @property
    def id_lieu(self) -> str: ...

    @property
    def nbre_pl(self) -> int: ...

    @property
    def nbre_pmr(self) -> int: ...

    @property
    def ouvert(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SensorRecord:
    """A sensor's registry row read out of its session (what ``SensorLike`` asks)."""

    dev_eui: str
    codec_id: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SpaceRecord:
    """A space's registry row read out of its session (what ``SpaceLike`` asks)."""

    code: str
    pmr: bool
    device: SensorRecord | None

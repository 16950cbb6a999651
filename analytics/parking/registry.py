"""What the parking analytics read of the registry: the shapes of an area, a space and a sensor.

Protocols, so the state store's rows (``ParkingArea``, ``ParkingSpace``, ``Device``) are passed
as they are, and tests or exports may pass plain records with the same attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
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

"""What the parking analytics read of the registry: the shapes of an area, a space and a sensor.

Protocols, so the state store's rows (``ParkingArea``, ``ParkingSpace``, ``Device``) are passed
as they are, and tests or exports may pass plain records with the same attributes; and the one
query that reads the areas with their spaces and sensors, for the API's board and the detectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.state.models import ParkingArea, ParkingSpace


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


def areas_with_spaces(session: Session) -> Sequence[ParkingArea]:
    """Every carpool area, by id_lieu, with its tenant, spaces and their sensors loaded."""
    return session.scalars(
        select(ParkingArea)
        .options(
            selectinload(ParkingArea.tenant),
            selectinload(ParkingArea.spaces).selectinload(ParkingSpace.device),
        )
        .order_by(ParkingArea.id_lieu)
    ).all()


def space_records(area: ParkingArea) -> tuple[SpaceRecord, ...]:
    """The area's spaces by code, read out of the session."""
    return tuple(
        SpaceRecord(
            s.code,
            s.pmr,
            SensorRecord(s.device.dev_eui, s.device.codec_id, dict(s.device.parameters or {}))
            if s.device
            else None,
        )
        for s in sorted(area.spaces, key=lambda s: s.code)
    )

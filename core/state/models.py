"""The registry tables: tenants, sites, buildings, devices, water sectors, parking areas, hubs.

Every table has an integer surrogate key and a unique natural key (``code``, ``dev_eui``,
``id_lieu``) that files and APIs use. Later tables (dead letters, alerts, API keys) go in their own
modules on the same ``Base`` and must be imported by ``migrations/env.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.state.base import Base, JSONDocument, Timestamped
from core.state.vocabulary import HolidayZone, MeterDirection, TenantKind

CODE_LENGTH = 64
NAME_LENGTH = 200
ADDRESS_LENGTH = 300


def _one_of(column: str, values: Iterable[StrEnum]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


class Tenant(Timestamped, Base):
    """A local authority: a commune, or an agglomeration that groups communes."""

    __tablename__ = "tenant"
    __table_args__ = (
        CheckConstraint(_one_of("kind", TenantKind), name="kind"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    insee: Mapped[str | None] = mapped_column(String(5))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="SET NULL"), index=True
    )

    parent: Mapped[Tenant | None] = relationship(back_populates="members", remote_side=[id])
    members: Mapped[list[Tenant]] = relationship(back_populates="parent", passive_deletes=True)
    sites: Mapped[list[Site]] = relationship(back_populates="tenant")


class Site(Timestamped, Base):
    """A place with an address (town hall square, school grounds, pumping station)."""

    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    insee: Mapped[str | None] = mapped_column(String(5))
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    tenant: Mapped[Tenant] = relationship(back_populates="sites")
    buildings: Mapped[list[Building]] = relationship(back_populates="site", passive_deletes=True)


class Building(Timestamped, Base):
    """A building of a site, with what the energy analytics need to know about its use."""

    __tablename__ = "building"
    __table_args__ = (
        CheckConstraint("floor_area_m2 > 0", name="floor_area_positive"),
        CheckConstraint(_one_of("holiday_zone", HolidayZone), name="holiday_zone"),
        CheckConstraint("reference_year >= 2010", name="reference_year"),
        CheckConstraint("reference_energy_kwh >= 0", name="reference_energy_positive"),
        CheckConstraint("reference_degree_days > 0", name="reference_degree_days_positive"),
        CheckConstraint("energy_2019_kwh >= 0", name="energy_2019_positive"),
        CheckConstraint("degree_days_2019 > 0", name="degree_days_2019_positive"),
        CheckConstraint("absolute_target_kwh_m2 > 0", name="absolute_target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    floor_area_m2: Mapped[float | None]
    activity_category: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    energy_carriers: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    holiday_zone: Mapped[str | None] = mapped_column(String(1))
    # Weekly opening hours, local time: {"mon": [["08:00", "18:00"]], ...}; days absent = closed;
    # NULL = unknown.
    schedule: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSONDocument)
    # Décret tertiaire (OPERAT): the building's EFA identifier, its reference year (2010 or
    # later) with that year's final energy, all carriers, and degree days (base 18 °C, COSTIC
    # method), and the absolute target (Cabs 2030, kWh/m²/yr) when the building follows that
    # one. 2019 likewise, the baseline of the 2022 sobriety plan, for years Vigie did not meter.
    operat_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    reference_year: Mapped[int | None]
    reference_energy_kwh: Mapped[float | None]
    reference_degree_days: Mapped[float | None]
    energy_2019_kwh: Mapped[float | None]
    degree_days_2019: Mapped[float | None]
    absolute_target_kwh_m2: Mapped[float | None]

    site: Mapped[Site] = relationship(back_populates="buildings")


class WaterSector(Timestamped, Base):
    """A district metered area of the drinking-water network (secteur de sectorisation)."""

    __tablename__ = "water_sector"
    __table_args__ = (CheckConstraint("network_length_km > 0", name="network_length_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # Network length excluding service connections: the L of the RPQS indicators.
    network_length_km: Mapped[float | None]

    tenant: Mapped[Tenant] = relationship()
    meter_links: Mapped[list[SectorMeter]] = relationship(
        back_populates="sector", cascade="all, delete-orphan", passive_deletes=True
    )

    def meters(self, direction: MeterDirection) -> list[Device]:
        """The boundary meters counting water in the given direction."""
        return [link.device for link in self.meter_links if link.direction == direction]


class SectorMeter(Base):
    """A meter on a sector's boundary, counting water into or out of it."""

    __tablename__ = "water_sector_meter"
    __table_args__ = (CheckConstraint(_one_of("direction", MeterDirection), name="direction"),)

    sector_id: Mapped[int] = mapped_column(
        ForeignKey("water_sector.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(
        ForeignKey("device.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(8))

    sector: Mapped[WaterSector] = relationship(back_populates="meter_links")
    device: Mapped[Device] = relationship()


class ParkingArea(Timestamped, Base):
    """A carpool area, described with the national base's (BNLC) fields and keyed by id_lieu."""

    __tablename__ = "parking_area"
    __table_args__ = (
        CheckConstraint("xlong BETWEEN -180 AND 180", name="xlong"),
        CheckConstraint("ylat BETWEEN -90 AND 90", name="ylat"),
        CheckConstraint("nbre_pl >= 0", name="nbre_pl"),
        CheckConstraint("nbre_pmr >= 0", name="nbre_pmr"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_lieu: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    nom_lieu: Mapped[str] = mapped_column(String(NAME_LENGTH))
    insee: Mapped[str] = mapped_column(String(5))
    type: Mapped[str] = mapped_column(String(32))
    xlong: Mapped[float]
    ylat: Mapped[float]
    nbre_pl: Mapped[int]
    nbre_pmr: Mapped[int] = mapped_column(default=0)
    ouvert: Mapped[bool] = mapped_column(default=True)

    tenant: Mapped[Tenant] = relationship()
    spaces: Mapped[list[ParkingSpace]] = relationship(
        back_populates="area", cascade="all, delete-orphan", passive_deletes=True
    )


class Device(Timestamped, Base):
    """A LoRaWAN end device, keyed by its DevEUI, and what it is attached to."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint("length(dev_eui) = 16 AND dev_eui = lower(dev_eui)", name="dev_eui"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dev_eui: Mapped[str] = mapped_column(String(16), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    codec_id: Mapped[str] = mapped_column(String(CODE_LENGTH))
    model: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(32), index=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("building.id", ondelete="SET NULL"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("parking_area.id", ondelete="SET NULL"), index=True
    )
    # The sector whose consumption this meter counts (boundary meters are in water_sector_meter).
    sector_id: Mapped[int | None] = mapped_column(
        ForeignKey("water_sector.id", ondelete="SET NULL"), index=True
    )
    # Per-device settings read by ingest and analytics: pulse_weight, index_offset,
    # reference_height_m, heartbeat_s, continuous_use, carrier, heating_share, submeter,
    # outdoor_temperature, kwh_per_m3, ...
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Operational state written by ingest, never by registry imports.
    last_join_at: Mapped[datetime | None]

    tenant: Mapped[Tenant] = relationship()
    site: Mapped[Site | None] = relationship()
    building: Mapped[Building | None] = relationship()
    area: Mapped[ParkingArea | None] = relationship()
    sector: Mapped[WaterSector | None] = relationship()


class ParkingSpace(Timestamped, Base):
    """One space of a carpool area, watched by at most one occupancy sensor."""

    __tablename__ = "parking_space"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    area_id: Mapped[int] = mapped_column(
        ForeignKey("parking_area.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("device.id", ondelete="SET NULL"), unique=True
    )
    pmr: Mapped[bool] = mapped_column(default=False)

    area: Mapped[ParkingArea] = relationship(back_populates="spaces")
    device: Mapped[Device | None] = relationship()


class Hub(Timestamped, Base):
    """A transit hub whose screen shows the availability of some carpool areas, in order."""

    __tablename__ = "hub"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # GTFS stop or station ids of the bus network whose departures the screen shows.
    stops: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # SHA-256 of the token in the screens' URL: a display reads, it does not log in. Written by
    # ``vigie hub token``, never by registry imports.
    display_token_sha256: Mapped[str | None] = mapped_column(String(64))

    tenant: Mapped[Tenant] = relationship()
    area_links: Mapped[list[HubArea]] = relationship(
        back_populates="hub",
        order_by="HubArea.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    areas: AssociationProxy[list[ParkingArea]] = association_proxy(
        "area_links", "area", creator=lambda area: HubArea(area=area)
    )


class HubArea(Base):
    """The place of a parking area on a hub's screen (position 0 first)."""

    __tablename__ = "hub_area"

    hub_id: Mapped[int] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[int] = mapped_column(
        ForeignKey("parking_area.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int]

    hub: Mapped[Hub] = relationship(back_populates="area_links")
    area: Mapped[ParkingArea] = relationship()


# Every table lives on Base.metadata once this module is imported (migrations compare it).
from core.state import dead_letters, hub_messages  # noqa: E402, F401

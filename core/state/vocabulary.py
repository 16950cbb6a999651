"""Closed vocabularies of the registry: tenant kinds, device roles, holiday zones, BNLC types."""

from __future__ import annotations

from enum import StrEnum


class TenantKind(StrEnum):
    """What kind of local authority a tenant is."""

    COMMUNE = "commune"
    AGGLOMERATION = "agglomeration"


class DeviceRole(StrEnum):
    """What a device is for; analytics pick their inputs by role."""

    WATER_METER = "water_meter"
    SECTOR_INFLOW = "sector_inflow"
    SECTOR_OUTFLOW = "sector_outflow"
    ENERGY_METER = "energy_meter"
    GAS_METER = "gas_meter"
    CLIMATE = "climate"
    PARKING_SPACE = "parking_space"
    LEVEL = "level"
    LEAK_PROBE = "leak_probe"


class HolidayZone(StrEnum):
    """French school-holiday zone of a building's académie."""

    A = "A"
    B = "B"
    C = "C"


class EnergyCarrier(StrEnum):
    """Energy a building buys (OPERAT declares consumption per carrier)."""

    ELECTRICITY = "electricity"
    GAS = "gas"
    FUEL_OIL = "fuel_oil"
    DISTRICT_HEATING = "district_heating"
    DISTRICT_COOLING = "district_cooling"
    WOOD = "wood"
    LPG = "lpg"


class MeterDirection(StrEnum):
    """Whether a sector boundary meter counts water entering or leaving the sector."""

    INFLOW = "inflow"
    OUTFLOW = "outflow"


class CarpoolPlaceType(StrEnum):
    """The ``type`` values allowed by the national carpool places schema (BNLC, v0.3)."""

    AIRE = "Aire de covoiturage"
    SORTIE_AUTOROUTE = "Sortie d'autoroute"
    PARKING = "Parking"
    SUPERMARCHE = "Supermarché"
    PARKING_RELAIS = "Parking relais"
    DELAISSE_ROUTIER = "Délaissé routier"
    AUTO_STOP = "Auto-stop"
    LIGNE = "Ligne de covoiturage"


# Keys of a building's weekly occupancy schedule, in calendar order.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

"""Dashboards of the networks: drinking water and leaks, river levels, carpool areas."""

from __future__ import annotations

from dashboards.common import AREA, TENANT, TIMEZONE, Board

SITE = f'{TENANT} AND "site" =~ /^$site$/'
# Sector inflow meters have a site (the reservoir) and no building; households have neither.
INFLOW_HOURLY = (
    'SELECT non_negative_difference(last("volume_m3")) AS "m3" FROM "water" '
    f"WHERE {SITE} AND \"site\" != '' AND \"building\" = '' AND $timeFilter "
    'GROUP BY time(1h), "device", "site"'
)
HOUSEHOLDS_HOURLY = (
    'SELECT non_negative_difference(last("volume_m3")) AS "m3" FROM "water" '
    f"WHERE {TENANT} AND \"site\" = '' AND \"building\" = '' AND $timeFilter "
    'GROUP BY time(1h), "device"'
)
OCCUPANCY_15MIN = (
    'SELECT last("occupied") AS "o" FROM "parking" '
    f'WHERE {AREA} AND $timeFilter GROUP BY time(15m), "device", "area" fill(previous)'
)


def water_network() -> dict[str, object]:
    b = Board(
        "vigie-water-network",
        "Vigie — Réseau d'eau et fuites",
        "Volumes put into the network and consumed by subscribers, the minimum hourly inflow "
        "(a leak indicator), leak probes (InfluxDB) and the open leak alerts (Vigie API).",
        "water",
        ("site",),
    )
    b.stat(
        "Volume mis en distribution",
        f'SELECT sum("m3") FROM ({INFLOW_HOURLY}) WHERE $timeFilter',
        "m3",
    )
    b.stat(
        "Volume consommé par les abonnés suivis",
        f'SELECT sum("m3") FROM ({HOUSEHOLDS_HOURLY}) WHERE $timeFilter',
        "m3",
    )
    b.stat(
        "Compteurs d'abonnés relevés",
        'SELECT count("last") FROM (SELECT last("volume_m3") FROM "water" '
        f"WHERE {TENANT} AND \"site\" = '' AND \"building\" = '' AND $timeFilter "
        'GROUP BY "device")',
        "none",
    )
    b.stat(
        "Sondes de fuite en alarme (max.)",
        f'SELECT max("leak") FROM "water" WHERE {SITE} AND $timeFilter',
        "none",
    )
    b.series(
        "Volume mis en distribution par réservoir (m³/h)",
        f'SELECT sum("m3") FROM ({INFLOW_HOURLY}) WHERE $timeFilter '
        'GROUP BY time(1h), "site" fill(none)',
        "m3",
        alias="$tag_site",
    )
    b.series(
        "Débit horaire minimum du jour (m³/h) — indicateur de fuite",
        f'SELECT min("m3") FROM ({INFLOW_HOURLY}) WHERE $timeFilter '
        f"GROUP BY time(1d), \"site\" fill(none) tz('{TIMEZONE}')",
        "m3",
        alias="$tag_site",
        bars=True,
    )
    b.series(
        "Consommation des abonnés suivis (m³/jour)",
        f'SELECT sum("m3") FROM ({HOUSEHOLDS_HOURLY}) WHERE $timeFilter '
        f"GROUP BY time(1d) fill(none) tz('{TIMEZONE}')",
        "m3",
        bars=True,
    )
    b.series(
        "Sondes de fuite (1 = eau détectée)",
        f'SELECT max("leak") FROM "water" WHERE {SITE} AND $timeFilter '
        'GROUP BY time($__interval), "building", "device" fill(none)',
        "none",
        alias="$tag_building $tag_device",
    )
    b.alerts(
        "Alertes eau ouvertes",
        ("burst", "sector_leak", "household_leak", "building_leak", "building_night_flow"),
    )
    return b.build()


def river_levels() -> dict[str, object]:
    b = Board(
        "vigie-river-levels",
        "Vigie — Niveaux des cours d'eau",
        "Water level of each station (InfluxDB) and the open vigilance, rise and sensor alerts "
        "(Vigie API).",
        "level",
        ("site",),
    )
    b.stat(
        "Niveau max. sur la période",
        f'SELECT max("water_level_m") FROM "level" WHERE {SITE} AND $timeFilter',
        "lengthm",
    )
    b.stat(
        "Stations relevées",
        'SELECT count("last") FROM (SELECT last("water_level_m") FROM "level" '
        f'WHERE {SITE} AND $timeFilter GROUP BY "device")',
        "none",
        w=6,
    )
    b.table(
        "Dernier niveau par station (m)",
        f'SELECT last("water_level_m") FROM "level" WHERE {SITE} AND $timeFilter GROUP BY "site"',
        h=4,
    )
    b.series(
        "Niveau d'eau (m)",
        f'SELECT mean("water_level_m") FROM "level" WHERE {SITE} AND $timeFilter '
        'GROUP BY time($__interval), "site" fill(none)',
        "lengthm",
        w=24,
        h=10,
        alias="$tag_site",
    )
    b.alerts(
        "Alertes crues et capteurs ouvertes",
        ("river_vigilance", "river_rise", "level_sensor_fault"),
    )
    return b.build()


def carpool() -> dict[str, object]:
    b = Board(
        "vigie-carpool",
        "Vigie — Aires de covoiturage",
        "Occupied spaces per area over time (InfluxDB), each area's availability now and the "
        "open sensor alerts (Vigie API).",
        "parking",
        ("area",),
    )
    b.stat(
        "Places occupées (dernier état connu)",
        'SELECT sum("o") FROM (SELECT last("occupied") AS "o" FROM "parking" '
        f'WHERE {AREA} AND $timeFilter GROUP BY "device")',
        "none",
    )
    b.stat(
        "Capteurs de place relevés",
        'SELECT count("o") FROM (SELECT last("occupied") AS "o" FROM "parking" '
        f'WHERE {AREA} AND $timeFilter GROUP BY "device")',
        "none",
    )
    b.stat(
        "Taux d'occupation moyen",
        f'SELECT mean("o") FROM ({OCCUPANCY_15MIN}) WHERE $timeFilter',
        "percentunit",
        w=12,
    )
    b.series(
        "Places occupées par aire",
        f'SELECT sum("o") FROM ({OCCUPANCY_15MIN}) WHERE $timeFilter '
        'GROUP BY time(15m), "area" fill(none)',
        "none",
        w=24,
        alias="$tag_area",
    )
    # The API lists every area the caller may see: the key's scope, not $tenant, narrows it.
    b.api_table(
        "Disponibilité des aires maintenant",
        "/api/v1/parking/areas",
        {},
        root="",
        columns=[
            ("id_lieu", "Aire (BNLC)", "string"),
            ("name", "Nom", "string"),
            ("total", "Places", "number"),
            ("free", "Libres", "number"),
            ("occupied", "Occupées", "number"),
            ("unknown", "Inconnues", "number"),
            ("status", "État", "string"),
            ("last_update", "Mise à jour", "timestamp"),
        ],
    )
    b.alerts(
        "Alertes capteurs de stationnement ouvertes",
        ("parking_sensor_silent", "parking_data_frozen"),
    )
    return b.build()

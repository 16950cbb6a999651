"""Dashboards of public buildings: energy, indoor climate and comfort, sobriety KPIs."""

from __future__ import annotations

from dashboards.common import PLACE, TIMEZONE, Board

# kWh per hour and meter register (device, channel): the difference of the hourly last values.
ENERGY_HOURLY = (
    'SELECT non_negative_difference(last("energy_kwh")) AS "kwh" FROM "energy" '
    f'WHERE {PLACE} AND $timeFilter GROUP BY time(1h), "device", "channel", "building"'
)
# Rooms: not the climate sensors outside any building (reservoirs, stations), nor the external
# probes (channel "ext": a pipe or water temperature, not the room's air).
ROOMS = f"{PLACE} AND \"building\" != '' AND \"channel\" != 'ext'"
DAY = f"GROUP BY time(1d), \"building\" fill(none) tz('{TIMEZONE}')"


def building_energy() -> dict[str, object]:
    b = Board(
        "vigie-building-energy",
        "Vigie — Énergie des bâtiments",
        "Electricity registers, current and apparent power of the buildings' meters (InfluxDB), "
        "and the open energy alerts (Vigie API).",
        "energy",
        ("site", "building"),
    )
    b.stat(
        "Électricité sur la période",
        f'SELECT sum("kwh") FROM ({ENERGY_HOURLY}) WHERE $timeFilter',
        "kwatth",
    )
    b.stat(
        "Courant moyen",
        f'SELECT mean("current_a") FROM "energy" WHERE {PLACE} AND $timeFilter',
        "amp",
    )
    b.stat(
        "Puissance apparente max.",
        f'SELECT max("apparent_power_va") FROM "energy" WHERE {PLACE} AND $timeFilter',
        "voltamp",
    )
    b.stat(
        "Compteurs relevés",
        'SELECT count("last") FROM (SELECT last("energy_kwh") FROM "energy" '
        f'WHERE {PLACE} AND $timeFilter GROUP BY "device", "channel")',
        "none",
    )
    b.series(
        "Électricité par bâtiment (kWh/h)",
        f'SELECT sum("kwh") FROM ({ENERGY_HOURLY}) WHERE $timeFilter '
        'GROUP BY time(1h), "building" fill(none)',
        "kwatth",
        alias="$tag_building",
    )
    b.series(
        "Électricité par jour (kWh, jours de Paris)",
        f'SELECT sum("kwh") FROM ({ENERGY_HOURLY}) WHERE $timeFilter {DAY}',
        "kwatth",
        alias="$tag_building",
        bars=True,
    )
    b.series(
        "Courant par compteur (A)",
        f'SELECT mean("current_a") FROM "energy" WHERE {PLACE} AND $timeFilter '
        'GROUP BY time($__interval), "building", "device", "channel" fill(none)',
        "amp",
        alias="$tag_building $tag_device $tag_channel",
    )
    b.series(
        "Puissance apparente (VA)",
        f'SELECT mean("apparent_power_va") FROM "energy" WHERE {PLACE} AND $timeFilter '
        'GROUP BY time($__interval), "building" fill(none)',
        "voltamp",
        alias="$tag_building",
    )
    # Gas and water meters both report volume_m3, stored under "water" (its domain); the store
    # writes no role tag, so the panel tells them apart by model only.
    b.series(
        "Volumes des compteurs gaz et eau (m³/h)",
        'SELECT sum("m3") FROM (SELECT non_negative_difference(last("volume_m3")) AS "m3" '
        f'FROM "water" WHERE {PLACE} AND "building" != \'\' AND $timeFilter '
        'GROUP BY time(1h), "device", "building", "model") WHERE $timeFilter '
        'GROUP BY time(1h), "building", "model" fill(none)',
        "m3",
        w=24,
        alias="$tag_building $tag_model",
    )
    b.alerts(
        "Alertes énergie ouvertes",
        (
            "energy_excess",
            "energy_drop",
            "energy_load_shape",
            "energy_unoccupied_excess",
            "energy_meter_frozen",
            "energy_meter_reset",
            "energy_meter_jump",
            "energy_meter_zeros",
        ),
    )
    return b.build()


def indoor_climate() -> dict[str, object]:
    b = Board(
        "vigie-indoor-climate",
        "Vigie — Climat intérieur et confort",
        "Temperature, CO2 and humidity of the buildings' rooms (InfluxDB), and the open comfort "
        "and air-quality alerts (Vigie API).",
        "climate",
        ("site", "building"),
    )
    for title, field, agg, unit in (
        ("Température moyenne", "temperature_c", "mean", "celsius"),
        ("Température max.", "temperature_c", "max", "celsius"),
        ("CO2 max.", "co2_ppm", "max", "ppm"),
        ("Humidité moyenne", "humidity_pct", "mean", "percent"),
    ):
        b.stat(title, f'SELECT {agg}("{field}") FROM "climate" WHERE {ROOMS} AND $timeFilter', unit)
    for title, field, unit in (
        ("Température intérieure (°C)", "temperature_c", "celsius"),
        ("CO2 (ppm)", "co2_ppm", "ppm"),
        ("Humidité relative (%)", "humidity_pct", "percent"),
    ):
        b.series(
            title,
            f'SELECT mean("{field}") FROM "climate" WHERE {ROOMS} AND $timeFilter '
            'GROUP BY time($__interval), "building" fill(none)',
            unit,
            alias="$tag_building",
        )
    b.table(
        "Dernière température par capteur",
        f'SELECT last("temperature_c") FROM "climate" WHERE {ROOMS} AND $timeFilter '
        'GROUP BY "building", "device", "channel"',
    )
    b.alerts(
        "Alertes confort et qualité de l'air ouvertes",
        ("comfort_setpoint_drift", "comfort_unoccupied_heating", "indoor_co2"),
    )
    return b.build()


def sobriety_kpis() -> dict[str, object]:
    b = Board(
        "vigie-sobriety-kpis",
        "Vigie — Indicateurs de sobriété",
        "The tenant's buildings ranked by savings potential, with the 2022 sobriety plan and the "
        "décret tertiaire (Vigie API), beside the electricity and heating temperatures measured "
        "(InfluxDB).",
        "energy",
        ("site", "building"),
    )
    b.stat(
        "Électricité sur la période",
        f'SELECT sum("kwh") FROM ({ENERGY_HOURLY}) WHERE $timeFilter',
        "kwatth",
    )
    b.stat(
        "Température intérieure moyenne",
        f'SELECT mean("temperature_c") FROM "climate" WHERE {PLACE} AND $timeFilter',
        "celsius",
    )
    b.series(
        "Électricité par jour (kWh)",
        f'SELECT sum("kwh") FROM ({ENERGY_HOURLY}) WHERE $timeFilter {DAY}',
        "kwatth",
        alias="$tag_building",
        bars=True,
    )
    b.api_table(
        "Bâtiments classés par potentiel d'économie (année en cours)",
        "/api/v1/kpis/portfolio",
        {"tenant": "${tenant}", "year": "${__to:date:YYYY}"},
        root="buildings",
        columns=[
            ("savings.rank", "Rang", "number"),
            ("building.name", "Bâtiment", "string"),
            ("energy_kwh", "Énergie (kWh)", "number"),
            ("energy_kwh_m2", "kWh/m²", "number"),
            ("previous_energy_kwh", "Année précédente (kWh)", "number"),
            ("co2e_kg", "CO2e (kg)", "number"),
            ("cost_eur", "Coût (€)", "number"),
            ("sobriety.change", "Évolution (plan 2022)", "number"),
            ("trajectory.on_track", "Trajectoire décret tertiaire", "string"),
            ("coverage", "Couverture des données", "number"),
        ],
        h=10,
    )
    return b.build()

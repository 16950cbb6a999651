"""The device and network health dashboard: batteries, radio links, silent devices."""

from __future__ import annotations

from dashboards.common import PLACE, Board


def device_health() -> dict[str, object]:
    b = Board(
        "vigie-device-health",
        "Vigie — Santé des capteurs et du réseau",
        "Battery, RSSI, SNR and spreading factor of the uplinks, the last frame of each device "
        "(oldest first: the silent ones) from InfluxDB; the dead letters from the state store "
        "(PostgreSQL); the device inventory and the open sensor alerts from the Vigie API.",
        "radio",
        ("site", "building"),
    )
    b.stat(
        "Capteurs entendus sur la période",
        'SELECT count("l") FROM (SELECT last("rssi_dbm") AS "l" FROM "radio" '
        f'WHERE {PLACE} AND $timeFilter GROUP BY "device")',
        "none",
    )
    b.stat(
        "Batterie la plus basse",
        f'SELECT min("battery_pct") FROM "device" WHERE {PLACE} AND $timeFilter',
        "percent",
    )
    b.stat(
        "RSSI moyen",
        f'SELECT mean("rssi_dbm") FROM "radio" WHERE {PLACE} AND $timeFilter',
        "dBm",
    )
    b.stat(
        "SNR moyen",
        f'SELECT mean("snr_db") FROM "radio" WHERE {PLACE} AND $timeFilter',
        "dB",
    )
    for title, field, unit in (
        ("RSSI moyen par modèle (dBm)", "rssi_dbm", "dBm"),
        ("SNR moyen par modèle (dB)", "snr_db", "dB"),
        ("Facteur d'étalement moyen par modèle", "spreading_factor", "none"),
        ("Passerelles ayant reçu la trame", "gateway_count", "none"),
    ):
        b.series(
            title,
            f'SELECT mean("{field}") FROM "radio" WHERE {PLACE} AND $timeFilter '
            'GROUP BY time($__interval), "model" fill(none)',
            unit,
            alias="$tag_model",
        )
    b.series(
        "Tension des piles (V)",
        f'SELECT mean("battery_v") FROM "device" WHERE {PLACE} AND $timeFilter '
        'GROUP BY time($__interval), "device" fill(none)',
        "volt",
        alias="$tag_device",
    )
    b.table(
        "Niveau de batterie par capteur (%)",
        f'SELECT last("battery_pct") FROM "device" WHERE {PLACE} AND $timeFilter '
        'GROUP BY "device", "model"',
    )
    # The time column is the last uplink: sorted ascending, the silent devices come first.
    b.table(
        "Dernière trame par capteur (capteurs muets en tête)",
        f'SELECT last("rssi_dbm") FROM "radio" WHERE {PLACE} AND $timeFilter '
        'GROUP BY "device", "model", "building", "area"',
        w=24,
        h=10,
    )
    # Dead letters live in the state store, not in InfluxDB, and carry no tenant (an unknown
    # device has none): these panels show every tenant's, for the operators of the platform.
    b.sql(
        "Lettres mortes ouvertes (tous locataires)",
        'SELECT count(*) AS "trames" FROM dead_letter '
        "WHERE status = 'open' AND $__timeFilter(received_at)",
        kind="stat",
        w=6,
    )
    b.sql(
        "Lettres mortes ouvertes par raison",
        'SELECT reason AS "raison", count(*) AS "trames", max(received_at) AS "dernière" '
        "FROM dead_letter WHERE status = 'open' AND $__timeFilter(received_at) "
        "GROUP BY reason ORDER BY 2 DESC",
        w=6,
    )
    b.sql(
        "Lettres mortes reçues par heure",
        "SELECT $__timeGroupAlias(received_at, '1h'), reason AS metric, count(*) AS value "
        "FROM dead_letter WHERE $__timeFilter(received_at) GROUP BY 1, 2 ORDER BY 1",
        kind="series",
    )
    b.api_table(
        "Inventaire des capteurs",
        "/api/v1/devices",
        {"tenant": "${tenant}", "limit": "1000"},
        root="items",
        columns=[
            ("dev_eui", "DevEUI", "string"),
            ("name", "Nom", "string"),
            ("model", "Modèle", "string"),
            ("role", "Rôle", "string"),
            ("building", "Bâtiment", "string"),
            ("area", "Aire", "string"),
            ("last_join_at", "Dernier join", "timestamp"),
        ],
    )
    b.alerts(
        "Alertes capteurs ouvertes",
        (
            "parking_sensor_silent",
            "level_sensor_fault",
            "energy_meter_frozen",
            "energy_meter_zeros",
        ),
    )
    return b.build()

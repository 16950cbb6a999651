"""The OPERAT-ready annual CSV: one row per building and energy carrier of a year.

OPERAT (ADEME's platform for the décret tertiaire) takes each EFA's annual consumption per energy,
typed in or imported from a CSV file of comma-separated values. ADEME's bulk-import template
could not be checked here, so this file follows what a declaration holds — the EFA identifier,
the year, the energy, its quantity and unit — in columns named after OPERAT's own words, plus
what the reader needs to check it (building code, period, coverage, meters). Check the columns
against the template of the current campaign before uploading (docs/decisions/011).

Quantities are whole kWh as metered (gas in kWh PCS, as invoiced). Text cells that a spreadsheet
would run as formulas are neutralised (``core.csv_cells``).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from analytics.kpi.building import BuildingYear
from core.config import DEFAULT_ZONE
from core.csv_cells import safe_cell

# OPERAT's energy names (as its declaration screens list them) for our carriers.
ENERGY_LABELS = {
    "electricity": "Électricité",
    "gas": "Gaz naturel réseau",
    "fuel_oil": "Fioul domestique",
    "district_heating": "Réseau de chaleur",
    "district_cooling": "Réseau de froid",
    "wood": "Bois",
    "lpg": "Gaz propane (GPL)",
}

COLUMNS = (
    "identifiant_efa",
    "reference_interne",
    "nom_batiment",
    "annee_consommation",
    "date_debut",
    "date_fin",
    "type_energie",
    "consommation",
    "unite",
    "surface_m2",
    "categorie_activite",
    "assujetti_decret_tertiaire",
    "couverture_releves",
    "compteurs",
)


def operat_rows(years: list[BuildingYear], zone: str = DEFAULT_ZONE) -> list[list[object]]:
    """The rows, building by building, carrier by carrier (dates local to ``zone``)."""
    tz = ZoneInfo(zone)
    rows: list[list[object]] = []
    for y in years:
        b = y.building
        first = y.start.astimezone(tz).date()
        last = (y.end - timedelta(microseconds=1)).astimezone(tz).date()
        subject = b.floor_area_m2 is not None and b.floor_area_m2 >= 1000
        for c in y.carriers:
            rows.append(
                [
                    b.operat_id or "",
                    b.code,
                    b.name,
                    y.year,
                    first.isoformat(),
                    last.isoformat(),
                    ENERGY_LABELS.get(c.carrier, c.carrier),
                    round(c.energy_kwh),
                    "kWh",
                    b.floor_area_m2,
                    b.activity_category or "",
                    "oui" if subject else "non",
                    round(c.coverage, 4),
                    " ".join(c.meters),
                ]
            )
    return rows


def operat_csv(years: list[BuildingYear], zone: str = DEFAULT_ZONE) -> bytes:
    """The file: UTF-8 with a byte-order mark (for Excel), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in operat_rows(years, zone):
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")

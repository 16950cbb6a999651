"""The national carpool places base (BNLC): the areas as a CSV of the columns of
``etalab/schema-lieux-covoiturage`` (v0.2.3, as published on schema.data.gouv.fr), in order."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from api.parking_board import AreaInfo

COLUMNS = (
    "id_lieu",
    "id_local",
    "nom_lieu",
    "ad_lieu",
    "com_lieu",
    "insee",
    "type",
    "date_maj",
    "ouvert",
    "source",
    "Xlong",
    "Ylat",
    "nbre_pl",
    "nbre_pmr",
    "duree",
    "horaires",
    "proprio",
    "lumiere",
    "comm",
)


def bnlc_csv(areas: Sequence[AreaInfo]) -> str:
    """The static description of the areas; fields the registry does not hold are left empty
    (all of them are optional in the schema)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for a in areas:
        row = {
            "id_lieu": a.id_lieu,
            "nom_lieu": a.nom_lieu,
            "insee": a.insee,
            "type": a.type,
            "date_maj": a.updated_at.date().isoformat(),
            "ouvert": "true" if a.ouvert else "false",
            # The schema asks for at least 4 decimals.
            "Xlong": f"{a.xlong:.6f}",
            "Ylat": f"{a.ylat:.6f}",
            "nbre_pl": str(a.nbre_pl),
            "nbre_pmr": str(a.nbre_pmr),
        }
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue()

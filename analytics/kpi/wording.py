"""French words, number formats and the style sheet of the sobriety report."""

from __future__ import annotations

from html import escape

from analytics.kpi.building import Note

CARRIERS_FR = {
    "electricity": "Électricité",
    "gas": "Gaz naturel",
    "fuel_oil": "Fioul",
    "district_heating": "Réseau de chaleur",
    "district_cooling": "Réseau de froid",
    "wood": "Bois",
    "lpg": "GPL",
}
BASIS_FR = {"own": "année N−1", "peers": "pairs", "national": "réf. nationale"}
MONTHS_FR = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)
NOTES_FR = {
    "no_meter": "aucun compteur d'énergie enregistré",
    "submeter_left_out": "sous-compteur {s} non compté : son énergie est sur un compteur principal",
    "carrier_not_metered": "énergie « {c} » déclarée sans compteur : elle n'est pas comptée",
    "gas_m3_without_kwh_per_m3": "compteur gaz {s} en m³ sans coefficient kWh/m³ : non compté",
    "meter_without_readings": "compteur {s} : aucun relevé sur la période",
    "meter_reset": "compteur {s} : {n} remise(s) à zéro, l'intervalle concerné n'est pas compté",
    "meter_incomplete": "compteur {s} : relevés sur {p} de la période, rien n'est extrapolé",
    "no_outdoor_temperature": "pas de sonde de température extérieure : pas de degrés-jours",
    "degree_days_incomplete": "degrés-jours incomplets : sonde extérieure muette > 20 % d'un mois",
    "no_emission_factor": "pas de facteur d'émission configuré pour « {c} »",
}

CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt;
  color: #222; margin: 0 auto; max-width: 186mm; line-height: 1.35; }
h1 { font-size: 19pt; margin: 0 0 2mm; color: #1f5f8b; }
h2 { font-size: 14pt; color: #1f5f8b; border-bottom: 2px solid #1f5f8b; padding-bottom: 1mm;
  margin: 8mm 0 3mm; break-after: avoid; }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; break-after: avoid; }
p.sub { color: #555; margin: 0 0 4mm; }
section.page { break-before: page; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 8.5pt; }
td.name { min-width: 36mm; }
caption { caption-side: top; text-align: right; font-size: 8pt; color: #777; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border-bottom: 1px solid #ddd; padding: 1.2mm 1.5mm; text-align: left;
  vertical-align: top; }
th { background: #eef3f7; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid #999; }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin: 3mm 0 5mm; }
.kpi { border: 1px solid #cdd9e3; border-radius: 2mm; padding: 2.5mm 3mm; break-inside: avoid; }
.kpi b { display: block; font-size: 15pt; color: #1f5f8b; }
.kpi span { color: #555; font-size: 8.5pt; }
.ok { color: #3d7a2a; font-weight: 600; } .ko { color: #b8423b; font-weight: 600; }
.muted { color: #777; }
figure { margin: 2mm 0 5mm; break-inside: avoid; } svg { max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #555; }
.building { break-inside: avoid; border-top: 1px solid #ccc; padding-top: 2mm; }
ul.notes { margin: 1mm 0 3mm 5mm; padding: 0; font-size: 8.5pt; color: #555; }
"""


def num(value: float | None, decimals: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


def pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
    return text.replace(".", ",") + "\u00a0%"


def kwh_cell(value: float | None, extra: str = "") -> str:
    if value is None:
        return f'<td class="n{extra}">—</td>'
    return f'<td class="n{extra}" data-kwh="{value!r}">{num(value, 0)}</td>'


def yes_no(value: bool | None) -> str:
    if value is None:
        return '<span class="muted">non évalué</span>'
    return '<span class="ok">oui</span>' if value else '<span class="ko">non</span>'


def day_fr(month_day: str) -> str:
    """``10-01`` as ``1er octobre``."""
    month, day = (int(x) for x in month_day.split("-"))
    return f"{'1er' if day == 1 else day} {MONTHS_FR[month - 1]}"


def esc(text: str | None) -> str:
    return escape(text or "")


def note_fr(note: Note) -> str:
    template = NOTES_FR.get(note.code)
    if template is None:
        return escape(note.code)
    subject = note.subject or ""
    return escape(
        template.format(
            s=subject,
            c=CARRIERS_FR.get(subject, subject),
            n=f"{note.value:.0f}" if note.value is not None else "?",
            p=pct(note.value, signed=False),
        )
    )

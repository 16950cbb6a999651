"""The sobriety strategy's portfolio report: one self-contained HTML file, in French, for A4.

Inline CSS and inline SVG charts (``analytics.kpi.charts``), no script and nothing fetched: the
file opens offline, can be mailed, and prints on A4 (``@page``, a page per main section, tables
that do not split a row). Every energy figure carries its exact value in a ``data-kwh``
attribute beside the rounded French number, so it can be checked against the readings.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from analytics.kpi import charts
from analytics.kpi.building import BuildingYear
from analytics.kpi.portfolio import BuildingReport, PortfolioYear
from analytics.kpi.targets import MILESTONES, SOBRIETY_TARGET
from analytics.kpi.wording import (
    BASIS_FR,
    CARRIERS_FR,
    CSS,
    MONTHS_FR,
    NOTES_FR,
    day_fr,
    esc,
    kwh_cell,
    note_fr,
    num,
    pct,
    yes_no,
)


def _row(code: str, name: str) -> str:
    """The start of a building's table row: its code for machines, its name for people."""
    return f'<tr data-building="{esc(code)}"><td class="name">{esc(name)}</td>'


def _summary(p: PortfolioYear) -> str:
    now, before = p.total_kwh(), p.total_kwh(previous=True)
    change = now / before - 1 if before > 0 else None
    versus = f", {pct(change)} par rapport à {p.year - 1}" if change is not None else ""
    co2 = [b.current.co2e_kg for b in p.buildings]
    cost = [b.current.cost_eur for b in p.buildings]
    dju = [b.current.degree_days_costic for b in p.buildings if b.current.degree_days_costic]
    comfort = [b.comfort for b in p.buildings if b.comfort and b.comfort.measured_hours]
    limit = num(p.settings.comfort_max_c, 0)
    hours = sum(c.measured_hours for c in comfort)
    above = sum(c.hours_above for c in comfort)
    return f"""
<div class="kpis">
 <div class="kpi"><b data-kwh="{now!r}">{num(now / 1000, 1, "MWh")}</b>
  <span>consommation {p.year}{versus}</span></div>
 <div class="kpi"><b>{num(sum(c or 0 for c in co2) / 1000, 1, "t CO2e")}</b>
  <span>émissions estimées (facteurs ADEME)</span></div>
 <div class="kpi"><b>{num(sum(c or 0 for c in cost), 0, "€")}</b>
  <span>dépense estimée aux prix configurés</span></div>
 <div class="kpi"><b>{num(max(dju, default=None), 0)}</b>
  <span>degrés-jours (base 18 °C, méthode COSTIC)</span></div>
 <div class="kpi"><b>{pct(above / hours if hours else None, signed=False)}</b>
  <span>des heures occupées chauffées au-dessus de {limit} °C</span></div>
 <div class="kpi"><b>{len(p.buildings)}</b><span>bâtiments suivis</span></div>
</div>"""


def _consumption(p: PortfolioYear) -> str:
    carriers = p.carriers
    head = "".join(f'<th class="n">{CARRIERS_FR.get(c, c)}</th>' for c in carriers)
    rows = []
    for b in sorted(p.buildings, key=lambda r: r.code):
        y = b.current
        by = {c.carrier: c.energy_kwh for c in y.carriers}
        cells = "".join(kwh_cell(by.get(c)) for c in carriers)
        rows.append(
            _row(b.code, y.building.name)
            + cells
            + f"{kwh_cell(y.energy_kwh)}<td class='n'>{num(y.energy_kwh_m2, 0)}</td>"
            f"<td class='n'>{pct(y.coverage, signed=False)}</td></tr>"
        )
    totals = "".join(kwh_cell(p.total_kwh(c)) for c in carriers)
    return f"""
<table id="consommations">
 <caption>énergies en kWh</caption>
 <thead><tr><th>Bâtiment</th>{head}<th class="n">Total</th><th class="n">kWh/m²</th>
  <th class="n">Relevés</th></tr></thead>
 <tbody>{"".join(rows)}
 <tr class="total" data-building="*"><td>Total</td>{totals}{kwh_cell(p.total_kwh())}
  <td></td><td></td></tr></tbody>
</table>"""


def _ranking(p: PortfolioYear) -> str:
    rows = []
    for b in p.buildings:
        s, y = b.savings, b.current
        if s is None:
            continue
        rows.append(
            f'<tr data-building="{esc(b.code)}"><td class="n">{s.rank}</td>'
            f"<td class='name'>{esc(y.building.name)}<br><span class='muted'>"
            f"{esc(y.building.tenant_name)} · {esc(y.building.activity_category)}</span></td>"
            f"<td class='n'>{num(y.energy_kwh_m2, 0)}</td>"
            f"<td class='n'>{num(s.peer_median_kwh_m2, 0)}</td>"
            f"{kwh_cell(s.own_kwh)}{kwh_cell(s.peers_kwh)}{kwh_cell(s.national_kwh)}"
            f"<td class='n'>{num(s.best_eur, 0, '€')}</td>"
            f"<td>{BASIS_FR.get(s.best_basis or '', '—') if s.best_kwh else '—'}</td></tr>"
        )
    labels = [b.current.building.name for b in p.buildings if b.savings]
    values = [b.savings.best_eur or 0.0 for b in p.buildings if b.savings]
    chart = charts.hbars(labels, values, "Potentiel d'économies par bâtiment", "€")
    return f"""
<table id="classement">
 <caption>énergies en kWh</caption>
 <thead><tr><th class="n">Rang</th><th>Bâtiment</th><th class="n">kWh/m²</th>
  <th class="n">Médiane<br>pairs</th><th class="n">Écart<br>année N−1</th>
  <th class="n">Écart<br>pairs</th><th class="n">Écart<br>réf. nat.</th>
  <th class="n">Potentiel</th><th>Base</th></tr></thead>
 <tbody>{"".join(rows)}</tbody>
</table>
<p class="muted">Écarts en kWh au-dessus de la même période de l'année précédente (corrigée du
climat), de la médiane des bâtiments de même activité (« pairs ») et de la référence nationale ;
le potentiel retient le plus grand, en euros.</p>
<figure>{chart}<figcaption>Potentiel d'économies par bâtiment, en euros.</figcaption></figure>"""


def _trajectory(p: PortfolioYear) -> str:
    rows, labels, values = [], [], []
    for b in sorted(p.buildings, key=lambda r: r.code):
        t = b.trajectory
        if not t.subject and t.reference is None:
            continue
        ref = t.reference
        rows.append(
            _row(b.code, b.current.building.name) + f"<td class='n'>{ref.year if ref else '—'}</td>"
            f"{kwh_cell(ref.energy_kwh if ref else None)}"
            f"{kwh_cell(t.adjusted_kwh)}<td class='n'>{pct(t.change)}</td>"
            f"{kwh_cell(t.targets_kwh.get(2030))}{kwh_cell(t.gap_2030_kwh)}"
            f"<td>{yes_no(t.on_track)}</td></tr>"
        )
        labels.append(b.current.building.name)
        values.append(t.change)
    target = -MILESTONES[2030]
    chart = charts.changes(labels, values, target, "Évolution depuis l'année de référence")
    return f"""
<table id="trajectoire">
 <caption>énergies en kWh</caption>
 <thead><tr><th>Bâtiment</th><th class="n">Réf.</th><th class="n">Conso. réf.</th>
  <th class="n">Conso. {p.year}*</th><th class="n">Évolution</th><th class="n">Objectif 2030</th>
  <th class="n">Reste à économiser</th><th>Sur la trajectoire</th></tr></thead>
 <tbody>{"".join(rows)}</tbody>
</table>
<p class="muted">* consommation {p.year} ramenée au climat de l'année de référence
(chauffage × DJU réf. / DJU {p.year}). Objectifs : −40 % en 2030, −50 % en 2040, −60 % en
2050 ; trajectoire linéaire de l'année de référence à 2030.</p>
<figure>{chart}</figure>"""


def _sobriety(p: PortfolioYear) -> str:
    rows = []
    for b in sorted(p.buildings, key=lambda r: r.code):
        s = b.sobriety
        rows.append(
            _row(b.code, b.current.building.name)
            + f"{kwh_cell(s.baseline.energy_kwh if s.baseline else None)}"
            f"{kwh_cell(b.current.energy_kwh)}<td class='n'>{pct(s.change)}</td>"
            f"<td class='n'>{pct(s.change_adjusted)}</td><td>{yes_no(s.met)}</td></tr>"
        )
    return f"""
<table id="sobriete">
 <caption>énergies en kWh</caption>
 <thead><tr><th>Bâtiment</th><th class="n">2019</th><th class="n">{p.year}</th>
  <th class="n">Évolution</th><th class="n">Corrigée du climat</th>
  <th>Objectif {pct(SOBRIETY_TARGET)} atteint</th></tr></thead>
 <tbody>{"".join(rows)}</tbody>
</table>"""


def _comfort(p: PortfolioYear) -> str:
    rows = []
    for b in sorted(p.buildings, key=lambda r: r.code):
        c, before = b.comfort, b.comfort_previous
        row = _row(b.code, b.current.building.name)
        if c is None:
            rows.append(
                row + '<td colspan="4" class="muted">pas de capteur ou d\'horaires</td></tr>'
            )
            continue
        rows.append(
            row + f"<td class='n'>{c.measured_hours} / {c.occupied_heating_hours}</td>"
            f"<td class='n'>{num(c.mean_c, 1, '°C')}</td>"
            f"<td class='n'>{pct(c.share_above, False)}</td>"
            f"<td class='n'>{pct(before.share_above if before else None, False)}</td></tr>"
        )
    return f"""
<table id="confort">
 <thead><tr><th>Bâtiment</th><th class="n">Heures mesurées</th><th class="n">Moyenne</th>
  <th class="n">&gt; {num(p.settings.comfort_max_c, 0)} °C en {p.year}</th>
  <th class="n">en {p.year - 1}</th></tr></thead>
 <tbody>{"".join(rows)}</tbody>
</table>
<p class="muted">Heures d'occupation (horaires du bâtiment, hors jours fériés et, pour les écoles,
vacances scolaires) de la saison de chauffe (du {day_fr(p.settings.heating_season[0])} au
{day_fr(p.settings.heating_season[1])}) ; température moyenne des capteurs du bâtiment. Code de
l'énergie, art. R241-26 : 19 °C en moyenne au plus.</p>"""


def _changes(p: PortfolioYear) -> str:
    rows = []
    for b in sorted(p.buildings, key=lambda r: r.code):
        y, before = b.current, b.previous
        change = y.energy_kwh / before.energy_kwh - 1 if before and before.energy_kwh > 0 else None
        comfort_now = b.comfort.share_above if b.comfort else None
        comfort_before = b.comfort_previous.share_above if b.comfort_previous else None
        shift = (
            None if comfort_now is None or comfort_before is None else comfort_now - comfort_before
        )
        rows.append(
            _row(b.code, y.building.name)
            + f"{kwh_cell(before.energy_kwh if before else None)}{kwh_cell(y.energy_kwh)}"
            f"<td class='n'>{pct(change)}</td>"
            f"<td class='n'>{num(before.energy_kwh_m2 if before else None)} → "
            f"{num(y.energy_kwh_m2)}</td>"
            f"<td class='n'>{pct(shift)}</td></tr>"
        )
    monthly = _portfolio_months(p)
    chart = charts.grouped_months(
        [(str(p.year - 1), monthly[1]), (str(p.year), monthly[0])],
        "Consommation mensuelle du patrimoine",
        "MWh",
    )
    return f"""
<table id="evolutions">
 <caption>énergies en kWh</caption>
 <thead><tr><th>Bâtiment</th><th class="n">{p.year - 1}</th><th class="n">{p.year}</th>
  <th class="n">Évolution</th><th class="n">kWh/m²</th>
  <th class="n">Heures &gt; 19 °C</th></tr></thead>
 <tbody>{"".join(rows)}</tbody>
</table>
<figure>{chart}<figcaption>Consommation mensuelle de tous les bâtiments, toutes énergies (MWh).
</figcaption></figure>"""


def _portfolio_months(p: PortfolioYear) -> tuple[list[float | None], list[float | None]]:
    out: list[list[float | None]] = []
    for previous in (False, True):
        totals: list[float | None] = [None] * 12
        for b in p.buildings:
            y = b.previous if previous else b.current
            if y is None:
                continue
            for m in y.months:
                k = m.month.month - 1
                totals[k] = (totals[k] or 0.0) + m.energy_kwh / 1000
        out.append(totals)
    return out[0], out[1]


def _building(b: BuildingReport) -> str:
    y: BuildingYear = b.current
    info = y.building
    months = "".join(
        f"<tr><td>{MONTHS_FR[m.month.month - 1]}</td>"
        f"{kwh_cell(m.energy_kwh)}{kwh_cell(m.heating_kwh)}"
        f"<td class='n'>{num(m.degree_days_costic, 0)}</td>{kwh_cell(m.heating_corrected_kwh)}"
        f"<td class='n'>{pct(m.baseload_share, False)}</td></tr>"
        for m in y.months
    )
    notes = "".join(f"<li>{note_fr(n)}</li>" for n in y.notes if n.code in NOTES_FR)
    return f"""
<div class="building" data-building="{esc(info.code)}">
<h3>{esc(info.name)} <span class="muted">— {esc(info.tenant_name)},
{num(info.floor_area_m2, 0, "m²")}, {esc(info.activity_category)}</span></h3>
<table class="mois">
 <caption>énergies en kWh</caption>
 <thead><tr><th>Mois</th><th class="n">Énergie</th><th class="n">dont chauffage</th>
  <th class="n">DJU</th><th class="n">Chauffage corrigé</th>
  <th class="n">Talon élec.</th></tr></thead>
 <tbody>{months}<tr class="total"><td>Année</td>{kwh_cell(y.energy_kwh)}{kwh_cell(y.heating_kwh)}
 <td class="n">{num(y.degree_days_costic, 0)}</td>{kwh_cell(y.heating_corrected_kwh)}
 <td class="n">{pct(y.baseload_share, False)}</td></tr></tbody>
</table>
{f'<ul class="notes">{notes}</ul>' if notes else ""}
</div>"""


def _methods(p: PortfolioYear) -> str:
    s = p.settings
    factors = "".join(
        f"<li>{CARRIERS_FR.get(c, c)} : {num(f, 3)} kgCO2e/kWh</li>"
        for c, f in sorted(s.emission_factors_kgco2e_kwh.items())
    )
    normals = (
        "normales mensuelles configurées (méthode COSTIC)"
        if s.degree_day_normals
        else "<b>non configurées</b> : le chauffage n'est pas corrigé du climat"
    )
    return f"""
<ul>
<li>Consommations : hausse des index des compteurs (relevés LoRaWAN), par mois civil (heure de
Paris). Une remise à zéro n'ajoute rien pour l'intervalle concerné ; un silence garde la hausse
d'index, répartie sur sa durée ; rien n'est extrapolé. Sous-compteurs exclus.</li>
<li>Degrés-jours base 18 °C. Méthode « Météo » : DJ = max(0 ; 18 − (Tn + Tx)/2). Méthode
« professionnels de l'énergie » (COSTIC, utilisée pour OPERAT) : identique si Tx ≤ 18, nul si
Tn ≥ 18, sinon DJ = (18 − Tn) × (0,08 + 0,42 × (18 − Tn)/(Tx − Tn)). Tn de 18 h UTC la veille à
18 h UTC, Tx de 6 h UTC à 6 h UTC le lendemain (journée climatologique de Météo-France).</li>
<li>Chauffage corrigé du climat = chauffage × DJU normaux / DJU mesurés ; {normals}.</li>
<li>Décret tertiaire (bâtiments ≥ 1 000 m²) : −40 % en 2030, −50 % en 2040, −60 % en 2050 par
rapport à une année de référence ≥ 2010, corrigée du climat. Plan de sobriété 2022 : −10 % en
2024 par rapport à 2019.</li>
<li>Facteurs d'émission (ADEME, Base Empreinte / Base Carbone ; gaz en kWh PCI, soit
{num(s.gas_pci_per_pcs, 2)} kWh PCI par kWh PCS compté) :<ul>{factors}</ul></li>
<li>Potentiel d'économies : écart positif à la même période de l'année précédente (corrigée du
climat), à la médiane des bâtiments de même activité (3 au moins) et à la référence nationale
configurée ; valorisé au prix moyen du bâtiment.</li>
</ul>"""


def render_report(p: PortfolioYear) -> str:
    """The whole report as one HTML document."""
    generated = p.generated_at.astimezone(ZoneInfo(p.settings.zone))
    scope = ", ".join(p.tenants)
    partial = (
        f"<p><b>Année {p.year} en cours</b> : chiffres arrêtés au "
        f"{generated:%d/%m/%Y %H:%M}, sans comparaison annuelle.</p>"
        if p.partial
        else ""
    )
    details = "".join(_building(b) for b in sorted(p.buildings, key=lambda r: r.code))
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Sobriété énergétique {p.year} — {esc(p.tenant_name)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Sobriété énergétique — bilan {p.year}</h1>
<p class="sub">{esc(p.tenant_name)} ({esc(scope)}) · rapport produit par Vigie le
{generated:%d/%m/%Y à %H:%M}</p>
{partial}
</header>
<section>
<h2>Synthèse</h2>
{_summary(p)}
<h3>Consommations {p.year} par énergie</h3>
{_consumption(p)}
</section>
<section class="page">
<h2>Où agir en priorité</h2>
<p>Classement des bâtiments par potentiel d'économies, le premier d'abord.</p>
{_ranking(p)}
</section>
<section class="page">
<h2>Trajectoire du décret tertiaire</h2>
{_trajectory(p)}
<h2>Plan de sobriété 2022</h2>
{_sobriety(p)}
</section>
<section class="page">
<h2>Confort : respect des consignes de chauffage</h2>
{_comfort(p)}
<h2>Ce qui a changé depuis {p.year - 1}</h2>
{_changes(p)}
</section>
<section class="page">
<h2>Détail par bâtiment</h2>
{details}
</section>
<section class="page">
<h2>Méthodes et sources</h2>
{_methods(p)}
</section>
</body>
</html>
"""

"""The sobriety report: self-contained HTML whose totals reconcile with the raw readings, opened
in a real headless Chromium (screenshot, DOM, print to PDF on A4).

The screenshot, the HTML and the PDF are kept as artifacts in ``var/test-artifacts/`` (git
ignored) and in the test's temporary directory.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analytics.kpi.portfolio import PortfolioYear, portfolio_year
from analytics.kpi.report import render_report
from core.config import KpiSettings
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.analytics.kpi.conftest import NOW, SITES, YEAR, raw_kwh

ARTIFACTS = Path(__file__).parents[3] / "var" / "test-artifacts"
WINDOW = (1240, 1754)  # A4 proportions at 150 dpi
PARIS = ZoneInfo("Europe/Paris")


class Cells(HTMLParser):
    """The ``data-kwh`` values of a page: table id → row's data-building → values, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[float]]] = {}
        self._table: str | None = None
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table or ""] = {}
        elif tag == "tr" and self._table and a.get("data-building"):
            self._row = a["data-building"]
            self.tables[self._table][self._row or ""] = []
        elif tag == "td" and self._table and self._row and "data-kwh" in a:
            self.tables[self._table][self._row].append(float(a["data-kwh"] or "nan"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None


@pytest.fixture
def portfolio(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> PortfolioYear:
    return portfolio_year(kpi_store, kpi_state, "agglo", YEAR, NOW, kpi_settings)


def test_report_totals_reconcile_exactly_with_the_raw_readings(
    portfolio: PortfolioYear, kpi_store: SqliteStore
) -> None:
    cells = Cells()
    cells.feed(render_report(portfolio))
    table = cells.tables["consommations"]
    start = datetime(YEAR, 1, 1, tzinfo=PARIS).astimezone(UTC)
    end = datetime(YEAR + 1, 1, 1, tzinfo=PARIS).astimezone(UTC)
    assert portfolio.carriers == ["electricity", "gas"]  # the table's columns, in order
    everything: list[str] = []
    for s in SITES:
        electricity = raw_kwh(kpi_store, [s.linky], start, end)
        gas = raw_kwh(kpi_store, [s.gas], start, end) if s.gas else None
        row = table[s.building]
        expected = [electricity, *([gas] if gas is not None else []), electricity + (gas or 0.0)]
        assert row == expected, s.building
        everything += [s.linky, *([s.gas] if s.gas else [])]
    all_electricity = raw_kwh(kpi_store, [s.linky for s in SITES], start, end)
    all_gas = raw_kwh(kpi_store, [s.gas for s in SITES if s.gas], start, end)
    assert table["*"] == [all_electricity, all_gas, raw_kwh(kpi_store, everything, start, end)]
    # Every other table repeats the same building totals.
    for b in portfolio.buildings:
        evolutions = cells.tables["evolutions"][b.code]
        assert evolutions[-1] == table[b.code][-1]


def test_the_report_is_self_contained_and_in_french(portfolio: PortfolioYear) -> None:
    html = render_report(portfolio)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert "@import" not in html and "url(" not in html
    # The only URL is the SVG namespace, an identifier that is never fetched.
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count("<svg") == 3  # ranking, trajectory, months
    for heading in (
        "Où agir en priorité",
        "Trajectoire du décret tertiaire",
        "Plan de sobriété 2022",
        "respect des consignes de chauffage",
        "Ce qui a changé depuis 2024",
    ):
        assert heading in html
    assert "@page { size: A4" in html


def test_names_are_escaped(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    from sqlalchemy import select

    from core.state.models import Building

    with kpi_state.session() as session:
        building = session.scalars(select(Building).where(Building.code == "mairie")).one()
        building.name = "<img src=x onerror=alert(1)> & Cie"
        session.commit()
    html = render_report(portfolio_year(kpi_store, kpi_state, "agglo", YEAR, NOW, kpi_settings))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; Cie" in html


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is needed: apt-get install chromium (see .ci/system-packages)"
    return found


def _run(*args: str, profile: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


def _png(path: Path) -> tuple[int, int, bytes]:
    """Width, height and inflated pixel rows of a PNG, read with the standard library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_chromium_opens_prints_and_pictures_the_report(
    portfolio: PortfolioYear, tmp_path: Path
) -> None:
    page = tmp_path / "sobriete-2025.html"
    page.write_text(render_report(portfolio), encoding="utf-8")
    profile = tmp_path / "chromium-profile"
    shot, pdf = tmp_path / "sobriete-2025.png", tmp_path / "sobriete-2025.pdf"
    url = page.as_uri()

    _run(f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url, profile=profile)
    dom = _run("--dump-dom", url, profile=profile).stdout.decode("utf-8")
    _run("--no-pdf-header-footer", f"--print-to-pdf={pdf}", url, profile=profile)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for artifact in (page, shot, pdf):
        shutil.copy(artifact, ARTIFACTS / artifact.name)

    width, height, pixels = _png(shot)
    assert (width, height) == WINDOW
    # Not blank: a white page's filtered rows hold 4 distinct bytes, this one all 256.
    assert len(set(pixels)) > 50

    ranking = re.search(r'<table id="classement">.*?</table>', dom, re.DOTALL)
    assert ranking is not None
    rows = re.findall(r'<tr data-building="([^"]+)">', ranking.group(0))
    assert rows == [b.code for b in portfolio.buildings] and len(rows) == 4

    document = pdf.read_bytes()
    assert document.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b", document)
    assert len(pages) >= 5  # a page per main section
    sizes = {
        tuple(round(float(v)) for v in m.groups())
        for m in re.finditer(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", document)
    }
    assert sizes == {(595, 842)}  # A4 in points

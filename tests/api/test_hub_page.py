"""The hub screen in a real headless Chromium (Debian's), against the real API served by uvicorn:
the simulated counts, a space that frees up, the stale state, departures with a GTFS-RT delay from
a local HTTP server, an operator message, WCAG AA contrast, both orientations, an API restart.

Screenshots are kept as artifacts in ``var/test-artifacts/`` (git ignored) and in the test's
temporary directory.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from core.config import HubSettings
from tests.api.conftest import operator_app
from tests.api.hub_fixtures import CATEAU, GARE, HUB, T0, THIRD, HubWorld, hub_world
from tests.feed_server import feed_server
from tests.services import LOOPBACK, free_port

ARTIFACTS = Path(__file__).parents[2] / "var" / "test-artifacts"
PARIS = ZoneInfo("Europe/Paris")
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
WAIT_MS = 20_000

# Contrast of every visible text against the colour actually behind it (WCAG 2.x: 4.5:1, or 3:1
# for large text, i.e. >= 24 px, or >= 18.66 px bold).
CONTRAST_JS = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)))
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!own || node.offsetParent === null) continue;
    const style = getComputedStyle(node);
    const [a, b] = [lum(rgb(style.color)), lum(background(node))].sort((x, y) => y - x);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    out.push({text: node.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05),
              needed: large ? 3 : 4.5});
  }
  return out;
}
"""


class ApiServer:
    """The app on uvicorn in a thread, on a fixed port so that it can be restarted there."""

    def __init__(self, world: HubWorld) -> None:
        self._app = operator_app(world.services)
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(self._app, host=LOOPBACK, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[HubWorld]:
    with feed_server() as feeds:
        yield from hub_world(tmp_path, feeds, HubSettings(refresh_s=2, realtime_poll_s=1))


@pytest.fixture
def api(world: HubWorld) -> Iterator[ApiServer]:
    server = ApiServer(world)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium is installed by .ci/system-packages"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def _count(page: Page, id_lieu: str) -> str:
    return page.inner_text(f'.area[data-area="{id_lieu}"] .count')


def _wait_count(page: Page, id_lieu: str, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => {"
        "  const n = document.querySelector(`.area[data-area='${id}'] .count`);"
        "  return n !== null && n.textContent === text; }",
        arg=[id_lieu, text],
        timeout=WAIT_MS,
    )


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)
    return path


def test_the_screen_shows_live_counts_departures_and_messages(
    world: HubWorld, api: ApiServer, browser: Browser, tmp_path: Path
) -> None:
    gare = len(world.spaces[GARE])
    occupied = [i % 3 == 0 for i in range(gare)]
    world.park(GARE, occupied, T0 - timedelta(minutes=30))
    world.park(THIRD, [True] * len(world.spaces[THIRD]), T0 - timedelta(minutes=20))
    world.delay("T1", 420)
    httpx.post(
        f"{api.base}/api/v1/hubs/{HUB}/messages",
        json={"text": "Canicule : pensez à vous hydrater", "severity": "warning"},
    ).raise_for_status()
    page = browser.new_page(viewport=LANDSCAPE, locale="fr-FR")  # CATEAU is never heard from
    page.goto(f"{api.base}/hub/{HUB}?token={world.token}")

    _wait_count(page, GARE, str(occupied.count(False)))
    assert page.inner_text(f'.area[data-area="{GARE}"] .status') == "Places disponibles"
    assert page.inner_text(f'.area[data-area="{THIRD}"] .status') == "Complet"
    assert _count(page, CATEAU) == "—"
    assert "Données indisponibles" in page.inner_text(f'.area[data-area="{CATEAU}"]')
    assert "PMR : 1 / 2" in page.inner_text(f'.area[data-area="{GARE}"]')
    assert "mis à jour il y a 30 min" in page.inner_text(f'.area[data-area="{GARE}"]')
    rows = page.locator("#departures tbody tr").all_inner_texts()
    assert len(rows) == 2 and "retard 7 min" in rows[1] and "Lycée" in rows[1]
    assert page.inner_text("#transit-state") == "Temps réel"
    assert page.inner_text("#messages") == "Canicule : pensez à vous hydrater"

    failing = [c for c in page.evaluate(CONTRAST_JS) if c["ratio"] < c["needed"]]
    assert failing == []
    _shot(page, tmp_path, "hub-landscape.png")

    # A car leaves space 1; once the change has held a minute the screen shows it.
    world.park(GARE, [False], world.clock.now())
    world.clock.advance(timedelta(minutes=2))
    _wait_count(page, GARE, str(occupied.count(False) + 1))

    portrait = browser.new_page(viewport=PORTRAIT, locale="fr-FR")
    portrait.goto(f"{api.base}/hub/{HUB}?token={world.token}")
    _wait_count(portrait, GARE, str(occupied.count(False) + 1))
    parking = portrait.locator("#parking").bounding_box()
    transit = portrait.locator("#transit").bounding_box()
    assert parking is not None and transit is not None
    assert transit["y"] >= parking["y"] + parking["height"]  # stacked, not side by side
    assert portrait.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    _shot(portrait, tmp_path, "hub-portrait.png")


def test_stale_data_and_an_api_restart(
    world: HubWorld, api: ApiServer, browser: Browser, tmp_path: Path
) -> None:
    heard = T0 - timedelta(minutes=5)
    world.park(GARE, [False] * len(world.spaces[GARE]), heard)
    page = browser.new_page(viewport=LANDSCAPE, locale="fr-FR")
    page.goto(f"{api.base}/hub/{HUB}?token={world.token}")
    _wait_count(page, GARE, str(len(world.spaces[GARE])))

    # Every sensor silent beyond its heartbeat: no number, the time of the last update.
    world.clock.advance(timedelta(hours=37))
    _wait_count(page, GARE, "—")
    card = page.inner_text(f'.area[data-area="{GARE}"]')
    assert f"Dernière mise à jour : {heard.astimezone(PARIS):%H:%M}" in card
    _shot(page, tmp_path, "hub-stale.png")
    world.park(GARE, [False] * len(world.spaces[GARE]), world.clock.now())
    world.clock.advance(timedelta(seconds=10))
    _wait_count(page, GARE, str(len(world.spaces[GARE])))

    # The API goes away: the screen hides its numbers and says since when; it comes back alone.
    api.stop()
    page.wait_for_selector("#connection:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#connection").startswith("Données indisponibles depuis")
    assert _count(page, GARE) == "—"
    api.start()
    page.wait_for_selector("#connection", state="hidden", timeout=60_000)
    _wait_count(page, GARE, str(len(world.spaces[GARE])))

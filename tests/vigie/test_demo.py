"""`vigie demo` as a newcomer runs it: one real process (its private Mosquitto, SQLite stores,
the simulated Caudrésis, ingest, analytics, API), checked through its own printed URLs.

Ten days of history (not the default thirty) keep the test within a few minutes: with seed 1 a
household meter of the sample territory leaks from its eighth day on (the leak's place in the
run does not depend on the date: the simulator draws it from the seed), late enough for the
household detector's reference nights and early enough to be found before the history ends.
Energy alerts open from the first analytics pass (with thirty days, the town hall's baseload
that the demo doubles a week before today is one of them).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.services import free_port
from tests.vigie.test_run import wait_for

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.timeout(1800)  # a real demo: minutes of history on a shared machine
LEAKS = {"household_leak", "building_leak", "sector_leak"}
ENERGY = ("energy_", "comfort_")


class Demo:
    """``python -m vigie demo``, its printed lines parsed as a reader would."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory / "demo.log"
        options = {
            "--dir": str(directory / "data"),
            "--port": str(self.port),
            "--broker-port": str(free_port()),
            "--history-days": "10",
            "--seed": "1",
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vigie", "demo", *(x for o in options.items() for x in o)],
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, label: str) -> str:
        found = re.search(rf"^\s+{label}:\s+(\S+)$", self.output(), re.MULTILINE)
        assert found, f"the demo printed no {label} URL:\n{self.output()}"
        return found.group(1)

    def key(self) -> str:
        found = re.search(r"^\s+API key:\s+(\S+)", self.output(), re.MULTILINE)
        assert found, f"the demo printed no API key:\n{self.output()}"
        return found.group(1)

    def get(self, url: str) -> httpx.Response:
        """With the demo's printed key, as a newcomer would paste it."""
        return httpx.get(url, headers={"Authorization": f"Bearer {self.key()}"}, timeout=30)

    def parts(self) -> dict[str, dict[str, object]]:
        try:
            return dict(self.get(f"{self.base}/health").json()["parts"])
        except (httpx.TransportError, ValueError):
            return {}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
        return self.process.wait(60)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = Demo(tmp_path_factory.mktemp("demo"))
    try:
        wait_for(lambda: "Press Ctrl+C" in running.output(), "the demo's URLs", 120)
        wait_for(
            lambda: running.parts().get("history", {}).get("state") == "stopped",
            "the history replayed",
            900,
        )
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(30)


def _open_alerts(demo: Demo) -> list[dict[str, object]]:
    return list(demo.get(demo.url("alerts")).json()["items"])


def test_the_history_is_in_the_store_and_analytics_runs(demo: Demo) -> None:
    parts = demo.parts()
    assert int(str(parts["history"]["facts"]["messages"])) > 50_000  # type: ignore[index]
    assert demo.get(demo.url("devices")).json()["total"] == 692
    wait_for(lambda: "analytics" in demo.parts(), "the analytics runner started", 60)


def test_a_leak_alert_opens(demo: Demo) -> None:
    wait_for(
        lambda: LEAKS & {str(a["type"]) for a in _open_alerts(demo)},
        "an open leak alert",
        300,
    )


def test_an_energy_alert_opens(demo: Demo) -> None:
    wait_for(
        lambda: [a for a in _open_alerts(demo) if str(a["type"]).startswith(ENERGY)],
        "an open energy alert",
        300,
    )


def test_the_hub_screen_shows_live_areas(demo: Demo) -> None:
    screen = demo.url("hub screen")
    page = demo.get(screen)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    data = demo.get(screen.replace("?token=", "/data?token=")).json()
    assert len(data["areas"]) == 3
    live = [a for a in data["areas"] if a["live"]]
    assert live, data["areas"]
    assert all(0 <= a["free"] <= a["total"] for a in live)


def test_the_api_refuses_a_request_without_the_key(demo: Demo) -> None:
    assert httpx.get(demo.url("alerts"), timeout=30).status_code == 401


def test_the_sobriety_report_exists(demo: Demo) -> None:
    report = demo.get(demo.url("report"))
    assert report.status_code == 200
    assert "text/html" in report.headers["content-type"]
    assert "Caudrésis" in report.text or "caudresis" in report.text.lower()
    assert "kWh" in report.text


def test_ctrl_c_stops_it_cleanly(demo: Demo) -> None:
    started = time.monotonic()
    assert demo.stop() == 0, demo.output()[-3000:]
    assert time.monotonic() - started < 60
    assert "Traceback" not in demo.output()

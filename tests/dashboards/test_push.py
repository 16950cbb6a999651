"""``vigie dashboards push`` against a local HTTP server that stands in for Grafana.

No Grafana server can be installed here, so this fakes it: a real HTTP server on a local port
records every request grafana-client sends and answers as Grafana's HTTP API does (folder
lookup and creation, ``POST /api/dashboards/db``); the test checks the requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from vigie.cli import app
from vigie.dashboards_cli import load_dashboards

TOKEN = "glsa_test_token"


@dataclass
class FakeGrafana:
    """Grafana's folder and dashboard endpoints, in memory, with every request recorded."""

    folders: dict[str, str] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    refuse_with: int | None = None
    prefix: str = ""  # the sub-path Grafana is served under, if any

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if not path.startswith(f"{self.prefix}/api/"):
            return 404, {"message": "Not found"}
        path = path.removeprefix(self.prefix)
        if self.refuse_with is not None:
            return self.refuse_with, {"message": "invalid API key"}
        if method == "GET" and path.startswith("/api/folders/"):
            uid = path.rsplit("/", 1)[1]
            if uid not in self.folders:
                return 404, {"message": "folder not found", "status": "not-found"}
            return 200, {"uid": uid, "title": self.folders[uid]}
        if method == "POST" and path == "/api/folders":
            if body["uid"] in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[body["uid"]] = body["title"]
            return 200, {"uid": body["uid"], "title": body["title"], "id": len(self.folders)}
        if method == "POST" and path == "/api/dashboards/db":
            d = body["dashboard"]
            if d["uid"] in self.dashboards and not body.get("overwrite"):
                return 412, {"message": "A dashboard with the same uid already exists"}
            if body.get("folderUid") not in self.folders:
                return 400, {"message": "folder not found"}
            self.dashboards[d["uid"]] = body
            return 200, {"status": "success", "uid": d["uid"], "url": f"{self.prefix}/d/{d['uid']}"}
        return 404, {"message": "Not found"}


@pytest.fixture(params=["", "/grafana"], ids=["root", "sub-path"])
def grafana(request: pytest.FixtureRequest) -> Iterator[tuple[FakeGrafana, str]]:
    """The fake, served at the root of its port or under a sub-path; and Grafana's URL."""
    fake = FakeGrafana(prefix=request.param)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            fake.requests.append((self.command, self.path, dict(self.headers), body))
            status, answer = fake.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}{fake.prefix}"
    finally:
        server.shutdown()
        server.server_close()


def push(url: str) -> Any:
    return CliRunner().invoke(app, ["dashboards", "push", "--url", url, "--token", TOKEN])


def test_push_creates_the_folder_and_saves_every_dashboard_by_uid(
    grafana: tuple[FakeGrafana, str],
) -> None:
    fake, url = grafana
    result = push(url)
    assert result.exit_code == 0, result.output
    expected = {d["uid"]: d for d in load_dashboards()}
    assert fake.folders == {"vigie": "Vigie"}
    assert set(fake.dashboards) == set(expected) and len(expected) == 7
    for uid, body in fake.dashboards.items():
        assert body["overwrite"] is True and body["folderUid"] == "vigie"
        assert body["dashboard"] == {k: v for k, v in expected[uid].items() if k != "id"}
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, _, h, _ in fake.requests)
    assert "7 dashboards pushed" in result.output


def test_a_second_push_keeps_the_folder_and_overwrites_the_dashboards(
    grafana: tuple[FakeGrafana, str],
) -> None:
    fake, url = grafana
    assert push(url).exit_code == 0
    fake.requests.clear()
    result = push(url)
    assert result.exit_code == 0, result.output
    calls = [(m, p.removeprefix(fake.prefix)) for m, p, _, _ in fake.requests]
    assert ("POST", "/api/folders") not in calls
    assert calls.count(("POST", "/api/dashboards/db")) == 7


def test_a_refused_token_exits_with_grafanas_reason(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    fake.refuse_with = 401
    result = push(url)
    assert result.exit_code == 1
    assert "Grafana refused: 401" in result.output
    assert not fake.dashboards

"""The vigie command line: help everywhere, registry import/export, config, and the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import httpx
import pytest
import typer.main
from typer.testing import CliRunner

from tests.services import free_port
from vigie.cli import SAMPLE_REGISTRY, app

ROOT = Path(__file__).parents[2]
runner = CliRunner()


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))  # type: ignore[arg-type]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "vigie")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_the_documented_example_configuration_matches_the_settings_models() -> None:
    result = runner.invoke(app, ["config", "example"])
    committed = (ROOT / "docs" / "vigie.example.toml").read_text(encoding="utf-8")
    assert result.output == committed, "regenerate: vigie config example > docs/vigie.example.toml"


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "vigie.toml"
    config.write_text('[store.influxdb]\npassword = "s3cret-pw"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert "**********" in result.output


def test_registry_import_then_export_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    first = runner.invoke(app, ["registry", "import", str(SAMPLE_REGISTRY)])
    assert first.exit_code == 0, first.output
    assert "inserted" in first.output
    exported = tmp_path / "export.yaml"
    assert runner.invoke(app, ["registry", "export", str(exported)]).exit_code == 0
    again = runner.invoke(app, ["registry", "import", str(exported)])
    assert again.exit_code == 0, again.output
    assert "0 inserted, 0 updated" in again.output


def test_registry_import_reports_every_bad_line_and_imports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    tenants = tmp_path / "tenants.csv"
    tenants.write_text(
        "code,name,kind\ncaudry,Caudry,commune\nbad,Bad,village\nok,OK,commune\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["registry", "import", str(tenants)])
    assert result.exit_code == 1
    assert ":3" in result.output and "village" in result.output
    assert "nothing imported" in result.output
    listing = runner.invoke(app, ["registry", "export", str(tmp_path / "after.yaml")])
    assert listing.exit_code == 0
    assert "caudry" not in (tmp_path / "after.yaml").read_text(encoding="utf-8")


def test_demo_runs_the_whole_chain_until_interrupted(tmp_path: Path) -> None:
    """The README's first command, as a user runs it: a real process, an embedded broker, the
    simulated territory published on it, ingested, and served by the API."""
    port, broker_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigie",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--broker-port",
            str(broker_port),
            "--history-days",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    printed: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # the demo prints its key before it serves
            printed.append(line)
            if "API key:" in line:
                break
        key = printed[-1].split("API key:", 1)[1].split()[0]
        auth = {"Authorization": f"Bearer {key}"}
        _wait(lambda: _get(f"{base}/health") is not None, demo, 90)
        assert httpx.get(f"{base}/api/v1/devices", timeout=5).status_code == 401
        devices = httpx.get(
            f"{base}/api/v1/devices", params={"limit": 1000}, headers=auth, timeout=5
        ).json()
        assert devices["total"] > 600, "the simulated territory's registry is loaded"
        climate = next(d["dev_eui"] for d in devices["items"] if d["role"] == "climate")
        # The day of history goes through the pipeline: the device soon has readings.
        _wait(
            lambda: (_get(f"{base}/api/v1/devices/{climate}", auth) or {}).get("latest"), demo, 120
        )
        # Then live frames flow broker → ingest worker → store: it makes a batch durable.
        _wait(lambda: _ingest_fact(base, "last_durable_batch_age_s") is not None, demo, 120)
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    output = "".join(printed) + output
    assert demo.returncode == 0, output
    assert f"{base}/docs" in output


def _ingest_fact(base: str, fact: str) -> object:
    response = httpx.get(f"{base}/health", timeout=5)
    return response.json()["parts"]["ingest"]["facts"].get(fact)


def _get(url: str, headers: dict[str, str] | None = None) -> dict[str, object] | None:
    try:
        response = httpx.get(url, headers=headers, timeout=5)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


def _wait(
    condition: Callable[[], object], process: subprocess.Popen[str], timeout_s: float
) -> None:
    """Poll a real process's progress, bounded; fail with its output if it died or stalled."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"demo did not get there:\n{out[-3000:]}")
        time.sleep(0.5)

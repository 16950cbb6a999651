"""`vigie ingest inspect` explains one payload; `vigie deadletters` lists and replays refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.services import Services
from core.clock import ManualClock
from core.config import Settings, StoreSettings
from core.state.dead_letter_store import DeadLetterStore
from core.state.dead_letters import LetterStatus
from core.state.registry_io import import_registry
from core.timeseries import Selection
from ingest.pipeline import Message
from simulator.envelopes import Frame, chirpstack_up_json, chirpstack_up_protobuf, tts_up
from vigie.cli import app
from vigie.replay import replay, replay_spool_path
from vigie.wiring import build_pipeline, build_services

runner = CliRunner()
EUI = "a840414b61866d2c"
LHT65 = bytes.fromhex("cbf60b0d0376010add7fff")
T = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
REGISTRY = f"""
tenants:
  - {{code: caudry, name: Caudry, kind: commune, insee: "59139"}}
devices:
  - {{dev_eui: "{EUI}", tenant: caudry, codec_id: dragino/lht65, role: climate}}
"""


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "series.sqlite"))
    monkeypatch.setenv("VIGIE_INGEST__SPOOL_PATH", str(tmp_path / "spool.sqlite"))
    return tmp_path


def _inspect(tmp_path: Path, payload: bytes, *args: str) -> dict[str, object]:
    file = tmp_path / "frame.bin"
    file.write_bytes(payload)
    result = runner.invoke(app, ["ingest", "inspect", str(file), *args])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("build", [chirpstack_up_json, chirpstack_up_protobuf, tts_up])
def test_inspect_decodes_a_registered_device(state_env: Path, build) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(app, ["registry", "import", str(_registry(state_env))])
    topic, payload = build(Frame(EUI, 77, 2, LHT65, T))
    report = _inspect(state_env, payload, "--topic", topic)
    assert (report["device"], report["f_cnt"], report["f_port"], report["dead_letter"]) == (
        EUI,
        77,
        2,
        None,
    )
    readings = report["readings"]
    assert {
        "quantity": "temperature_c",
        "value": 28.29,
        "channel": None,
        "time": T.isoformat().replace("+00:00", "Z"),
    } in readings  # type: ignore[operator]


def test_inspect_finds_the_topic_itself_and_names_an_unknown_device(state_env: Path) -> None:
    _, payload = chirpstack_up_json(Frame(EUI, 1, 2, LHT65, T))
    report = _inspect(state_env, payload)
    assert report["dead_letter"] == "unknown_device"
    forced = _inspect(state_env, payload, "--codec", "dragino/lht65")
    assert forced["dead_letter"] is None and len(forced["readings"]) == 8  # type: ignore[arg-type]


@pytest.mark.parametrize("build", [chirpstack_up_json, chirpstack_up_protobuf, tts_up])
def test_inspect_shows_what_the_envelope_says_of_an_unknown_device(state_env: Path, build) -> None:  # type: ignore[no-untyped-def]
    _, payload = build(Frame(EUI, 42, 5, LHT65, T, spreading_factor=9))
    report = _inspect(state_env, payload)
    assert report["dead_letter"] == "unknown_device"
    assert (report["device"], report["f_cnt"], report["f_port"], report["time"]) == (
        EUI,
        42,
        5,
        T.isoformat().replace("+00:00", "Z"),
    )
    assert report["payload_hex"] == LHT65.hex()
    assert report["radio"] == {
        "rssi_dbm": -85.0,
        "snr_db": 7.5,
        "gateway_count": 1,
        "spreading_factor": 9,
    }


def test_inspect_shows_the_values_a_codec_keeps_aside(state_env: Path) -> None:
    _, payload = chirpstack_up_json(Frame(EUI, 3, 5, bytes.fromhex("0B015001FF0BB8"), T))
    report = _inspect(state_env, payload, "--codec", "dragino/lht65")
    assert report["dead_letter"] is None
    [warning] = report["warnings"]  # type: ignore[misc]
    assert "kept, not stored" in warning and "1.5.0" in warning


def test_inspect_names_a_broken_payload(state_env: Path) -> None:
    assert _inspect(state_env, b'{"deviceInfo": ')["dead_letter"] == "bad_json"


def _registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def _replay(settings: Settings, services: Services) -> tuple[int, int]:
    """Replay as ``vigie deadletters replay`` does, beside a worker that holds its spool."""
    pipeline = build_pipeline(settings, services, spool_path=replay_spool_path(settings.ingest))
    try:
        return replay(pipeline, services, "unknown_device", 100)
    finally:
        pipeline.close()


def test_quarantined_frames_replay_once_the_device_is_registered(state_env: Path) -> None:
    settings = Settings(store=StoreSettings(sqlite_path=state_env / "series.sqlite"))
    services = build_services(settings)
    services.clock = ManualClock(T + timedelta(minutes=5))
    pipeline = build_pipeline(settings, services)
    pipeline.handle(
        [
            Message(*chirpstack_up_json(Frame(EUI, k, 2, LHT65, T + timedelta(seconds=k))))
            for k in range(3)
        ]
    )
    listing = runner.invoke(app, ["deadletters", "list"])
    assert "unknown_device" in listing.output and listing.output.count("#") == 3
    assert _replay(settings, services) == (0, 3)
    import_registry(services.state, _registry(state_env))
    # The command, while the worker's pipeline still holds its spool.
    replayed = runner.invoke(app, ["deadletters", "replay", "--reason", "unknown_device"])
    assert replayed.exit_code == 0, replayed.output
    assert "3 replayed, 0 still refused" in replayed.output
    letters = DeadLetterStore(services.state)
    assert letters.list(status=LetterStatus.OPEN) == []
    assert len(letters.list(status=LetterStatus.REPLAYED)) == 3
    stored = services.store.read(
        Selection.of("humidity_pct", devices=[EUI]), T - timedelta(hours=1), T + timedelta(hours=1)
    )
    assert len(stored.times) == 3

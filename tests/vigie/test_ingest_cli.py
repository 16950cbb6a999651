"""`vigie ingest inspect` explains one payload; `vigie deadletters` lists and replays refusals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.services import Services
from core.clock import ManualClock
from core.config import Settings, StoreSettings
from core.reading import Reading
from core.state.dead_letter_store import DeadLetterStore
from core.state.dead_letters import LetterStatus
from core.state.registry_io import import_registry
from core.stores.influx import InfluxStore
from core.timeseries import Selection
from ingest.pipeline import Message
from ingest.spool import Spool
from simulator.envelopes import Frame, chirpstack_up_json, chirpstack_up_protobuf, tts_up
from tests.services import ExternalService, InfluxServer
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


def _replay(
    settings: Settings, services: Services, reason: str = "unknown_device"
) -> tuple[int, int]:
    """Replay as ``vigie deadletters replay`` does, beside a worker that holds its spool."""
    pipeline = build_pipeline(settings, services, spool_path=replay_spool_path(settings.ingest))
    try:
        return replay(pipeline, services, reason, 100)
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


@dataclass
class Influx:
    """A fresh database on the session's InfluxDB, and a way to act on it as an admin would."""

    url: str
    database: str
    store: InfluxStore

    def query(self, statement: str) -> None:
        response = httpx.post(
            f"{self.url}/query", params={"db": self.database}, data={"q": statement}
        )
        assert response.status_code == 200 and "error" not in response.text, response.text

    def conflicting_type(self) -> None:
        """An integer temperature_c in the climate measurement's shard at T: InfluxDB then
        refuses our floats there (a field type conflict), as after another writer's mistake."""
        response = httpx.post(
            f"{self.url}/write",
            params={"db": self.database, "precision": "s"},
            content=f"climate,device=0000000000000000 temperature_c=5i {int(T.timestamp())}",
        )
        assert response.status_code == 204

    def temperatures(self) -> list[float]:
        return self.values("temperature_c")

    def values(self, quantity: str) -> list[float]:
        got = self.store.read(Selection.of(quantity, devices=[EUI]), T, T + timedelta(hours=1))
        return sorted(r.value for r in got.readings())


@pytest.fixture
def influx(influx_server: InfluxServer | ExternalService) -> Iterator[Influx]:
    database = f"vigie_test_{uuid.uuid4().hex[:12]}"
    store = InfluxStore(influx_server.url, database, timeout_s=1.0)
    store.create_database()
    yield Influx(influx_server.url, database, store)
    store.drop_database()
    store.close()


def _services(state_env: Path, influx: Influx) -> Services:
    services = build_services(Settings())
    services.store = influx.store
    services.clock = ManualClock(T + timedelta(minutes=5))
    import_registry(services.state, _registry(state_env))
    return services


def test_each_refused_frame_has_its_letter_and_replay_runs_exactly_that_frame(
    state_env: Path, influx: Influx
) -> None:
    """Two frames of one device refused for the same series: two letters, each with its own
    frame; after the fix, replay stores both (one letter per topic and series ran only one)."""
    services = _services(state_env, influx)
    influx.conflicting_type()
    pipeline = build_pipeline(Settings(), services)
    warm, cold = bytes.fromhex("cbf60b0d0376010add7fff"), bytes.fromhex("cbf6fe0c0376010add7fff")
    frames = [
        chirpstack_up_json(Frame(EUI, k, 2, payload, T + timedelta(seconds=k)))
        for k, payload in ((1, warm), (2, cold))
    ]
    outcome = pipeline.handle([Message(*f) for f in frames])
    assert outcome.dead_letters == {"store_rejected": 2}
    letters = DeadLetterStore(services.state).list(reason="store_rejected")
    assert sorted((x.topic, x.payload) for x in letters) == sorted(frames)
    assert all("field type conflict" in x.detail for x in letters)
    assert influx.temperatures() == []
    # Each frame's humidity shares a line with its temperature, and InfluxDB drops a point
    # whole on a conflict: the fields of a refused line went again one by one.
    assert influx.values("humidity_pct") == [88.6, 88.6]

    influx.query("DROP MEASUREMENT climate")  # the fix
    assert _replay(Settings(), services, "store_rejected") == (2, 0)
    assert influx.temperatures() == [-5.0, 27.81, 27.81, 28.29]


def test_refused_spooled_readings_are_kept_in_their_letter_and_replayed(
    state_env: Path, influx: Influx
) -> None:
    """Readings the store refuses when the spool drains have no frame any more: their letter
    carries them, and replay writes exactly those."""
    services = _services(state_env, influx)
    readings = [Reading(T + timedelta(seconds=k), EUI, "temperature_c", 20.0 + k) for k in range(3)]
    outage = Spool(Settings().ingest.spool_path, 100)  # what an outage left in the spool
    outage.put(readings, {EUI: {"tenant": "caudry"}})
    outage.close()
    influx.conflicting_type()
    pipeline = build_pipeline(Settings(), services)
    pipeline.drain()
    assert pipeline.spool_depth == 0
    [letter] = DeadLetterStore(services.state).list(reason="store_rejected")
    assert letter.topic == "" and letter.payload and "field type conflict" in letter.detail

    influx.query("DROP MEASUREMENT climate")
    assert _replay(Settings(), services, "store_rejected") == (1, 0)
    assert influx.temperatures() == [20.0, 21.0, 22.0]

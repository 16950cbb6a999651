"""Replay and ground-truth files: byte-identical for a seed, readable back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from simulator.engine import Engine, EngineConfig, run_physics
from simulator.output import Tally, read_replay, write_replay, write_truth
from tests.simulator.test_engine import START, sample


def replay(path: Path, seed: int) -> Tally:
    t = sample()
    run = run_physics(t, START, 1, seed)
    engine = Engine(t, run.truths, START, 1, seed, EngineConfig(format="mix"))
    tally = Tally()
    write_replay(tally.track(engine), path)
    write_truth(
        path.with_suffix(".truth.json"),
        run={"seed": seed},
        faults=[*run.faults, *engine.faults],
        tally=tally,
    )
    return tally


def test_same_seed_byte_identical_files_other_seed_differs(tmp_path: Path) -> None:
    replay(tmp_path / "a.jsonl", 5)
    replay(tmp_path / "b.jsonl", 5)
    replay(tmp_path / "c.jsonl", 6)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.truth.json").read_bytes() == (tmp_path / "b.truth.json").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()


def test_the_replay_file_reads_back_in_publish_order(tmp_path: Path) -> None:
    tally = replay(tmp_path / "a.jsonl", 5)
    messages = list(read_replay(tmp_path / "a.jsonl"))
    assert len(messages) == tally.summary()["published"]
    assert [m[0] for m in messages] == sorted(m[0] for m in messages)
    assert messages[0][0] >= START and messages[-1][0] < START + timedelta(days=1, minutes=10)
    assert any(not payload.startswith(b"{") for _, _, payload in messages)  # protobuf
    truth = json.loads((tmp_path / "a.truth.json").read_text())
    assert {f["kind"] for f in truth["faults"]} >= {"unknown_device", "stuck_sensor"}
    assert truth["expected"]["dead_letters"]["unknown_device"] > 0

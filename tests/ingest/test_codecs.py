"""Every codec against its examples file, and decode(encode(x)) == x within the codec's resolution.

Adding a device model adds a module and an examples file; this test picks both up.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.codecs import registry
from ingest.codecs.base import Codec, split_key

EXAMPLES = Path(registry.__file__).parent / "examples"
DEVICE = "0011223344556677"
RECEIVED = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)


def _examples() -> list[Any]:
    cases = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, example in enumerate(doc["examples"]):
            cases.append(pytest.param(doc["codec"], example, id=f"{path.stem}[{i}]"))
    return cases


def _time(example: dict[str, Any], reading: dict[str, Any]) -> datetime:
    when = reading.get("time")
    if when is None:
        return datetime.fromisoformat(example.get("received_at", RECEIVED.isoformat()))
    return datetime.fromisoformat(str(when).replace("Z", "+00:00"))


@pytest.mark.parametrize(("codec_id", "example"), _examples())
def test_example(codec_id: str, example: dict[str, Any]) -> None:
    received = datetime.fromisoformat(example.get("received_at", RECEIVED.isoformat()))
    payload = bytes.fromhex(example["bytes"].replace(" ", ""))
    params = example.get("params")  # registry parameters, e.g. history_period_s
    result = registry.decode(codec_id, example["f_port"], payload, received, DEVICE, params)
    got = [(r.quantity, r.channel, r.time, r.value) for r in result.readings]
    want = [
        (r["quantity"], r.get("channel"), _time(example, r), float(r["value"]))
        for r in example.get("readings", [])
    ]
    assert [g[:3] for g in got] == [w[:3] for w in want], result
    for (q, ch, t, value), (_, _, _, expected) in zip(got, want, strict=True):
        assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9), (q, ch, t, value)
    assert [e.code.value for e in result.errors] == example.get("errors", []), result.errors
    assert len(result.warnings) == example.get("warnings", 0), result.warnings


@pytest.mark.parametrize("codec_id", sorted(registry.CODECS))
def test_every_codec_has_examples_including_bad_frames(codec_id: str) -> None:
    files = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.yaml"))]
    examples = [e for doc in files if doc["codec"] == codec_id for e in doc["examples"]]
    assert any(e.get("readings") for e in examples), "no example decodes to readings"
    codes = {code for e in examples for code in e.get("errors", [])}
    assert {"wrong_fport", "truncated"} <= codes, f"bad-frame examples missing: {codes}"


def _values(codec: Codec) -> st.SearchStrategy[dict[str, float]]:
    def quantised(f: Any) -> st.SearchStrategy[float]:
        steps = round((f.maximum - f.minimum) / f.resolution)
        return st.integers(0, steps).map(lambda k: f.minimum + k * f.resolution)

    return st.fixed_dictionaries({f.key: quantised(f) for f in codec.fields})


@pytest.mark.parametrize("codec_id", sorted(registry.CODECS))
def test_decode_inverts_encode(codec_id: str) -> None:
    codec = registry.codec(codec_id)

    @settings(max_examples=200, deadline=None)
    @given(_values(codec))
    def round_trip(values: dict[str, float]) -> None:
        f_port, payload = codec.encode(values, RECEIVED)
        result = registry.decode(codec_id, f_port, payload, RECEIVED, DEVICE)
        assert not result.errors, result.errors
        got = {
            (r.quantity if r.channel is None else f"{r.quantity}:{r.channel}"): r.value
            for r in result.readings
            if r.time == RECEIVED
        }
        for f in codec.fields:
            assert split_key(f.key)[0]  # every key names a quantity
            assert f.key in got, f"{f.key} missing after round trip"
            assert abs(got[f.key] - values[f.key]) <= f.resolution / 2 + 1e-9, f.key

    round_trip()

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
from ingest.codecs.base import ANY_PORT, Codec, CodecErrorCode, Emitter, split_key

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


def test_kept_values_share_one_warning_naming_each_channel() -> None:
    out = Emitter(DEVICE, RECEIVED)
    out.keep("pir", 1, "0 idle, 1 trigger")
    out.warn("low battery")
    out.keep("tvoc", 0.37, "IAQ index")
    assert out.result.warnings == [
        "kept, not stored: pir 1 (0 idle, 1 trigger); tvoc 0.37 (IAQ index)",
        "low battery",
    ]


def test_an_unknown_channel_names_its_byte_and_the_readings_kept() -> None:
    out = Emitter(DEVICE, RECEIVED)
    out.add("co2_ppm", 800)
    out.unknown("channel 0x0f type 0x7d", 4)
    (error,) = out.result.errors
    assert error.code is CodecErrorCode.BAD_PAYLOAD
    assert error.message == (
        "unknown channel 0x0f type 0x7d at byte 4: decoding stopped, 1 reading(s) before kept"
    )
    assert [r.quantity for r in out.result.readings] == ["co2_ppm"]


@pytest.mark.parametrize(("f_port", "accepted"), [(0, False), (1, True), (223, True), (224, False)])
def test_any_port_means_the_application_ports(f_port: int, accepted: bool) -> None:
    out = Emitter(DEVICE, RECEIVED)
    assert out.any_port(f_port) is accepted
    assert [e.code for e in out.result.errors] == ([] if accepted else [CodecErrorCode.WRONG_FPORT])


PORT_FREE = sorted(c.id for c in registry.CODECS.values() if c.ports == ANY_PORT)


def test_the_formats_that_ignore_the_port_are_the_documented_ones() -> None:
    vendors = {codec_id.split("/")[0] for codec_id in PORT_FREE}
    assert vendors == {"adeunis", "cayenne", "decentlab", "elsys", "milesight-iot"}


@pytest.mark.parametrize("codec_id", PORT_FREE)
def test_a_codec_that_ignores_the_port_decodes_every_application_port_alike(codec_id: str) -> None:
    """Vendors make the port configurable where their format does not depend on it: such a codec
    declares ``ANY_PORT`` and decodes its encoder's frame the same on any application port."""
    codec = registry.codec(codec_id)
    values = {f.key: f.minimum for f in codec.fields}
    f_port, payload = codec.encode(values, RECEIVED)
    expected = registry.decode(codec_id, f_port, payload, RECEIVED, DEVICE)
    for other in (1, 2, 85, 100, 223):
        assert registry.decode(codec_id, other, payload, RECEIVED, DEVICE) == expected, other


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

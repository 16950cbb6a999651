"""Line protocol: the builder's cached prefixes and shared times give what a plain build gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.quantities import QUANTITIES
from core.reading import Reading
from core.series import NS
from core.stores.line_protocol import LineBuilder, LineError, escape

T0 = datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC)
DEVICES = ["00000000000000a1", "00000000000000b2"]
QUANTITY_NAMES = ["temperature_c", "humidity_pct", "volume_m3", "energy_kwh"]
TAG_VALUES = st.sampled_from(["", "commune a", "b=c", "d,e", "école", "bad\nline", "end\\"])


def plain_line(r: Reading, tags: dict[str, str] | None) -> str:
    """One reading's line, built from scratch with nothing cached."""
    pairs = {k: v for k, v in (tags or {}).items() if v} | {"device": r.device}
    if r.channel is not None:
        pairs["channel"] = r.channel
    body = ",".join(f"{escape(k)}={escape(v)}" for k, v in sorted(pairs.items()))
    ns = int((r.time - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * NS
    return f"{QUANTITIES[r.quantity].domain.value},{body} {r.quantity}={r.value!r} {ns}"


frames = st.lists(
    st.tuples(
        st.sampled_from(DEVICES),
        st.integers(0, 3),  # seconds after T0: a frame's readings share one time object
        st.lists(st.tuples(st.sampled_from(QUANTITY_NAMES), st.sampled_from([None, "ext"]))),
    ),
    max_size=8,
)
registries = st.lists(
    st.dictionaries(st.sampled_from(DEVICES), st.dictionaries(st.sampled_from("st"), TAG_VALUES)),
    min_size=1,
    max_size=3,
)


@given(frames, registries)
def test_batches_build_as_plain_lines_while_the_registry_changes(
    frame_specs: list[tuple[str, int, list[tuple[str, str | None]]]],
    registry_versions: list[dict[str, dict[str, str]]],
) -> None:
    builder = LineBuilder()
    for tags in registry_versions:  # the same frames again under each version of the registry
        readings = []
        for device, second, quantities in frame_specs:
            t = T0 + timedelta(seconds=second)
            readings += [Reading(t, device, q, 1.5, ch) for q, ch in quantities]
        lines, owners, refused, hours = builder.build(readings, tags)
        want, want_refused = [], []
        for r in readings:
            try:
                want.append(plain_line(r, tags.get(r.device)))
            except LineError:
                want_refused.append(r)
        assert lines == want
        assert [r for r, _ in refused] == want_refused
        assert hours == {(r.quantity, _hour_ns(r.time)) for r in owners}
        assert len(owners) == len(lines)


def _hour_ns(t: datetime) -> int:
    return int(t.replace(minute=0, second=0).timestamp()) * NS


def test_hours_are_the_hours_each_quantity_was_written_in() -> None:
    a = Reading(T0, DEVICES[0], "temperature_c", 20.0)  # 00:59:59
    b = Reading(T0 + timedelta(seconds=1), DEVICES[0], "temperature_c", 20.5)  # 01:00:00
    c = Reading(T0 + timedelta(seconds=1), DEVICES[1], "volume_m3", 3.0)
    hours = LineBuilder().build([a, b, c], {}).hours
    midnight = int(datetime(2026, 10, 25, tzinfo=UTC).timestamp()) * NS
    assert hours == {
        ("temperature_c", midnight),
        ("temperature_c", midnight + 3600 * NS),
        ("volume_m3", midnight + 3600 * NS),
    }


def test_an_unwritable_tag_refuses_that_devices_readings_only() -> None:
    ok = Reading(T0, DEVICES[0], "temperature_c", 20.0)
    bad = Reading(T0, DEVICES[1], "temperature_c", 20.0)
    built = LineBuilder().build([bad, ok], {DEVICES[1]: {"site": "a\nb"}})
    assert built.owners == [ok]
    assert [r for r, _ in built.refused] == [bad]
    assert "newline" in built.refused[0][1]
    assert built.hours == {("temperature_c", _hour_ns(T0))}

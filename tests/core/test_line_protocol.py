"""Line protocol: the builder's cached prefixes, shared times and grouped fields give what a plain
build gives."""

from __future__ import annotations

import operator
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


def plain_head(r: Reading, tags: dict[str, str] | None) -> str:
    """One reading's measurement and tags, built from scratch with nothing cached."""
    pairs = {k: v for k, v in (tags or {}).items() if v} | {"device": r.device}
    if r.channel is not None:
        pairs["channel"] = r.channel
    body = ",".join(f"{escape(k)}={escape(v)}" for k, v in sorted(pairs.items()))
    return f"{QUANTITIES[r.quantity].domain.value},{body}"


def plain_ns(r: Reading) -> int:
    return int((r.time - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * NS


def plain_line(r: Reading, tags: dict[str, str] | None) -> str:
    """One reading's line."""
    return f"{plain_head(r, tags)} {r.quantity}={r.value!r} {plain_ns(r)}"


def plain_grouped(
    frames: list[list[Reading]], tags: dict[str, dict[str, str]]
) -> tuple[list[str], list[Reading]]:
    """Within a frame, consecutive readings of one series as the fields of one line; a quantity
    already in the line starts a new one. Also the refused readings."""
    lines, refused = [], []
    for frame in frames:
        runs: list[tuple[str, list[Reading]]] = []
        for r in frame:
            try:
                head = plain_head(r, tags.get(r.device))
            except LineError:
                refused.append(r)
                continue
            if runs and runs[-1][0] == head and r.quantity not in {x.quantity for x in runs[-1][1]}:
                runs[-1][1].append(r)
            else:
                runs.append((head, [r]))
        for head, run in runs:
            fields = ",".join(f"{x.quantity}={x.value!r}" for x in run)
            lines.append(f"{head} {fields} {plain_ns(run[0])}")
    return lines, refused


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
        frames = []
        for device, second, quantities in frame_specs:
            t = T0 + timedelta(seconds=second)
            frames.append(
                [Reading(t, device, q, 1.5 + k, ch) for k, (q, ch) in enumerate(quantities)]
            )
        readings = [r for frame in frames for r in frame]
        built = builder.build(readings, tags)
        want, want_refused = plain_grouped(frames, tags)
        assert built.lines == want
        assert [r for r, _ in built.refused] == want_refused
        written = [r for r in readings if not any(r is x for x in want_refused)]
        assert built.owners == written and all(map(operator.is_, built.owners, written))
        assert built.hours == {(r.quantity, _hour_ns(r.time)) for r in written}
        for line, (start, end) in zip(built.lines, built.spans(), strict=True):
            fields = line.rsplit(" ", 2)[1]  # tags may hold escaped spaces; fields and time not
            assert fields == ",".join(f"{r.quantity}={r.value!r}" for r in written[start:end])

        singles = builder.build(readings, tags, group=False)
        assert singles.lines == [plain_line(r, tags.get(r.device)) for r in written]
        assert singles.counts == [1] * len(written)


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

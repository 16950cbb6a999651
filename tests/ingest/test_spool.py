"""The outage spool belongs to one process: a second opener is refused, a dead one frees it."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.reading import Reading
from ingest.spool import Spool, SpoolLocked

T = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
EUI = "a840414b61866d2c"


def readings(n: int) -> list[Reading]:
    return [Reading(T.replace(second=k), EUI, "temperature_c", 20.0 + k) for k in range(n)]


def test_a_second_opener_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    first = Spool(tmp_path / "spool.sqlite", max_readings=100)
    with pytest.raises(SpoolLocked, match=r"in use by pid \d+.*its own \[ingest\] spool_path"):
        Spool(tmp_path / "spool.sqlite", max_readings=100)
    first.close()
    Spool(tmp_path / "spool.sqlite", max_readings=100).close()  # free once closed


def test_the_depth_is_read_from_the_file_when_it_opens(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite", max_readings=100)
    spool.put(readings(7), {})
    spool.put(readings(3), {})
    spool.close()
    again = Spool(tmp_path / "spool.sqlite", max_readings=100)
    assert (again.depth, again.batches) == (10, 2)
    head = again.head()
    assert head is not None and len(head.readings) == 7
    again.close()


def test_a_killed_holder_leaves_the_spool_free(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from ingest.spool import Spool\n"
            f"spool = Spool({str(path)!r}, 100)\n"
            "print('open', flush=True)\n"
            "time.sleep(60)\n",
        ],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(SpoolLocked, match=f"pid {holder.pid}"):
            Spool(path, 100)
    finally:
        holder.kill()
        holder.wait(10)
    deadline = time.monotonic() + 5
    while True:  # the kernel releases the lock with the process
        try:
            Spool(path, 100).close()
            break
        except SpoolLocked:
            assert time.monotonic() < deadline, "the lock outlived its process"
            time.sleep(0.05)

"""No production entry point imports the evaluation harnesses (they may pull heavy or optional
dependencies, and a running service has no use for them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# What `vigie run`, `vigie ingest`, `vigie analytics run` and the API load at start.
ENTRY_POINTS = ["vigie.cli", "vigie.wiring", "api.main", "analytics.watch.detectors"]


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_point_does_not_import_evaluation(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print(sorted(m for m in sys.modules if m.startswith('analytics.evaluation')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", f"{module} imports {out}"

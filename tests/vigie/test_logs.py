"""Process logging: records go to the stderr of the moment, not to one swapped out since."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from vigie import logs


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_logging_configured_under_a_swapped_stderr_follows_it_back(
    restore_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = io.StringIO()
    monkeypatch.setattr(sys, "stderr", temporary)
    logs.configure(json_lines=False)  # as `vigie … ` run in-process by a test runner
    logging.getLogger("vigie.test").info("during")
    temporary.close()
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("vigie.test").info("after")
    assert "after" in later.getvalue()
    assert "Logging error" not in later.getvalue()

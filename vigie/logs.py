"""Logging for every process: plain lines for people, one JSON object per line for machines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per record; extra fields passed with ``extra=`` become keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record is emitted, not as it was when logging was
    configured: a caller that swaps stderr (a test runner invoking the CLI in-process) must not
    leave the root logger writing to a closed stream, whose every record then costs a traceback
    on every thread — enough to starve an in-process broker."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # StreamHandler.__init__ assigns it; the property always answers sys.stderr


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = StderrHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Migrations run at every start; their step-by-step INFO lines are noise for operators.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request at INFO: a line per store write and per health check.
    logging.getLogger("httpx").setLevel(logging.WARNING)

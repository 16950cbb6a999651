"""The process's worker threads: started together, stopped together, and never dead unseen.

A worker that ends with an exception (``Fatal`` for a failure retrying cannot fix, anything else
for a bug) stops the whole process: the other workers are asked to stop, the API server to shut
down, one line says which part failed and why, and the process exits non-zero so that a service
manager restarts it and an operator reads the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.health import Fatal

log = logging.getLogger("vigie")

Worker = Callable[[threading.Event], None]
EXIT_FAILED = 1


@dataclass(frozen=True, slots=True)
class Failure:
    part: str
    error: BaseException

    def __str__(self) -> str:
        what = str(self.error) if isinstance(self.error, Fatal) else repr(self.error)
        return f"{self.part} failed, Vigie stops: {what}"


class Supervisor:
    """Runs workers in threads sharing one stop event; remembers the first that failed."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.failure: Failure | None = None
        self._threads: list[threading.Thread] = []
        self._on_failure: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def on_failure(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the failing thread) when a worker fails, e.g. to stop a server."""
        self._on_failure.append(callback)

    def start(self, name: str, worker: Worker) -> None:
        thread = threading.Thread(target=self._run, args=(name, worker), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, name: str, worker: Worker) -> None:
        try:
            worker(self.stop)
        except BaseException as exc:  # a dead worker must stop the process, whatever killed it
            self.fail(name, exc)

    def fail(self, name: str, error: BaseException) -> None:
        with self._lock:
            first = self.failure is None
            if first:
                self.failure = Failure(name, error)
        if first:
            # One line for the operator; a bug also gets its traceback.
            log.critical("%s", self.failure, exc_info=None if isinstance(error, Fatal) else error)
            self.stop.set()
            for callback in self._on_failure:
                callback()

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Ask every worker to stop and wait for them (each within ``timeout_s``)."""
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, timeout_s)

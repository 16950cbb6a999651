"""The demo's MQTT broker: a private Mosquitto when the machine has one, else amqtt in-process."""

from __future__ import annotations

import asyncio
import getpass
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from amqtt.broker import Broker


class DemoBroker(Protocol):
    host: str
    port: int
    protocol: str  # the MQTT version clients should speak: "5" or "3.1.1"

    def start(self) -> None: ...
    def stop(self) -> None: ...


class MosquittoBroker:
    """A private mosquitto (MQTT 5, persistence in a temp dir) on loopback, for the demo."""

    protocol = "5"

    def __init__(self, binary: str, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host, self.port, self._binary = host, port, binary
        self._dir = Path(tempfile.mkdtemp(prefix="vigie-demo-mosquitto-"))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self._dir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {self.host}\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self._dir}/\nmax_queued_messages 0\n"
            "max_inflight_messages 0\nlog_dest none\n"
            # As whoever runs the demo: its temp dir is theirs, and a change of user (root's
            # default is "mosquitto") would clear the parent-death signal below.
            f"user {getpass.getuser()}\n",
            encoding="utf-8",
        )
        # Its own session: a Ctrl+C in the terminal reaches the demo, which stops it in order.
        # A demo killed outright (SIGKILL, a closed terminal) takes it along: the kernel sends
        # it SIGTERM when its parent dies (setpriv --pdeathsig, util-linux, where there is one).
        command = [self._binary, "-c", str(config)]
        setpriv = shutil.which("setpriv")
        if setpriv and sys.platform == "linux":
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        self._process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex((self.host, self.port)) == 0:
                    return
            time.sleep(0.05)
        raise OSError(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


class EmbeddedBroker:
    """amqtt on its own event-loop thread (MQTT 3.1.1); anonymous, loopback, sessions in memory.

    amqtt drops a QoS 1 delivery whose PUBACK takes more than 5 s: the demo paces its publisher.
    """

    protocol = "3.1.1"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mqtt-broker", daemon=True
        )
        self._broker: Any = None
        # amqtt warns about plugins the demo does not configure (password file, $SYS): noise.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)

    def start(self) -> None:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }
        self._thread.start()
        self._broker = self._call(self._make(config))
        self._call(self._broker.start())

    async def _make(self, config: dict[str, Any]) -> Any:
        return Broker(config)  # built inside the loop, which it binds to

    def stop(self) -> None:
        if self._broker is not None:
            self._call(self._broker.shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=30)


def demo_broker(host: str, port: int) -> DemoBroker:
    """Mosquitto if installed (a real MQTT 5 broker), else the in-process one."""
    binary = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )
    return MosquittoBroker(binary, host, port) if binary else EmbeddedBroker(host, port)

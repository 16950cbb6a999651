"""An MQTT broker inside the process (amqtt, MQTT 3.1.1), so the demo needs nothing installed."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from amqtt.broker import Broker


class EmbeddedBroker:
    """amqtt on its own event-loop thread; anonymous, loopback only, sessions in memory."""

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

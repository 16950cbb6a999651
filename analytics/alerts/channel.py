"""The one interface every notification channel (email, webhook, MQTT) implements."""

from __future__ import annotations

from typing import Protocol

from analytics.alerts.model import Notice


class NotifyError(Exception):
    """A notice could not be delivered (the channel says why); the dispatcher retries later."""


class Notifier(Protocol):
    """Delivers notices on one channel. ``destination`` is what a route names for this channel:
    an e-mail address, a webhook URL or an MQTT topic."""

    @property
    def channel(self) -> str:  # "email", "webhook" or "mqtt"
        ...

    def send(self, notice: Notice, destination: str) -> None:
        """Deliver or raise :class:`NotifyError`; never return having silently dropped it."""
        ...

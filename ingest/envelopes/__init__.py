"""Network-server envelopes: parse an MQTT message (topic + payload) into an event."""

from __future__ import annotations

from ingest.envelopes import chirpstack, tts
from ingest.events import EnvelopeError, Event


def parse(topic: str, payload: bytes) -> Event:
    """The event a message carries; raises EnvelopeError with a dead-letter reason code."""
    if tts.is_tts_topic(topic):
        return tts.parse(topic, payload)
    return chirpstack.parse(topic, payload)


__all__ = ["EnvelopeError", "Event", "parse"]

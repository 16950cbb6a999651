"""What a network server tells us, normalised: uplinks, device status, joins and NS log events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    CHIRPSTACK = "chirpstack"
    TTS = "tts"


@dataclass(frozen=True, slots=True)
class Radio:
    """Reception of one uplink: the best gateway's RSSI/SNR, how many gateways heard it, SF."""

    rssi_dbm: float | None = None
    snr_db: float | None = None
    gateway_count: int = 0
    spreading_factor: int | None = None


@dataclass(frozen=True, slots=True)
class Uplink:
    """One application uplink, whatever network server sent it."""

    source: Source
    device: str  # DevEUI, lower-case hex
    time: datetime  # the network server's event time, UTC
    f_port: int | None
    f_cnt: int | None
    payload: bytes
    dedup_id: str | None = None
    decoded: dict[str, Any] | None = (
        None  # the NS's own decoding (ChirpStack object, TTS decoded_payload)
    )
    profile: str | None = None  # device-profile name (ChirpStack) or application id (TTS)
    radio: Radio = field(default_factory=Radio)

    @property
    def dedup_key(self) -> str:
        """ChirpStack's deduplicationId, else DevEUI + fCnt + time; prefixed with the event kind
        (see ``Status.dedup_key``)."""
        if self.dedup_id:
            return f"up:{self.dedup_id}"
        return f"up:{self.device}:{self.f_cnt}:{self.time.isoformat()}"


# The channel of readings from a network server's device-status event (DevStatusAns).
STATUS_CHANNEL = "devstatus"


@dataclass(frozen=True, slots=True)
class Status:
    """DevStatusAns relayed by the NS: battery level and link margin."""

    device: str
    time: datetime
    battery_pct: float | None
    margin_db: float | None
    external_power: bool = False
    dedup_id: str | None = None

    @property
    def dedup_key(self) -> str:
        # ChirpStack gives a status event the deduplicationId of the uplink that carried the
        # DevStatusAns, and publishes it first: a bare id would make that uplink a duplicate.
        return f"status:{self.dedup_id or f'{self.device}:{self.time.isoformat()}'}"


@dataclass(frozen=True, slots=True)
class Join:
    device: str
    time: datetime
    dedup_id: str | None = None

    @property
    def dedup_key(self) -> str:
        return f"join:{self.dedup_id or f'{self.device}:{self.time.isoformat()}'}"


@dataclass(frozen=True, slots=True)
class NsLog:
    """A network-server log event; UPLINK_CODEC means the NS failed to decode a payload."""

    device: str
    time: datetime
    level: str
    code: str
    description: str
    context: dict[str, str] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return f"log:{self.device}:{self.code}:{self.time.isoformat()}"


class Ignored(StrEnum):
    """Events we receive but do not store (acks, tx acks, locations): acknowledged and counted."""

    ACK = "ack"
    TXACK = "txack"
    LOCATION = "location"
    INTEGRATION = "integration"
    OTHER = "other"


Event = Uplink | Status | Join | NsLog | Ignored


class EnvelopeError(ValueError):
    """A message that is not a valid event; ``reason`` is the dead-letter reason code."""

    def __init__(self, reason: str, message: str, device: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.device = device

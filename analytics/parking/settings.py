"""What the parking analytics need to know: heartbeat periods, anti-flap hold, status thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from core.config import DEFAULT_ZONE

# The vendors' default heartbeat by codec (as the simulator's territories use them): a space is
# heard from at least this often even when nothing parks on it. A device's registry parameter
# ``heartbeat_s`` overrides it.
HEARTBEAT_S: Mapping[str, int] = MappingProxyType(
    {
        "nwave/nps405": 86_400,
        "nwave/nps310sm": 86_400,
        "bosch/tps110": 3_600,
    }
)


@dataclass(frozen=True, slots=True)
class ParkingSettings:
    """Parameters of space states and area statuses (defaults fit the supported sensors)."""

    heartbeat_s: Mapping[str, int] = field(default_factory=lambda: HEARTBEAT_S)
    default_heartbeat_s: int = 86_400  # a codec we know no heartbeat for
    # Silent beyond grace × heartbeat → unknown. 1.5 absorbs the reporting jitter and a late
    # frame; one lost heartbeat blanks a space for half a period, which we prefer to showing a
    # state nobody has confirmed for two periods.
    grace: float = 1.5
    # A reported change is shown once it has held this long: a car manoeuvring over a sensor,
    # a lorry passing or a car straddling two spaces make free/occupied/free within seconds;
    # shown as is, the count jitters and the last change means nothing. Real stays last
    # minutes at least, so the cost is a minute of delay on a screen refreshed every minute.
    hold_s: float = 60.0
    # Status: full at ``full_free`` free spaces or fewer, almostFull at ``almost_full_share`` of
    # the total or fewer; unknown when more than ``unknown_share_max`` of the spaces are.
    full_free: int = 0
    almost_full_share: float = 0.10
    unknown_share_max: float = 0.5
    # The territory's zone: the local week of the learned limits and forecasts.
    zone: str = DEFAULT_ZONE

    @property
    def hold(self) -> timedelta:
        return timedelta(seconds=self.hold_s)

    def heartbeat(self, codec_id: str | None, parameters: Mapping[str, Any] | None) -> timedelta:
        """The device's heartbeat: its registry parameter, else its model's, else the default."""
        own = (parameters or {}).get("heartbeat_s")
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            return timedelta(seconds=float(own))
        return timedelta(seconds=self.heartbeat_s.get(codec_id or "", self.default_heartbeat_s))

    def silent_after(self, codec_id: str | None, parameters: Mapping[str, Any] | None) -> timedelta:
        """How long a device may stay silent before its space is unknown."""
        return self.heartbeat(codec_id, parameters) * self.grace

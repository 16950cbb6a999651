"""The radio: how each device's uplinks reach the network server, and the broker after it.

Every device gets a stable link from the seed and its DevEUI: a distance to its nearest gateway
(buried parking sensors and meters in pits lose more), hence a mean RSSI and SNR, and the
spreading factor ADR would settle on (SF7 with margin to spare … SF12 at the edge). Each uplink
then draws its receptions (1 to 3 gateways, one ``deduplicationId``; RSSI/SNR with noise), its
loss (more likely at high SF: longer airtime, more collisions), and what the broker does with it
after the network server: a small delivery delay (sometimes a long one, so messages arrive out
of order) and, rarely, a second delivery of the same message (QoS 1 redelivery).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from simulator.envelopes import Reception

# Gateways of the territory (EUI-64 of Kerlink/Multitech-like gateways).
GATEWAYS = ("7076ff0056080a11", "7076ff0056080a12", "0016c001f153a14c", "0016c001f153a14d")

# Loss probability of one uplink by spreading factor (collisions grow with airtime).
LOSS_BY_SF = {7: 0.004, 8: 0.006, 9: 0.009, 10: 0.014, 11: 0.022, 12: 0.035}
# Demodulation floor (SNR, dB) by SF: ADR picks the lowest SF keeping ~10 dB of margin.
SNR_FLOOR = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
# Extra attenuation by role: meters in pits and buried space sensors are hard to hear.
ROLE_ATTENUATION_DB = {"water_meter": 12.0, "parking_space": 10.0, "sector_inflow": 6.0}


@dataclass(frozen=True, slots=True)
class Link:
    """A device's stable radio situation."""

    spreading_factor: int
    rssi_dbm: float  # mean at the best gateway
    snr_db: float
    gateways: tuple[str, ...]  # the gateways that can hear it, best first


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one uplink: lost, or its receptions and broker delays."""

    receptions: tuple[Reception, ...]  # empty: lost on the air
    delay_s: float  # network server → subscriber
    redelivery_s: float | None  # a second delivery of the same message, this later


def _unit(seed: int, *parts: str) -> random.Random:
    digest = hashlib.blake2b("/".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def link_for(seed: int, dev_eui: str, role: str) -> Link:
    """The device's link: log-distance path loss at 868 MHz, shadowing, ADR's choice of SF."""
    rng = _unit(seed, "link", dev_eui)
    distance_km = 0.15 + 5.0 * rng.random() ** 1.5
    shadowing = rng.gauss(0.0, 6.0)
    path_loss = 120.0 + 30.0 * math.log10(distance_km) + ROLE_ATTENUATION_DB.get(role, 0.0)
    rssi = 14.0 + 2.0 - path_loss - shadowing  # 14 dBm EIRP, 2 dBi gateway antenna
    snr = max(-20.0, min(12.0, rssi + 117.0))  # noise floor of a 125 kHz channel ≈ −117 dBm
    sf = next((sf for sf in range(7, 13) if snr - SNR_FLOOR[sf] >= 10.0), 12)
    count = 1 + (rng.random() < 0.55) + (rng.random() < 0.25)
    order = rng.sample(GATEWAYS, k=len(GATEWAYS))
    return Link(sf, round(rssi, 1), round(snr, 1), tuple(order[:count]))


class Radio:
    """Draws the fate of each uplink of one device; deterministic for a seed and DevEUI."""

    def __init__(
        self,
        seed: int,
        dev_eui: str,
        link: Link,
        *,
        loss_scale: float = 1.0,
        redelivery_p: float = 0.002,
        late_p: float = 0.01,
    ) -> None:
        self.link = link
        self._rng = _unit(seed, "radio", dev_eui)
        self._loss = LOSS_BY_SF[link.spreading_factor] * loss_scale
        self._redelivery_p = redelivery_p
        self._late_p = late_p

    @property
    def rng(self) -> random.Random:
        return self._rng

    def deliver(self) -> Delivery:
        rng = self._rng
        if rng.random() < self._loss:
            return Delivery((), 0.0, None)
        receptions = []
        for i, gateway in enumerate(self.link.gateways):
            if i and rng.random() < 0.3:
                continue  # a farther gateway missed this one
            rssi = round(self.link.rssi_dbm - 6.0 * i + rng.gauss(0.0, 2.5))
            snr = round(max(-20.0, min(13.5, self.link.snr_db - 5.0 * i + rng.gauss(0.0, 1.8))), 1)
            receptions.append(Reception(gateway, int(rssi), snr))
        delay = 0.2 + rng.random() * 1.8
        if rng.random() < self._late_p:
            delay += 20.0 + rng.random() * 160.0  # held up: arrives after later messages
        redelivery = 0.5 + rng.random() * 5.0 if rng.random() < self._redelivery_p else None
        return Delivery(tuple(receptions), delay, redelivery)


def best_reception(receptions: tuple[Reception, ...]) -> Reception:
    """The reception ingest reports: highest SNR, then highest RSSI."""
    return max(receptions, key=lambda r: (r.snr, r.rssi))

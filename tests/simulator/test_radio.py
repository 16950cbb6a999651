"""The radio model: stable links, SF by link quality, losses, receptions, redeliveries."""

from __future__ import annotations

from collections import Counter

from simulator.radio import LOSS_BY_SF, Radio, best_reception, link_for


def test_links_are_stable_and_cover_the_spreading_factors() -> None:
    links = [link_for(1, f"{n:016x}", "water_meter") for n in range(500)]
    assert links == [link_for(1, f"{n:016x}", "water_meter") for n in range(500)]
    sfs = Counter(link.spreading_factor for link in links)
    assert set(sfs) <= set(range(7, 13)) and len(sfs) >= 4
    assert all(1 <= len(link.gateways) <= 3 for link in links)


def test_losses_follow_the_spreading_factor_and_receptions_share_one_uplink() -> None:
    link = link_for(2, "a840410000000001", "level")
    radio = Radio(2, "a840410000000001", link)
    deliveries = [radio.deliver() for _ in range(20_000)]
    lost = sum(not d.receptions for d in deliveries) / len(deliveries)
    assert abs(lost - LOSS_BY_SF[link.spreading_factor]) < 0.01
    heard = [d for d in deliveries if d.receptions]
    assert all(len(d.receptions) <= len(link.gateways) for d in heard)
    assert any(d.redelivery_s is not None for d in heard)
    assert any(d.delay_s > 20 for d in heard)  # late: out of order
    best = best_reception(heard[0].receptions)
    assert best.snr == max(r.snr for r in heard[0].receptions)

"""Two communes of one agglomeration, each with one of everything the API serves (building,
meters, sector, carpool area, hub, alert, hub message, readings), and keys to call it with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from analytics.alerts.engine import AlertEngine
from analytics.findings import Estimates, Finding, SubjectKind
from api.services import Services
from core.clock import ManualClock
from core.config import AlertsSettings
from core.reading import Reading
from core.state.api_keys import Role, create_key
from core.state.hub_messages import HubMessage
from core.state.models import Hub
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.api.conftest import NOW

COMMUNES = {"alpha": ("aaaa", "59001"), "beta": ("bbbb", "59002")}


def registry_yaml() -> str:
    """Every object of commune X carries X in its code or name, its DevEUIs start with its
    prefix: a response that mentions another commune's object is found by text."""
    lines = [
        "tenants:",
        "  - {code: agglo, name: Agglomération, kind: agglomeration}",
        *(
            f"  - {{code: {c}, name: Commune {c}, kind: commune, insee: '{insee}', parent: agglo}}"
            for c, (_, insee) in COMMUNES.items()
        ),
        "sites:",
        *(f"  - {{code: {c}-site, tenant: {c}, name: Site {c}}}" for c in COMMUNES),
        "buildings:",
        *(
            f"  - {{code: {c}-ecole, site: {c}-site, name: École {c}, floor_area_m2: 1200,"
            " activity_category: enseignement, energy_carriers: [electricity]}"
            for c in COMMUNES
        ),
        "sectors:",
        *(
            f"  - {{code: {c}-secteur, tenant: {c}, name: Secteur {c}, network_length_km: 10,"
            f" inflow: ['{p}000000000003']}}"
            for c, (p, _) in COMMUNES.items()
        ),
        "areas:",
        *(
            f"  - {{id_lieu: {insee}-C-001, tenant: {c}, nom_lieu: Aire {c}, insee: '{insee}',"
            " type: Aire de covoiturage, xlong: 3.4, ylat: 50.1, nbre_pl: 1, nbre_pmr: 0}"
            for c, (_, insee) in COMMUNES.items()
        ),
        "devices:",
    ]
    for c, (p, insee) in COMMUNES.items():
        lines += [
            f"  - {{dev_eui: '{p}000000000001', tenant: {c}, name: Foyer {c},"
            f" codec_id: axioma/qalcosonic-w1, role: water_meter, sector: {c}-secteur}}",
            f"  - {{dev_eui: '{p}000000000002', tenant: {c}, name: Électricité {c},"
            f" codec_id: adeunis/pulse, role: energy_meter, building: {c}-ecole,"
            " parameters: {carrier: electricity}}",
            f"  - {{dev_eui: '{p}000000000003', tenant: {c}, name: Entrée {c},"
            " codec_id: axioma/qalcosonic-w1, role: sector_inflow}",
            f"  - {{dev_eui: '{p}000000000004', tenant: {c}, codec_id: nwave/nps405,"
            f" role: parking_space, area: {insee}-C-001}}",
        ]
    lines.append("spaces:")
    lines += [
        f"  - {{code: {insee}-C-001-P01, area: {insee}-C-001, device: '{p}000000000004'}}"
        for p, insee in COMMUNES.values()
    ]
    lines.append("hubs:")
    lines += [
        f"  - {{code: {c}-pole, tenant: {c}, name: Pôle {c}, areas: [{insee}-C-001]}}"
        for c, (_, insee) in COMMUNES.items()
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Commune:
    """One commune's objects, by the name of the path or query parameter that names them."""

    code: str
    household: str  # a household water meter's DevEUI
    meter: str  # the school's electricity meter
    building: str
    sector: str
    id_lieu: str
    hub: str
    alert_id: int
    message_id: int


@dataclass
class World:
    services: Services
    clock: ManualClock
    communes: dict[str, Commune]
    keys: dict[tuple[str, Role], str]  # (tenant, role) -> key

    def headers(self, tenant: str, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"X-API-Key": self.keys[(tenant, role)]}


def build_world(state: StateStore, directory: Path) -> Iterator[World]:
    registry = directory / "tenancy.yaml"
    registry.write_text(registry_yaml(), encoding="utf-8")
    import_registry(state, registry)
    clock = ManualClock(NOW)
    store = SqliteStore(directory / "tenancy-series.sqlite")
    engine = AlertEngine(state, clock, AlertsSettings())
    communes: dict[str, Commune] = {}
    for c, (p, insee) in COMMUNES.items():
        household, meter = f"{p}000000000001", f"{p}000000000002"
        store.write(
            [Reading(NOW - timedelta(hours=h), household, "volume_m3", 10.0 - h) for h in range(6)]
            + [Reading(NOW - timedelta(hours=h), meter, "energy_kwh", 500.0 - h) for h in range(6)],
            state.device_tags([household, meter]),
        )
        [opened] = engine.apply(
            [
                Finding(
                    type="household_leak",
                    tenant=c,
                    subject_kind=SubjectKind.DEVICE,
                    subject=household,
                    start=NOW - timedelta(days=1),
                    observed_at=NOW - timedelta(hours=1),
                    evidence={"series": {"device": household, "quantity": "volume_m3"}},
                    estimates=Estimates(flow_lph=12.0, volume_m3=0.3),
                )
            ]
        )
        with state.session() as session:
            hub = session.query(Hub).filter_by(code=f"{c}-pole").one()
            message = HubMessage(
                tenant_id=hub.tenant_id,
                hub_id=hub.id,
                text=f"Travaux {c}",
                severity="info",
                starts_at=NOW - timedelta(hours=1),
                created_at=NOW - timedelta(hours=1),
                created_by=f"mairie {c}",
            )
            session.add(message)
            session.flush()
            message_id = message.id
        assert opened.alert_id is not None
        communes[c] = Commune(
            code=c,
            household=household,
            meter=meter,
            building=f"{c}-ecole",
            sector=f"{c}-secteur",
            id_lieu=f"{insee}-C-001",
            hub=f"{c}-pole",
            alert_id=opened.alert_id,
            message_id=message_id,
        )
    keys: dict[tuple[str, Role], str] = {}
    with state.session() as session:
        for tenant in ("alpha", "beta", "agglo"):
            for role in Role:
                _, secret = create_key(session, f"{tenant} {role.value}", role, tenant, NOW)
                keys[(tenant, role)] = secret
    services = Services(store=store, state=state, clock=clock)
    yield World(services, clock, communes, keys)
    store.close()

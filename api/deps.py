"""Request dependencies as ``Annotated`` aliases: routes stay short, tests can override them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.hub_screen import HubScreens
from api.services import Services
from core.clock import Clock
from core.config import KpiSettings
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_store(services: ServicesDep) -> TimeSeriesStore:
    return services.store


def get_state(services: ServicesDep) -> StateStore:
    return services.state


def get_clock(services: ServicesDep) -> Clock:
    return services.clock


def get_zone(services: ServicesDep) -> str:
    return services.zone


def get_kpi_settings(services: ServicesDep) -> KpiSettings:
    return services.kpi


def get_screens(request: Request) -> HubScreens:
    screens: HubScreens = request.app.state.screens
    return screens


StoreDep = Annotated[TimeSeriesStore, Depends(get_store)]
ScreensDep = Annotated[HubScreens, Depends(get_screens)]
StateDep = Annotated[StateStore, Depends(get_state)]
ClockDep = Annotated[Clock, Depends(get_clock)]
KpiSettingsDep = Annotated[KpiSettings, Depends(get_kpi_settings)]
ZoneDep = Annotated[str, Depends(get_zone)]  # the territory's time zone


@dataclass(frozen=True)
class Caller:
    """Who is calling. Every /api/v1 router depends on it, so access control (API keys, roles,
    tenant scoping) replaces ``get_caller`` without touching the routes."""

    name: str
    tenants: frozenset[str] | None  # None: every tenant


def get_caller() -> Caller:
    # Until API keys exist every caller is the local operator with access to every tenant.
    return Caller(name="local", tenants=None)


CallerDep = Annotated[Caller, Depends(get_caller)]

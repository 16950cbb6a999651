"""Request dependencies as ``Annotated`` aliases: routes stay short, tests can override them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.hub_screen import HubScreens
from api.keyring import Caller as Caller
from api.keyring import KeyRing, credentials
from api.pseudonyms import Pseudonyms
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


def get_pseudonyms(request: Request) -> Pseudonyms:
    pseudonyms: Pseudonyms = request.app.state.pseudonyms
    return pseudonyms


PseudonymsDep = Annotated[Pseudonyms, Depends(get_pseudonyms)]
StoreDep = Annotated[TimeSeriesStore, Depends(get_store)]
ScreensDep = Annotated[HubScreens, Depends(get_screens)]
StateDep = Annotated[StateStore, Depends(get_state)]
ClockDep = Annotated[Clock, Depends(get_clock)]
KpiSettingsDep = Annotated[KpiSettings, Depends(get_kpi_settings)]
ZoneDep = Annotated[str, Depends(get_zone)]  # the territory's time zone


BEARER = HTTPBearer(auto_error=False, description="An API key (`vigie keys create`)")
API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (`vigie keys create`)"
)


async def get_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    api_key: Annotated[str | None, Depends(API_KEY)],
) -> Caller | None:
    """The caller of the request's API key, or None without a valid one. Every router's access
    policy (``api.access``) depends on it; tests override it to act as a given caller."""
    secret = credentials(bearer.credentials if bearer else None, api_key)
    if secret is None:
        return None
    keys: KeyRing = request.app.state.keys
    # On the event loop: the hub and parking routes answer there without a thread hop, and a
    # known key is a dictionary lookup; only a key not seen for KEY_TTL waits on the database.
    known, caller = keys.cached(secret)
    if known:
        return caller
    return await run_in_threadpool(keys.caller, secret)


def require_caller(caller: Annotated[Caller | None, Depends(get_caller)]) -> Caller:
    if caller is None:
        raise HTTPException(401, "an API key is required", headers={"WWW-Authenticate": "Bearer"})
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]

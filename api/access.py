"""Who may call what: API keys resolved to a caller, and one access policy per router.

Keys come as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A resolved key is kept
for ``KEY_TTL`` on the services' clock, so a request costs a SHA-256 and a dictionary lookup,
not a database query; a revoked key therefore stops working within ``KEY_TTL``.

Public routes are rate-limited per client address (429 with Retry-After). Refusals: 401
without a valid key; 403 for a key whose role may not use the route (whatever
object it names, so it tells nothing about other tenants); 404, from the routes, for an object
outside the key's tenants, exactly as for one that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from api.deps import get_caller
from api.keyring import Caller
from api.rate_limit import TokenBuckets
from api.services import Services
from core.state.api_keys import Role

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.TECHNICIAN, Role.WATER, Role.VIEWER})
READING = frozenset(Role)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KEY_TTL = timedelta(seconds=30)

Owner = Callable[[Services, dict[str, str]], str | None]
"""The tenant code of the object a route's path names, None when there is none."""


@dataclass(frozen=True)
class Policy:
    """A router's access rule, applied as its dependency in ``api.main``.

    ``read`` roles may GET, ``write`` roles may change; ``public`` route templates need no key;
    ``owner`` maps path parameters to the object's tenant for routes that do not scope
    themselves (404 outside the caller's tenants)."""

    read: frozenset[Role]
    write: frozenset[Role] = frozenset({Role.ADMIN})
    public: frozenset[str] = frozenset()
    owner: Owner | None = None

    async def __call__(
        self, request: Request, caller: Annotated[Caller | None, Depends(get_caller)]
    ) -> None:
        # Async, so that FastAPI runs it on the event loop: no thread hop for the public
        # routes the screens poll; only the owner lookup goes to the thread pool.
        template = _template(request)
        if template in self.public:
            limits: TokenBuckets = request.app.state.public_limits
            client = request.client.host if request.client else "?"
            wait = limits.take(client)
            if wait is not None:
                raise HTTPException(
                    429, "too many requests", headers={"Retry-After": str(math.ceil(wait))}
                )
            return
        if caller is None:
            raise HTTPException(
                401, "an API key is required", headers={"WWW-Authenticate": "Bearer"}
            )
        request.state.caller = caller  # for the audit log (api/audit_log.py)
        allowed = self.read if request.method in SAFE_METHODS else self.write
        if caller.role not in allowed:
            raise HTTPException(403, f"a {caller.role.value} key may not use this route")
        if self.owner is not None and caller.tenants is not None:
            services: Services = request.app.state.services
            tenant = await run_in_threadpool(self.owner, services, dict(request.path_params))
            if tenant is not None and tenant not in caller.tenants:
                raise HTTPException(404, "no such resource")


def _template(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    for candidate in request.app.routes:  # not reached on FastAPI's own routes
        if candidate.matches(request.scope)[0] is Match.FULL:
            return str(getattr(candidate, "path", ""))
    return request.url.path


def parking_area_owner(services: Services, params: dict[str, str]) -> str | None:
    """The tenant of the carpool area a parking route names (``id_lieu``)."""
    from sqlalchemy import select

    from core.state.models import ParkingArea, Tenant

    id_lieu = params.get("id_lieu")
    if id_lieu is None:
        return None
    with services.state.session() as session:
        owner = session.scalar(
            select(Tenant.code).join(ParkingArea.tenant).where(ParkingArea.id_lieu == id_lieu)
        )
    return owner or "?"  # unknown: the route answers 404 itself; no tenant holds "?"


# The policies of the routers (``api.main`` applies them). Reads of staff data need a staff
# key; changes need the role that owns the domain; hub screens and the open-data carpool feeds
# are public (docs/decisions/018-access-control.md).
DEVICES = Policy(read=STAFF)
READINGS = Policy(read=STAFF)
ALERTS = Policy(read=STAFF, write=frozenset({Role.ADMIN, Role.TECHNICIAN, Role.WATER}))
WATER = Policy(read=frozenset({Role.ADMIN, Role.WATER, Role.VIEWER}))
KPIS = Policy(read=frozenset({Role.ADMIN, Role.TECHNICIAN, Role.VIEWER}))
HUBS = Policy(read=ALL_ROLES)
AUDIT = Policy(read=frozenset({Role.ADMIN}))
PUBLIC_PARKING = frozenset(
    {
        "/api/v1/parking/areas",
        "/api/v1/parking/areas/{id_lieu}",
        "/api/v1/parking/datex",
        "/api/v1/parking/ngsi-ld/areas",
        "/api/v1/parking/ngsi-ld/areas/{id_lieu}/spots",
        "/api/v1/parking/bnlc.csv",
    }
)
PARKING = Policy(read=ALL_ROLES, public=PUBLIC_PARKING, owner=parking_area_owner)
HUB_SCREENS = Policy(read=ALL_ROLES, public=frozenset({"/hub/{code}", "/hub/{code}/data"}))
OPERATIONS = Policy(read=ALL_ROLES, public=frozenset({"/health", "/metrics"}))

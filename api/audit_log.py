"""Writes the audit log: every change made through the API with a key, once answered."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.json_bodies import STATE_CHANGING
from api.keyring import Caller
from api.routes import API_V1
from api.services import Services
from core.state.audit import AuditEntry


class AuditLog:
    """ASGI middleware: after a POST, PUT, PATCH or DELETE under the API that succeeded (a
    refusal changed nothing) and whose caller is known (its access policy passed the key), one
    entry: key id and name, tenant, method, path, status, client address. Reads pass straight
    through: the screens' polling costs nothing."""

    def __init__(self, app: ASGIApp, prefix: str = API_V1) -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in STATE_CHANGING
            or not scope["path"].startswith(self._prefix)
        ):
            await self._app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            caller = scope.get("state", {}).get("caller")
            if isinstance(caller, Caller) and status < 400:
                services: Services = scope["app"].state.services
                await run_in_threadpool(_write, services, caller, scope, status)


def _write(services: Services, caller: Caller, scope: Scope, status: int) -> None:
    client = scope.get("client")
    with services.state.session() as session:
        session.add(
            AuditEntry(
                at=services.clock.now(),
                key_id=caller.key_id,
                actor=caller.name[:120],
                tenant=caller.tenant,
                method=scope["method"],
                path=scope["path"][:500],
                status=status,
                client_ip=client[0] if client else None,
            )
        )

"""``/hub/{code}``: the page of a hub's screens and its data document, opened by a display token.

The page is one self-contained HTML file (styles and script inline, no CDN: it must work on an
isolated network) that polls ``/hub/{code}/data`` and keeps polling through API restarts.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib.resources import files
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ScreensDep, ServicesDep
from api.display_tokens import token_opens
from api.errors import FORBIDDEN, NOT_FOUND
from api.hub_screen import HubNotFound, HubRef, HubScreenOut, HubScreens

router = APIRouter(prefix="/hub", tags=["hub screens"])

HubCode = Annotated[str, Path(max_length=64, description="The hub's code in the registry")]
Token = Annotated[
    str | None, Query(max_length=128, description="The hub's display token (`vigie hub token`)")
]
NO_STORE = {"Cache-Control": "no-store"}
# Nothing but this origin: a screen on an isolated network must not depend on another one, and
# the page runs no code that is not its own.
CSP = (
    "default-src 'none'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


@cache
def _asset(name: str) -> str:
    return files("api.pages").joinpath(name).read_text(encoding="utf-8")


def _open(screens: HubScreens, code: str, token: str | None) -> HubRef:
    try:
        hub = screens.ref(code)
    except HubNotFound:
        raise HTTPException(404, f"no hub {code!r}") from None
    if not token_opens(hub.token_sha256, token):
        raise HTTPException(403, "this screen's token is missing or no longer valid")
    return hub


@router.get(
    "/{code}",
    response_class=HTMLResponse,
    responses={**NOT_FOUND, **FORBIDDEN},
    summary="The hub's screen page (French)",
)
def hub_page(
    code: HubCode, services: ServicesDep, screens: ScreensDep, token: Token = None
) -> HTMLResponse:
    hub = _open(screens, code, token)
    settings = services.hub
    config = {
        "data_url": f"/hub/{quote(code)}/data?token={quote(token or '')}",
        "refresh_s": settings.refresh_s,
        "max_silence_s": max(3 * settings.refresh_s, 10.0),
        "zone": settings.zone,
    }
    # In a <script> element "</" would end it: JSON allows escaping "<" as \u003c.
    config_json = json.dumps(config).replace("<", "\\u003c")
    page = (
        _asset("hub.html")
        .replace("{{css}}", _asset("hub.css"))
        .replace("{{js}}", _asset("hub.js"))
        .replace("{{title}}", html.escape(hub.name))
        .replace("{{config}}", config_json)
    )
    return HTMLResponse(page, headers={**NO_STORE, "Content-Security-Policy": CSP})


@router.get(
    "/{code}/data",
    response_model=HubScreenOut,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **NOT_FOUND, **FORBIDDEN},
    summary="What the hub's screens show, with the freshness of each block",
)
async def hub_data(code: HubCode, screens: ScreensDep, token: Token = None) -> Response:
    # Every screen asks every few seconds: served from the caches on the event loop, without a
    # thread hop; only a cache miss computes, in the thread pool.
    hub = screens.peek_ref(code)
    if hub is None:
        hub = await run_in_threadpool(_open, screens, code, token)
    elif not token_opens(hub.token_sha256, token):
        raise HTTPException(403, "this screen's token is missing or no longer valid")
    body = screens.peek_document(hub)
    if body is None:
        body = await run_in_threadpool(screens.document, hub)
    return Response(body, media_type="application/json", headers=NO_STORE)

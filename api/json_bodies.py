"""State-changing requests are JSON only: a cross-site HTML form cannot act on the API.

Browsers send a form (``application/x-www-form-urlencoded``, ``multipart/form-data`` or
``text/plain``) to any origin without a CORS preflight; ``application/json`` needs one, which a
foreign origin does not pass. So every POST, PUT, PATCH and DELETE under the API must say
``Content-Type: application/json`` — even without a body — or it is refused with 415 before it
reaches a route. Until API keys exist this is what keeps a web page from acknowledging alerts
through an operator's browser on the local network.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from api.routes import API_V1

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"


def is_json(content_type: str) -> bool:
    """``application/json``, with or without parameters (``; charset=utf-8``)."""
    return content_type.split(";", 1)[0].strip().lower() == JSON


class JsonBodiesOnly:
    """ASGI middleware: 415 for a state-changing API request that is not declared as JSON."""

    def __init__(self, app: ASGIApp, prefix: str = API_V1) -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in STATE_CHANGING
            and scope["path"].startswith(self._prefix)
        ):
            declared = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"), ""
            )
            if not is_json(declared):
                await _refuse(send, declared)
                return
        await self._app(scope, receive, send)


async def _refuse(send: Send, declared: str) -> None:
    shown = declared or "none"
    body = json.dumps(
        {
            "detail": f"Content-Type must be {JSON} for {', '.join(sorted(STATE_CHANGING))}; "
            f"got {shown}"
        }
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 415,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"accept-post", JSON.encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

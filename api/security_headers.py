"""Security headers on every response: no sniffing, no framing, no referrer, a strict CSP."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# API answers are data, never pages: nothing to load, nothing to frame. Pages that need more
# (the hub screen) set their own policy, to which "frame-ancestors 'none'" is added.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc load their scripts and styles from a CDN: no CSP there.
DOCS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding the headers to each response start (no body is touched)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                csp = headers.get("Content-Security-Policy")
                if csp is None and not docs:
                    headers["Content-Security-Policy"] = DEFAULT_CSP
                elif csp is not None and "frame-ancestors" not in csp:
                    headers["Content-Security-Policy"] = f"{csp}; frame-ancestors 'none'"
            await send(message)

        await self._app(scope, receive, send_with_headers)

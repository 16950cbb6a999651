"""Display tokens: a hub screen reads its page with a token in the URL instead of logging in.

Only the token's SHA-256 is stored, so the state database does not hold a usable URL; the token
is shown once, when it is issued, and issuing a new one retires the old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from core.state.models import Hub
from core.state.store import StateStore


class UnknownHub(LookupError):
    """No hub has this code."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_display_token(state: StateStore, code: str) -> str:
    """A new token for the hub's screens (the previous one stops working)."""
    token = secrets.token_urlsafe(24)
    with state.session() as session:
        hub = session.scalar(select(Hub).where(Hub.code == code))
        if hub is None:
            raise UnknownHub(code)
        hub.display_token_sha256 = _digest(token)
        session.commit()
    return token


def token_opens(token_sha256: str | None, token: str | None) -> bool:
    """Whether ``token`` matches a hub's stored hash (a hub without a token opens to none)."""
    if not token or token_sha256 is None:
        return False
    return hmac.compare_digest(_digest(token), token_sha256)

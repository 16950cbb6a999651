"""The caller behind a request: API keys looked up once per ``ttl``, then from memory."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.state.api_keys import Role, digest, find_key
from core.state.store import StateStore


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key's name, the tenants it may see (None: every tenant) and its role."""

    name: str
    tenants: frozenset[str] | None  # None: every tenant
    role: Role = Role.ADMIN
    key_id: int | None = None
    tenant: str | None = None  # the key's own tenant (its scope's root)


def credentials(bearer: str | None, api_key: str | None) -> str | None:
    """The key of ``X-API-Key: <key>``, else of ``Authorization: Bearer <key>``."""
    for given in (api_key, bearer):
        if given and given.strip():
            return given.strip()
    return None


class KeyRing:
    """Resolves keys to callers, remembering each answer (unknown keys too) for ``ttl``.

    Keys live in the state store; a screen or a script calls many times a minute, and the
    parking and hub routes answer from memory, so they must not wait on the database per call.
    The price: a revoked key keeps working for at most ``ttl``.
    """

    MAX_ENTRIES = 10_000  # unknown keys are remembered too: bounded against a flood of guesses

    def __init__(self, state: StateStore, clock: Clock, ttl: timedelta) -> None:
        self._state = state
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._known: dict[str, tuple[datetime, Caller | None]] = {}

    def cached(self, secret: str) -> tuple[bool, Caller | None]:
        """(True, caller) when the answer is in memory and fresh; (False, None) otherwise."""
        now = self._clock.now()
        with self._lock:
            entry = self._known.get(digest(secret))
        if entry is not None and timedelta(0) <= now - entry[0] < self._ttl:
            return True, entry[1]
        return False, None

    def caller(self, secret: str) -> Caller | None:
        key = digest(secret)
        now = self._clock.now()
        known, caller = self.cached(secret)
        if known:
            return caller
        with self._state.session() as session:
            info = find_key(session, secret)
        caller = (
            None
            if info is None
            else Caller(
                name=info.name,
                tenants=info.scope,
                role=info.role,
                key_id=info.id,
                tenant=info.tenant,
            )
        )
        with self._lock:
            if len(self._known) >= self.MAX_ENTRIES:
                self._known.clear()
            self._known[key] = (now, caller)
        return caller

    def forget(self) -> None:
        with self._lock:
            self._known.clear()

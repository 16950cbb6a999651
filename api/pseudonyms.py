"""Pseudonymous ids for household water meters, for the roles that may not know whose home.

A pseudonym is a keyed HMAC-SHA256 of the DevEUI: stable (the same meter has the same
pseudonym in every answer and export, so rows can be followed and counted), not reversible
without the key, and different from one deployment to another. The key is ``[api]
pseudonym_key``; without one, each process draws its own (pseudonyms then change at restart).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence

from analytics.alerts.queries import AlertView
from analytics.findings import SubjectKind
from api.keyring import Caller
from api.scoping import HOUSEHOLD_READERS, household_devices
from core.state.store import StateStore


class Pseudonyms:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def of(self, dev_eui: str) -> str:
        digest = hmac.new(self._key, dev_eui.lower().encode("ascii"), hashlib.sha256)
        return "m-" + digest.hexdigest()[:16]


def masked_alerts(
    views: Sequence[AlertView], caller: Caller, state: StateStore, pseudonyms: Pseudonyms
) -> list[AlertView]:
    """The alerts with household meters' ids replaced, subject and evidence, unless the
    caller's role reads household data."""
    if caller.role in HOUSEHOLD_READERS:
        return list(views)
    devices = [v.subject for v in views if v.subject_kind == SubjectKind.DEVICE]
    private = household_devices(state, devices)
    out = []
    for v in views:
        if v.subject not in private:
            out.append(v)
            continue
        alias = pseudonyms.of(v.subject)
        evidence = json.loads(json.dumps(v.evidence).replace(v.subject, alias))
        out.append(dataclasses.replace(v, subject=alias, evidence=evidence))
    return out

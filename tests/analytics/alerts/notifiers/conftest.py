"""Notifier fixtures: one leak notice with every key number, and variants of it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme

from analytics.alerts.model import AlertStatus, Notice, NoticeKind
from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Estimates, Severity, SubjectKind

START = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 03:00 in Paris (winter time, UTC+1)
LAST_SEEN = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # 08:30 in Paris
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
URL = "https://vigie.agglo.example/alertes/42"


def _make_cert() -> Path:
    """A throwaway CA and a certificate for 127.0.0.1 and localhost, made per test session so no
    private key is ever committed: one PEM file with the key, the chain and the CA."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    path = Path(tempfile.mkdtemp(prefix="vigie-tls-")) / "localhost.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    ca.cert_pem.write_to_path(str(path), append=True)
    atexit.register(shutil.rmtree, path.parent, ignore_errors=True)
    return path


CERT = _make_cert()


def make_notice(**changes: Any) -> Notice:
    """A sector leak of 1.25 m³/h, 1,234.5 m³ lost at 4 €/m³, opened and still open."""
    notice = Notice(
        kind=NoticeKind.OPENED,
        alert_id=42,
        type="sector_leak",
        title_fr=ALERT_TYPES["sector_leak"].title_fr,
        severity=Severity.CRITICAL,
        status=AlertStatus.OPEN,
        tenant="caudry",
        subject_kind=SubjectKind.SECTOR,
        subject="nord",
        start=START,
        last_seen=LAST_SEEN,
        estimates=Estimates(flow_lph=1250.0, volume_m3=1234.5, cost_eur=4938.0),
        evidence={"night_min_lph": [310.0, 1560.0, 1250.0], "baseline_lph": 310.0},
        url=URL,
    )
    return replace(notice, **changes)


@pytest.fixture
def notice() -> Notice:
    return make_notice()

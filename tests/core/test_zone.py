"""One setting for the territory's zone: the sections that show or judge local time follow it
unless a section sets its own, and the code that cuts local days and years uses it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from analytics.alerts.notifiers.message import format_local_time
from analytics.energy.building_hours import local_days
from analytics.kpi.building import year_bounds
from core.config import DEFAULT_ZONE, Settings
from core.series import to_ns

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_sections_follow_the_territory_zone() -> None:
    settings = Settings(zone="America/Cayenne")
    assert settings.kpi.zone == "America/Cayenne"
    assert settings.hub.zone == "America/Cayenne"
    assert settings.alerts.zone == "America/Cayenne"
    assert settings.alerts.quiet_hours.timezone == "America/Cayenne"
    assert settings.store.rollups.zone == "America/Cayenne"


def test_a_section_may_keep_its_own_zone() -> None:
    settings = Settings.model_validate({"zone": "America/Cayenne", "hub": {"zone": DEFAULT_ZONE}})
    assert settings.hub.zone == DEFAULT_ZONE
    assert settings.kpi.zone == "America/Cayenne"


def test_the_default_is_paris_and_defaults_are_not_shared() -> None:
    Settings(zone="Indian/Reunion")
    assert Settings().kpi.zone == DEFAULT_ZONE == "Europe/Paris"


def test_a_local_year_starts_at_the_zones_midnight() -> None:
    assert year_bounds(2026, NOW)[0] == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert year_bounds(2026, NOW, "America/Cayenne")[0] == datetime(2026, 1, 1, 3, tzinfo=UTC)


def test_local_days_and_notice_times_follow_the_zone() -> None:
    evening = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)
    assert str(local_days(np.array([to_ns(evening)]))[0]) == "2026-12-07"
    assert str(local_days(np.array([to_ns(evening)]), "America/Cayenne")[0]) == "2026-12-07"
    assert str(local_days(np.array([to_ns(evening)]), "Indian/Reunion")[0]) == "2026-12-08"
    assert format_local_time(evening, "America/Cayenne") == "07/12/2026 à 17:30"

"""Quiet hours are local wall-clock windows: they keep their hours across DST changes, and a
window that ends in the hour the spring change skips ends when the clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from analytics.alerts.quiet_hours import is_quiet, quiet_until
from core.config import QuietHoursSettings

NIGHT = QuietHoursSettings(start=time(20, 0), end=time(7, 30))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (utc(2026, 1, 15, 18, 59), False),  # 19:59 winter time
        (utc(2026, 1, 15, 19, 0), True),  # 20:00
        (utc(2026, 1, 15, 23, 30), True),  # 00:30, after midnight
        (utc(2026, 1, 16, 6, 29), True),  # 07:29
        (utc(2026, 1, 16, 6, 30), False),  # 07:30
        (utc(2026, 7, 15, 18, 0), True),  # 20:00 summer time
        (utc(2026, 7, 16, 5, 30), False),  # 07:30 summer time
        (utc(2026, 7, 16, 5, 29), True),
    ],
)
def test_the_window_follows_local_time(at: datetime, quiet: bool) -> None:
    assert is_quiet(at, NIGHT) is quiet


@pytest.mark.parametrize(
    ("at", "until"),
    [
        (utc(2026, 1, 15, 21, 0), utc(2026, 1, 16, 6, 30)),  # evening part: ends tomorrow
        (utc(2026, 1, 16, 3, 0), utc(2026, 1, 16, 6, 30)),  # morning part: ends today
        (utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 5, 30)),  # 23 h day: 07:30 CEST
        (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 6, 30)),  # 25 h day: 07:30 CET
        (utc(2026, 1, 16, 12, 0), None),
    ],
)
def test_held_notices_wait_until_the_local_end(at: datetime, until: datetime | None) -> None:
    assert quiet_until(at, NIGHT) == until


def test_a_window_ending_in_the_skipped_spring_hour_ends_at_the_change() -> None:
    late = QuietHoursSettings(start=time(22, 0), end=time(2, 30))

    assert quiet_until(utc(2026, 3, 28, 23, 0), late) == utc(2026, 3, 29, 1, 0)
    assert is_quiet(utc(2026, 3, 29, 0, 59, 59), late)  # 01:59:59 CET
    assert not is_quiet(utc(2026, 3, 29, 1, 0), late)  # 03:00 CEST


def test_an_ambiguous_autumn_end_is_its_first_occurrence() -> None:
    late = QuietHoursSettings(start=time(22, 0), end=time(2, 30))

    assert quiet_until(utc(2026, 10, 24, 23, 0), late) == utc(2026, 10, 25, 0, 30)


@pytest.mark.parametrize(
    "settings",
    [QuietHoursSettings(enabled=False), QuietHoursSettings(start=time(8), end=time(8))],
    ids=["disabled", "empty window"],
)
def test_no_window_holds_nothing(settings: QuietHoursSettings) -> None:
    assert not is_quiet(utc(2026, 1, 15, 23, 0), settings)
    assert quiet_until(utc(2026, 1, 15, 23, 0), settings) is None


def test_an_unknown_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="Europe/Pariss"):
        QuietHoursSettings(timezone="Europe/Pariss")

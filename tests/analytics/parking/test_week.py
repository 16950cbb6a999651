"""The local week: Monday 00:00 is minute 0 across clock changes; holidays are Sundays."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.parking.week import country_holidays, week_minutes


@pytest.mark.parametrize(
    ("utc", "minutes"),
    [
        (datetime(2024, 3, 24, 23, 0, tzinfo=UTC), 0),  # Monday 00:00 in Paris (UTC+1)
        (datetime(2024, 4, 7, 22, 0, tzinfo=UTC), 0),  # Monday 00:00 in Paris (UTC+2)
        (datetime(2024, 3, 5, 7, 30, tzinfo=UTC), 24 * 60 + 8 * 60 + 30),  # Tuesday 08:30
    ],
)
def test_minutes_since_local_monday(utc: datetime, minutes: int) -> None:
    assert week_minutes(np.array([utc.timestamp()]), "Europe/Paris")[0] == minutes


def test_a_public_holiday_is_placed_on_sunday() -> None:
    easter_monday_9h = datetime(2024, 4, 1, 7, 0, tzinfo=UTC).timestamp()
    plain = week_minutes(np.array([easter_monday_9h]), "Europe/Paris")[0]
    moved = week_minutes(np.array([easter_monday_9h]), "Europe/Paris", country_holidays("FR"))[0]
    assert plain == 9 * 60
    assert moved == 6 * 24 * 60 + 9 * 60
    assert country_holidays(None) is None

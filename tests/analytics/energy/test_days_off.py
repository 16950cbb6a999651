"""A building's days off: closures its week would have opened in, not its weekly days off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.energy.days_off import days_off

SCHOOL_WEEK = {0, 1, 3, 4}  # Monday, Tuesday, Thursday, Friday


def _days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=k) for k in range(n)]


def test_a_schools_holidays_are_off_with_their_weekends_and_wednesdays() -> None:
    days = _days(date(2025, 10, 13), 28)  # Monday 13 October .. Sunday 9 November
    holidays = set(_days(date(2025, 10, 18), 16))  # Saturday 18 .. Sunday 2
    opened = [d.weekday() in SCHOOL_WEEK and d not in holidays for d in days]
    off = days_off(days, opened, SCHOOL_WEEK)
    assert off == holidays  # not the weekends and Wednesdays of the weeks around


def test_one_closed_opening_day_is_not_a_closure() -> None:
    # Monday 10 November closed (a public holiday is the caller's own to add): the weekend
    # before it stays a weekend.
    days = _days(date(2025, 11, 3), 14)
    opened = [d.weekday() in SCHOOL_WEEK and d != date(2025, 11, 10) for d in days]
    assert days_off(days, opened, SCHOOL_WEEK) == set()


def test_a_bridge_makes_a_closure_of_its_weekend() -> None:
    # Ascension Thursday 14 May 2026 and the Friday after: the school that closes on Tuesday
    # evening reopens on Monday, its free Wednesday and the weekend included.
    days = _days(date(2026, 5, 11), 14)
    closed = {date(2026, 5, 14), date(2026, 5, 15)}
    opened = [d.weekday() in SCHOOL_WEEK and d not in closed for d in days]
    assert days_off(days, opened, SCHOOL_WEEK) == set(_days(date(2026, 5, 13), 5))


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="one length"):
        days_off(_days(date(2026, 1, 1), 3), [True], SCHOOL_WEEK)

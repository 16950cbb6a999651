"""The days a building is off, for its baseline's calendar: closures, not its weekly days off.

A day is off when the building does not open that day and the run of closed days it lies in
holds at least two days its week would have opened: a school's holidays with their weekends and
Wednesdays, a bridge. Its closure then starts and ends as one: the building cools from its
first day on and is heated back up on its last. A lone public holiday is the caller's to add;
an ordinary weekend or a free Wednesday is not off: the week's own hours describe it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

MIN_CLOSED_OPENING_DAYS = 2


def days_off(days: Sequence[date], opened: Sequence[bool], week_open: set[int]) -> set[date]:
    """Of consecutive local ``days``, those off; ``opened`` says whether the building opened
    each day, ``week_open`` the weekdays (Monday 0) its schedule opens."""
    if len(days) != len(opened):
        raise ValueError("days and opened must have one length")
    out: set[date] = set()
    run: list[date] = []
    for d, was_open in zip(days, opened, strict=True):
        if not was_open:
            run.append(d)
            continue
        _close(run, week_open, out)
        run = []
    _close(run, week_open, out)
    return out


def _close(run: list[date], week_open: set[int], out: set[date]) -> None:
    if sum(d.weekday() in week_open for d in run) >= MIN_CLOSED_OPENING_DAYS:
        out.update(run)

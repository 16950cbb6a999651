"""Quiet hours: a daily local-time window (it may cross midnight) in which non-critical notices
wait. Computed in the configured zone, so the window keeps its wall-clock hours across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.config import QuietHoursSettings


def is_quiet(at: datetime, settings: QuietHoursSettings) -> bool:
    """Whether the instant ``at`` falls in the window [start, end) of local wall-clock time."""
    if not settings.enabled or settings.start == settings.end:
        return False
    local = at.astimezone(ZoneInfo(settings.timezone)).time()
    if settings.start < settings.end:
        return settings.start <= local < settings.end
    return local >= settings.start or local < settings.end


def quiet_until(at: datetime, settings: QuietHoursSettings) -> datetime | None:
    """When the window that holds ``at`` ends (UTC), or None when ``at`` is not quiet."""
    if not is_quiet(at, settings):
        return None
    zone = ZoneInfo(settings.timezone)
    local = at.astimezone(zone)
    day = local.date()
    if local.time() >= settings.end:  # in the evening part of a window crossing midnight
        day += timedelta(days=1)
    return _instant(datetime.combine(day, settings.end), zone)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock reads ``wall`` or later.

    An ambiguous time (autumn change) is its first occurrence. A time the spring change skips
    (02:30) is never read: the answer is the change itself, when the clock jumps past it.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if other >= first:
        return first
    # In a gap fold=1 reads the time with the summer offset, which is earlier: the change lies
    # between the two readings. Bisect on whole seconds (zone changes fall on whole seconds).
    before, after = int(other.timestamp()), int(first.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)

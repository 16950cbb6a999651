"""What operator actions on alerts can run into."""

from __future__ import annotations


class AlertNotFound(LookupError):
    """No alert has this id (or the caller may not see it)."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert #{alert_id}")
        self.alert_id = alert_id


class AlertConflict(Exception):
    """The action does not fit the alert's status, e.g. acknowledging a resolved alert."""

"""The registry as ingest sees it: per DevEUI, its codec, parameters and series tags, cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.clock import Clock
from core.state.models import Device
from core.state.store import StateStore


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    dev_eui: str
    codec_id: str
    role: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class DeviceDirectory:
    """Looks devices up in memory; reloads from the state store every ``refresh`` and, at most
    once per ``refresh_on_miss``, when an unknown DevEUI shows up (a device just imported)."""

    def __init__(
        self,
        state: StateStore,
        clock: Clock,
        refresh: timedelta = timedelta(minutes=5),
        refresh_on_miss: timedelta = timedelta(seconds=30),
    ) -> None:
        self._state = state
        self._clock = clock
        self._refresh = refresh
        self._refresh_on_miss = refresh_on_miss
        self._devices: dict[str, DeviceInfo] = {}
        self._loaded_at: datetime | None = None
        self.reload()

    def reload(self) -> None:
        tags = self._state.device_tags()
        with self._state.session() as session:
            rows = session.execute(
                select(Device.dev_eui, Device.codec_id, Device.role, Device.parameters)
            ).all()
        self._devices = {
            eui: DeviceInfo(eui, codec, role, dict(params or {}), tags.get(eui, {}))
            for eui, codec, role, params in rows
        }
        self._loaded_at = self._clock.now()

    def get(self, dev_eui: str) -> DeviceInfo | None:
        now = self._clock.now()
        age = now - self._loaded_at if self._loaded_at else self._refresh
        info = self._devices.get(dev_eui)
        if age >= self._refresh or (info is None and age >= self._refresh_on_miss):
            self.reload()
            info = self._devices.get(dev_eui)
        return info

    def tags(self, dev_eui: str) -> dict[str, str]:
        info = self._devices.get(dev_eui)
        return info.tags if info else {}

    def __len__(self) -> int:
        return len(self._devices)

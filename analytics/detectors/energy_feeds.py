"""What the energy and comfort detectors watch and read: buildings, and their hours.

Subjects are the registry's buildings (every root tenant's portfolio, as the KPIs see them:
:mod:`analytics.kpi.inventory`) that have an energy meter or an indoor sensor. The feed reads
each building's energy registers (``energy_kwh``, every channel; a gas meter counting m³ with
its ``kwh_per_m3``), its indoor temperatures and CO2 (readings without a channel) and its outdoor
probes, and turns them into :class:`analytics.energy.building_hours.BuildingHours`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from analytics.detectors.base import Subject
from analytics.energy.building_hours import BuildingHours, Register, build, hour_grid
from analytics.findings import SubjectKind
from analytics.kpi.inventory import BuildingInfo, portfolio_buildings
from core.calendar import FrenchCalendar
from core.config import DEFAULT_ZONE, KpiSettings
from core.series import FloatArray, Int64Array, SeriesSet
from core.state.models import Tenant
from core.state.store import StateStore
from core.timeseries import Selection, TimeSeriesStore

MARGIN = timedelta(hours=3)  # readings before the window frame its first hours


@dataclass(frozen=True)
class Buildings:
    """Every building with a meter or an indoor sensor; ``parameters["info"]`` is its
    :class:`BuildingInfo`."""

    name: str = "buildings"

    def load(self, state: StateStore, tenant: str | None = None) -> list[Subject]:
        if tenant is None:
            with state.session() as s:
                roots = list(s.scalars(select(Tenant.code).where(Tenant.parent_id.is_(None))))
        else:
            roots = [tenant]  # its own buildings are in its portfolio, with its members'
        out = []
        for root in sorted(roots):
            for info in portfolio_buildings(state, root):
                devices = tuple(m.device for m in info.meters) + info.climate
                if devices and tenant in (None, info.tenant):
                    out.append(building_subject(info))
        return out


def building_subject(info: BuildingInfo) -> Subject:
    devices = tuple(m.device for m in info.meters) + info.climate
    return Subject(info.tenant, SubjectKind.BUILDING, info.code, devices, {"info": info})


@dataclass(frozen=True)
class BuildingHoursFeed:
    """Each subject's :class:`BuildingHours` over the window (a list, rows follow the subjects)."""

    name: str = "building_hours"
    calendar: FrenchCalendar = field(default_factory=FrenchCalendar)
    settings: KpiSettings = field(default_factory=KpiSettings)

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> list[BuildingHours]:
        infos: list[BuildingInfo] = [s.parameters["info"] for s in subjects]
        settings = self.settings.model_copy(update={"zone": zone})
        meters = [m.device for i in infos for m in i.meters]
        climate = [d for i in infos for d in i.climate]
        probes = [p for i in infos for p in i.outdoor]
        lo = start - MARGIN
        energy = _by_key(store.read(Selection.of("energy_kwh", meters), lo, end)) if meters else {}
        volume = _by_key(store.read(Selection.of("volume_m3", meters), lo, end)) if meters else {}
        temps = (
            _by_key(store.read(Selection.of("temperature_c", climate, channel=None), lo, end))
            if climate
            else {}
        )
        co2 = (
            _by_key(store.read(Selection.of("co2_ppm", climate, channel=None), lo, end))
            if climate
            else {}
        )
        outdoor = (
            _by_key(
                store.read(
                    Selection.of("temperature_c", sorted({p.device for p in probes})), lo, end
                )
            )
            if probes
            else {}
        )
        hours = hour_grid(start, end)
        out = []
        for info in infos:
            registers: list[Register] = []
            for m in info.meters:
                own = {k: v for k, v in energy.items() if k[0] == m.device}
                factor = 1.0
                if not own and m.carrier == "gas" and m.kwh_per_m3 is not None:
                    own, factor = (
                        {k: v for k, v in volume.items() if k[0] == m.device},
                        m.kwh_per_m3,
                    )
                for (device, channel), (t, v) in sorted(own.items(), key=lambda kv: str(kv[0])):
                    registers.append(
                        Register(device, channel, m.carrier, m.heating_share, t, v * factor)
                    )
            out.append(
                build(
                    info,
                    hours,
                    registers,
                    [temps[(d, None)] for d in info.climate if (d, None) in temps],
                    [(d, *co2[(d, None)]) for d in info.climate if (d, None) in co2],
                    [
                        outdoor[(p.device, p.channel)]
                        for p in info.outdoor
                        if (p.device, p.channel) in outdoor
                    ],
                    self.calendar,
                    settings,
                )
            )
        return out


def _by_key(series: SeriesSet) -> dict[tuple[str, str | None], tuple[Int64Array, FloatArray]]:
    return {(k.device, k.channel): series.series(i) for i, k in enumerate(series.keys)}


BUILDINGS = Buildings()
BUILDING_HOURS = BuildingHoursFeed()

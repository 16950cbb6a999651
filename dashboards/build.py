"""Write the dashboards' JSON: ``python -m dashboards.build`` after changing a dashboard."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from dashboards import JSON_DIR
from dashboards.buildings import building_energy, indoor_climate, sobriety_kpis
from dashboards.devices import device_health
from dashboards.networks import carpool, river_levels, water_network

DASHBOARDS: tuple[Callable[[], dict[str, object]], ...] = (
    building_energy,
    indoor_climate,
    water_network,
    river_levels,
    carpool,
    sobriety_kpis,
    device_health,
)


def render(dashboard: dict[str, object]) -> str:
    """The committed form: sorted keys, two-space indent, a final newline."""
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard, as the builders make them now."""
    out = {}
    for make in DASHBOARDS:
        d = make()
        out[f"{d['uid']}.json"] = render(d)
    return out


def write(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else JSON_DIR):
        print(p)

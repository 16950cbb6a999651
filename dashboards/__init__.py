"""Grafana dashboards as code: built with Grafana's foundation SDK, committed as JSON."""

from pathlib import Path

JSON_DIR = Path(__file__).parent / "json"  # the built dashboards, one file per uid
PROVISIONING_DIR = Path(__file__).parent / "provisioning"

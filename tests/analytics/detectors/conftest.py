"""The KPI tests' territory (registry and SQLite series) for the energy feed tests."""

from tests.analytics.kpi.conftest import (  # noqa: F401 (fixtures)
    kpi_registry,
    kpi_series,
    kpi_state,
    kpi_store,
)

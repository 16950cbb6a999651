"""The ingest fixtures (registry, stores, pipeline factory), shared with the demo's broker tests."""

from tests.ingest.conftest import clock, make_pipeline, series, state

__all__ = ["clock", "make_pipeline", "series", "state"]

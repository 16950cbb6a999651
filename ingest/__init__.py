"""Vigie ingest package."""

"""Vigie analytics package."""

"""Vigie api package."""

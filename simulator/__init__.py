"""Vigie simulator package."""

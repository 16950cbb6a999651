"""Vigie vigie package."""

"""Vigie core package."""

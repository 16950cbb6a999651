"""Vigie test suite: mirrors the source tree."""

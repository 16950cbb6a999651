"""Watches: each reads what is new in the stores, runs its detectors, and tells the alert engine."""

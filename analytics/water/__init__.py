"""Water analytics: household, building and sector leak detectors."""

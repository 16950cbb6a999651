"""Evaluation harnesses: detectors scored against ground truths (not imported by production)."""

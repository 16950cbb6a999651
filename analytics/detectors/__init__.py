"""Detectors: each module that defines ``DETECTOR`` is one, found by ``registry``."""

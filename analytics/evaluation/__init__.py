"""Evaluation harnesses: detectors scored against injected faults and real data.

No production process imports them (a test checks it).
"""

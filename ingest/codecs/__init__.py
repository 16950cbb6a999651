"""Payload codecs, one module per device model (see base.py for the contract)."""

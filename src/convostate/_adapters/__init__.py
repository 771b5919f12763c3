"""Adapters for the ports: the in-memory defaults and the clocks."""

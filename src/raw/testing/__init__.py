"""Fixtures and harnesses shipped to users for testing their RAW systems."""

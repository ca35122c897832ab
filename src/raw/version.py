"""The kit's version, in a module of its own so any part can read it without importing ``raw``."""

from __future__ import annotations

__version__ = "0.1.0"

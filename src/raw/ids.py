"""Ids the kit makes: run ids, and the ids of mail, chat and gate records, which share their form.

An id sorts by time and never collides: a UTC timestamp to the microsecond, then
random hex.
"""

from __future__ import annotations

import secrets
from datetime import datetime

__all__ = ["new_run_id"]


def new_run_id(at: datetime) -> str:
    """A run id that sorts by time, e.g. ``20261125T133012123456Z-a1b2c3``."""
    return at.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)

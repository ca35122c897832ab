"""Deprecated: the cron check moved to :mod:`raw.config.cron`.

Each name still answers here for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from raw._moved import moved_names

__getattr__ = moved_names(
    __name__, dict.fromkeys(("InvalidCronError", "check_cron"), "raw.config.cron")
)

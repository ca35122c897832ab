"""A project's ``.env``, loaded at the start of a run as the original runtime loaded it.

The first ``.env`` found from the workflow's folder upwards (its folder, the
project's root, then the folders above it, up to the home folder) is read, and its
variables are set where the environment does not already have them: the
environment always wins. ``raw run`` and ``python run.py`` load it; a plain script
that ``raw run`` starts inherits what was loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from raw._loggers import logger

__all__ = ["find_dotenv", "load_dotenv"]

_log = logger("raw.workflow")


def find_dotenv(start: Path) -> Path | None:
    """The first ``.env`` file in ``start`` or a folder above it, not above the home folder."""
    home = Path.home().resolve()
    current = start.resolve()
    while True:
        candidate = current / ".env"
        if candidate.is_file():
            return candidate
        if current == home or current.parent == current:
            return None
        current = current.parent


def load_dotenv(start: Path) -> dict[str, str]:
    """Set the variables of the ``.env`` above ``start`` that are not set; returns those set."""
    path = find_dotenv(start)
    if path is None:
        return {}
    try:
        # Lazy: python-dotenv is read only when a .env exists (raw run's start-up time).
        from dotenv import dotenv_values
    except ImportError:
        _log.warning(
            "%s was not loaded: python-dotenv is not installed "
            "(pip install 'raw-systems[original]').",
            path,
        )
        return {}
    loaded = {}
    for key, value in dotenv_values(path).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
            loaded[key] = value
    return loaded

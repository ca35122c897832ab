"""Reading the settings (environment variables) that hold the integrations' secrets."""

from __future__ import annotations

import os

from raw.integrations.errors import SettingMissingError


def read_setting(name: str, *, key: str) -> str:
    """The value of the setting ``name``; ``key`` is the config key that names it."""
    value = os.environ.get(name, "")
    if not value.strip():
        raise SettingMissingError(name, key=key)
    return value


def optional_setting(name: str | None) -> str | None:
    if name is None:
        return None
    return os.environ.get(name) or None

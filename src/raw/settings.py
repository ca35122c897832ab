"""Deprecated: the settings read from the environment moved to :mod:`raw.config.settings`.

Each name still answers here for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from raw._moved import moved_names

__getattr__ = moved_names(
    __name__, dict.fromkeys(("LLMSettings", "StructuredOutput"), "raw.config.settings")
)

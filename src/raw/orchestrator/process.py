"""Deprecated: this module is now :mod:`raw.orchestrator.workflow`.

Each name still answers here for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from typing import Any

from raw.orchestrator import _deprecated


def __getattr__(name: str) -> Any:
    return _deprecated.resolve(__name__, name, _deprecated.PROCESS_NAMES)

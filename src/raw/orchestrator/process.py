"""Deprecated: this module is now :mod:`raw.orchestrator.workflow`.

Each name still answers here for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from raw._moved import moved_names as _moved_names
from raw.orchestrator import _deprecated

__getattr__ = _moved_names(__name__, _deprecated.PROCESS_NAMES)

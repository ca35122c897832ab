"""Where the local adapters keep what they record (mail, calls, storage, chat, services.json).

Under the project's ``.raw/`` by default. ``RAW_LOCAL_STATE_DIR`` moves all of it
elsewhere, so a simulation (``raw simulate``) or a test keeps its own emails,
calls and objects apart from a running ``raw up``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LOCAL_STATE_SETTING", "local_path"]

LOCAL_STATE_SETTING = "RAW_LOCAL_STATE_DIR"


def local_path(project_dir: Path | str, relative: Path | str) -> Path:
    """The path of ``relative`` (e.g. ``.raw/mail``) for the project, honouring the setting."""
    path = Path(relative)
    if path.is_absolute():
        return path
    override = os.environ.get(LOCAL_STATE_SETTING)
    if override and path.parts[:1] == (".raw",):
        return Path(override) / Path(*path.parts[1:])
    return Path(project_dir) / path

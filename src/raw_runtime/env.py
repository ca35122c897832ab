"""``.env`` files, as the original runtime read them: ``load_dotenv`` and ``find_dotenv``.

The original searched the working directory and its parents for the first
``.env`` and loaded it without overriding variables already set. So does this;
inside a run the project's root is searched too, wherever the working directory is.
The file is parsed by python-dotenv (quotes, ``export``, comments and escapes as
shells write them).
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from raw.workflow.context import current_run
from raw_runtime._refused import refuse

__all__ = ["dotenv_path", "ensure_env_loaded", "find_dotenv", "load_dotenv", "read_dotenv"]


def _project_root() -> Path | None:
    run = current_run()
    if run is None or run.workflow_dir is None:
        return None
    for folder in run.workflow_dir.resolve().parents:
        if (folder / ".raw").is_dir():
            return folder
    return None


def find_dotenv(start_path: Path | str | None = None) -> Path | None:
    """The first ``.env`` in ``start_path`` (default: the working directory) or a parent.

    Without ``start_path``, inside a run, the project's root is tried as well.
    """
    start = Path(start_path) if start_path is not None else Path.cwd()
    folders = [start.resolve(), *start.resolve().parents]
    if start_path is None:
        root = _project_root()
        if root is not None and root not in folders:
            folders.append(root)
    for folder in folders:
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


dotenv_path = find_dotenv


def read_dotenv(path: Path | str | None = None) -> dict[str, str]:
    """The variables of the ``.env`` found from ``path``, without touching the environment."""
    found = find_dotenv(path)
    if found is None:
        return {}
    return {k: v for k, v in dotenv_values(found).items() if v is not None}


def load_dotenv(path: Path | str | None = None) -> dict[str, str]:
    """Load the ``.env`` found from ``path`` into the environment; return what it set.

    Variables already in the environment keep their values, as in the original.
    """
    loaded: dict[str, str] = {}
    for key, value in read_dotenv(path).items():
        if key not in os.environ and value:
            os.environ[key] = value
            loaded[key] = value
    return loaded


def ensure_env_loaded() -> None:
    """Load ``.env`` (the original's start-up call)."""
    load_dotenv()


__getattr__ = refuse(__name__)

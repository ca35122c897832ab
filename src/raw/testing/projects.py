"""Copies of a project for tests and benchmarks: its code and config, none of its local state.

What ``raw up``, ``raw simulate``, ``raw gates`` and runs leave behind (databases,
the engine's files, development secrets, captured email and calls, stored objects,
run records, caches) stays out, so each copy starts as a fresh clone would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from raw.local_state import raw_dir_entries

__all__ = ["LOCAL_STATE", "copy_project"]

LOCAL_STATE = raw_dir_entries()
"""Entries of ``.raw/`` that are local state, not part of the project."""

_EVERYWHERE = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_DATABASE_FILES = (".db", ".db-wal", ".db-shm")


def copy_project(source: Path, target: Path) -> Path:
    """Copy the project at ``source`` to ``target`` (which must not exist); returns ``target``."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        skip = {n for n in names if n in _EVERYWHERE}
        if here.name == ".raw":
            skip |= {n for n in names if n in LOCAL_STATE or n.endswith(_DATABASE_FILES)}
        if here.parent.name == "workflows":
            skip |= {n for n in names if n == "runs"}
        return skip

    shutil.copytree(source, target, ignore=ignore)
    return target

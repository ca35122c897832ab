"""The hiring example, as a user gets it: its folder, and a fresh copy when a test writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"
_STATE = {
    "local.env",
    "temporal",
    "integrations",
    "mail",
    "calls",
    "storage",
    "chat",
    "simulate",
    "runs",
    "cache",
}


def copy_hiring(target: Path) -> Path:
    """A copy of the hiring example without any local state (databases, runs, secrets)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in ("__pycache__", ".pytest_cache")}
        if Path(folder).name == ".raw":
            skip |= {n for n in names if n in _STATE or n.endswith((".db", ".db-wal", ".db-shm"))}
        if Path(folder).parent.name == "workflows":
            skip |= {n for n in names if n == "runs"}
        return skip

    shutil.copytree(HIRING, target, ignore=ignore)
    return target


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RAW_*, DATABASE_URL or TEMPORAL_ADDRESS leaking in from the host."""
    for name in list(os.environ):
        if name.startswith("RAW_") or name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(name)

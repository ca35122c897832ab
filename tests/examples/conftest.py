"""The hiring example, as a user gets it: its folder, and a fresh copy when a test writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raw.testing.projects import copy_project

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"


def copy_hiring(target: Path) -> Path:
    """A copy of the hiring example without any local state (databases, runs, secrets)."""
    return copy_project(HIRING, target)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RAW_*, DATABASE_URL or TEMPORAL_ADDRESS leaking in from the host."""
    for name in list(os.environ):
        if name.startswith("RAW_") or name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(name)

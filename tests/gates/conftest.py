"""Fixtures: the generated full system (tests/scaffold/systems.py), to break in copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.scaffold.systems import generated


@pytest.fixture(scope="session")
def full_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "full")

"""Fixtures: each pattern's generated project (see tests/scaffold/systems.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .systems import generated


@pytest.fixture(scope="session")
def single_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "single")


@pytest.fixture(scope="session")
def temporal_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "temporal")


@pytest.fixture(scope="session")
def full_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "full")

"""Fixtures for the operator page's tests: a small system over HTTP, and a real Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from raw.project import Project

from .chromium import INSTALL_HINT, chromium_executable


@pytest.fixture
def ops_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with the ops system's secrets set and no host settings."""
    from .ops_system import ENV

    for name in list(os.environ):
        if name.startswith("RAW_") or name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(name)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "ops"
    (root / ".raw" / "workflows").mkdir(parents=True)
    return root


@pytest.fixture
def ops_project(ops_root: Path) -> Callable[..., Project]:
    """``ops_project(processes=False, entities=True)``: the ops system with that config."""
    from .ops_system import config

    def make(**options: bool) -> Project:
        (ops_root / ".raw" / "config.yaml").write_text(config(**options), encoding="utf-8")
        return Project(ops_root)

    return make


@pytest.fixture
def ops_db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system's Chromium; a missing one fails under CI=true and skips (loudly) elsewhere."""
    path = chromium_executable()
    if path is not None:
        return path
    message = (
        "BROWSER TESTS SKIPPED: Chromium is not installed, so the operator page's browser "
        f"tests cannot run. Install it with: {INSTALL_HINT}  (make test does it on CI)."
    )
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message.replace("SKIPPED", "FAILED") + " CI=true needs it.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests write screenshots: $RAW_ARTIFACTS_DIR/operator, else the
    pytest run's temp folder (``<basetemp>/operator-screenshots``, shared by xdist workers)."""
    configured = os.environ.get("RAW_ARTIFACTS_DIR")
    if configured:
        folder = Path(configured) / "operator"
    else:
        base = tmp_path_factory.getbasetemp()
        if base.name.startswith("popen-gw"):
            base = base.parent
        folder = base / "operator-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder

"""Fixtures for the coordinator tests; each part's fixtures carry its prefix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raw.testing.postgres import (  # noqa: F401 - fixtures, used by name
    raw_postgres_server,
    raw_postgres_url,
)
from raw.testing.pytest_plugin import (  # noqa: F401 - fixtures, used by name
    raw_dev_server_env,
    raw_task_queue,
    raw_worker,
)

# --- the dispatcher: fixtures prefixed dispatch_ ---------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def dispatch_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database for the inbox, on SQLite (a WAL file) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}"
    url: str = request.getfixturevalue("raw_postgres_url")
    return url


@pytest.fixture
def dispatch_sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite file database for the inbox."""
    return f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}"


# --- the database layer: fixtures prefixed db_ -----------------------------------------


@pytest.fixture
def db_sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite file database (not migrated)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'coordinator.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, db_sqlite_url: str) -> str:
    """An empty database (not migrated), on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return db_sqlite_url
    url: str = request.getfixturevalue("raw_postgres_url")
    return url


@pytest.fixture
def db_migrated_url(db_url: str) -> str:
    """``db_url`` with the kit's tables migrated."""
    import asyncio

    from raw.coordinator.db.database import upgrade

    asyncio.run(upgrade(db_url))
    return db_url


# --- the webhook routes and the REST API: fixtures prefixed hook_ -------------------------

if TYPE_CHECKING:
    from conftest import Project as HookTestProject
    from raw.project import Project as HookProject


@pytest.fixture
def hook_project(project: HookTestProject, monkeypatch: pytest.MonkeyPatch) -> HookProject:
    """A project declaring the test system's webhook routes, with their secrets set."""
    from coordinator.webhook_fixtures import CONFIG, ENV
    from raw.project import Project as RawProject

    (project.root / ".raw" / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    return RawProject(project.root)


@pytest.fixture(params=["sqlite", "postgresql"])
def hook_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The coordinator's database, on a SQLite file and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hooks.db'}"
    url: str = request.getfixturevalue("raw_postgres_url")
    return url

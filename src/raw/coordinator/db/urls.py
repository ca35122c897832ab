"""The kit's database URL, as plain string work: no SQLAlchemy, no driver loaded.

:mod:`raw.coordinator.db.database` re-exports these names; ``raw up`` reads the URL
here without loading SQLAlchemy (:mod:`raw.coordinator.db.heads`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from raw.config.database import TLSConflictError, with_tls
from raw.errors import RawError
from raw.local_state import DATABASE_FILE as DEFAULT_FILE
from raw.redact import redact_url

if TYPE_CHECKING:
    from raw.project import Project

__all__ = ["DatabaseError", "DatabaseURLError", "database_url", "normalize_url"]

_POSTGRES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
_SQLITE = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}


class DatabaseError(RawError):
    """The kit's database cannot be used."""


class DatabaseURLError(DatabaseError):
    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(
            f"The database URL '{self.url}' cannot be used: {reason}. Set DATABASE_URL or "
            "system.coordinator.database_url to a URL such as 'sqlite:///.raw/coordinator.db' "
            "or 'postgresql://user:password@host:5432/dbname'."
        )


# -- URLs (plain string work: no driver is loaded to read or show a URL)


def normalize_url(url: str, *, sync: bool = False, base_dir: Path | None = None) -> str:
    """The SQLAlchemy URL for ``url`` with the kit's drivers.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; ``sqlite:///``
    becomes ``sqlite+aiosqlite:///`` (or plain ``sqlite:///`` with ``sync=True``). A
    relative SQLite path is taken from ``base_dir`` (the project's root) when given.
    """
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        raise DatabaseURLError(url, "it has no scheme such as 'sqlite://' or 'postgresql://'")
    scheme = scheme.lower()
    if scheme in _POSTGRES or scheme == "postgresql+asyncpg":
        keep_asyncpg = scheme == "postgresql+asyncpg" and not sync
        driver = "postgresql+asyncpg" if keep_asyncpg else "postgresql+psycopg"
        return f"{driver}://{rest}"
    if scheme in _SQLITE:
        driver = "sqlite" if sync else "sqlite+aiosqlite"
        path, qmark, query = rest.partition("?")
        if path.startswith("/"):
            path = path[1:]  # sqlite:///rel.db -> "rel.db"; sqlite:////abs.db -> "/abs.db"
            memory = path in ("", ":memory:") or path.startswith("file:")
            if base_dir is not None and not memory and not Path(path).is_absolute():
                path = str(base_dir / path)
            path = "/" + path
        elif path:
            raise DatabaseURLError(
                url, "a SQLite URL has no host: write 'sqlite:///path/to/file.db'"
            )
        return f"{driver}://{path}{qmark}{query}"
    name = scheme.split("+")[0]
    raise DatabaseURLError(url, f"'{name}' is not a supported database (use sqlite or postgresql)")


def database_url(project: Project | None) -> str:
    """The project's database: ``DATABASE_URL`` > config > a SQLite file under ``.raw/``.

    A relative SQLite path (``sqlite:///data/app.db``) is taken from the project's root,
    so every command and every run in the project finds the same file. A PostgreSQL URL
    gets ``system.coordinator.database_tls`` in its query (relative certificate paths
    from the project's root).
    """
    coordinator = project.config.system.coordinator if project is not None else None
    configured = os.environ.get("DATABASE_URL") or (
        coordinator.database_url if coordinator is not None else None
    )
    if configured:
        base_dir = project.root if project is not None else None
        url = normalize_url(configured, base_dir=base_dir)
        if coordinator is None:
            return url
        try:
            return with_tls(url, coordinator.database_tls, base_dir)
        except TLSConflictError as exc:
            raise DatabaseURLError(url, str(exc)) from None
    if project is None:
        raise DatabaseURLError("", "no database is configured and there is no project")
    return f"sqlite+aiosqlite:///{project.raw_dir / DEFAULT_FILE}"

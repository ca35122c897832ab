"""Whether a SQLite database is already at its migrations' heads, read without Alembic.

``raw up`` and ``raw serve`` migrate on every start, and most starts find nothing due:
loading SQLAlchemy and Alembic's machinery to learn that cost about a second of CPU
(benchmarks/README.md, ``system_up.py``). The heads are read from the revision files'
``revision`` and ``down_revision`` lines (:func:`script_head`); :func:`sqlite_at_head`
reads the version tables with the standard library's ``sqlite3`` (``raw up``, no
SQLAlchemy loaded), :func:`at_head` on a connection already open (:func:`upgrade`
skips Alembic then). Each answers True only when it is sure (every revision file read,
one head, the table holding exactly that head); anything else is False, and the
caller runs Alembic's upgrade as before.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from raw.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from raw.project import Project

__all__ = ["at_head", "kit_head", "migrations_folder", "script_head", "sqlite_at_head"]

KIT_VERSION_TABLE = "raw_alembic_version"
SYSTEM_VERSION_TABLE = "alembic_version"

_REVISION = re.compile(r"""(?m)^revision(?:\s*:[^=\n]*)?\s*=\s*['"]([^'"\n]+)['"]\s*$""")
_DOWN = re.compile(r"""(?m)^down_revision(?:\s*:[^=\n]*)?\s*=\s*(.+?)\s*$""")
_QUOTED = re.compile(r"""['"]([^'"\n]+)['"]""")


def migrations_folder(project: Project) -> Path | None:
    """The system's Alembic folder, or None when it declares none."""
    folder = project.config.system.coordinator.migrations
    if folder is None:
        return None
    path = (project.root / folder).resolve()
    if not (path / "env.py").is_file():
        raise ConfigError(
            f"system.coordinator.migrations '{folder}' is not an Alembic folder: "
            f"{path / 'env.py'} does not exist."
        )
    return path


def script_head(versions: Path) -> str | None:
    """The one head of the revision files in ``versions``; None when unsure.

    Unsure: a file whose ``revision`` or ``down_revision`` line is not a plain literal,
    no revision at all, or more than one head.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        files = sorted(versions.glob("*.py"))
        for file in files:
            if file.name.startswith("__"):
                continue
            source = file.read_text(encoding="utf-8")
            revision = _REVISION.findall(source)
            down = _DOWN.findall(source)
            if len(revision) != 1 or len(down) != 1:
                return None
            value = down[0].split("#", 1)[0].strip()
            if value != "None" and not _QUOTED.search(value):
                return None
            revisions.add(revision[0])
            parents.update(_QUOTED.findall(value))
    except (OSError, UnicodeDecodeError):
        return None
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


@functools.cache
def kit_head() -> str | None:
    """The head of the kit's shipped revisions, read from their files (see script_head)."""
    versions = resources.files("raw.coordinator.db").joinpath("migrations", "versions")
    return script_head(Path(str(versions)))


def at_head(connection: Connection, table: str, head: str | None) -> bool:
    """Whether the version ``table`` holds exactly ``head`` (SQLite or PostgreSQL; else False).

    The table's existence is asked first, so a PostgreSQL transaction never sees an error.
    """
    if head is None:
        return False
    # Lazy: this module must import without SQLAlchemy (raw up's check, sqlite_at_head).
    from sqlalchemy import text

    dialect = connection.dialect.name
    if dialect == "sqlite":
        ask = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :table"
    elif dialect == "postgresql":
        ask = "SELECT to_regclass(:table) IS NOT NULL"
    else:
        return False
    if not connection.execute(text(ask), {"table": table}).scalar():
        return False
    rows = connection.execute(text(f"SELECT version_num FROM {table}")).scalars()  # noqa: S608
    return {str(row) for row in rows} == {head}


def sqlite_file_of(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite[+driver]:///path``, no query); else None."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite" or "?" in rest or not rest.startswith("/"):
        return None
    path = rest[1:]
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path)


def _versions_in(connection: sqlite3.Connection, table: str) -> set[str]:
    rows = connection.execute(f"SELECT version_num FROM {table}").fetchall()  # noqa: S608
    return {str(row[0]) for row in rows}


def sqlite_at_head(url: str, project: Project) -> bool:
    """Whether the SQLite database at ``url`` has nothing due, the kit's and the system's."""
    path = sqlite_file_of(url)
    if path is None or not path.is_file():
        return False
    wanted = [(KIT_VERSION_TABLE, kit_head())]
    try:
        system = migrations_folder(project)
    except ConfigError:  # the migrations say it, as before
        return False
    if system is not None:
        wanted.append((SYSTEM_VERSION_TABLE, script_head(system / "versions")))
    if any(head is None for _, head in wanted):
        return False
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        return all(_versions_in(connection, table) == {head} for table, head in wanted)
    except sqlite3.Error:  # no such table (never migrated), locked, not a database
        return False
    finally:
        connection.close()

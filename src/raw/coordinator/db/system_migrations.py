"""The system's own migrations, run after the kit's: ``system.coordinator.migrations``.

A system keeps its models beside the kit's tables, with an Alembic folder of its
own (``env.py`` + ``versions/``) and its own version table (Alembic's default,
``alembic_version``; the kit's is ``raw_alembic_version``). ``raw db upgrade`` and
the coordinator's start-up run them; the folder's ``env.py`` receives the
connection in ``config.attributes["connection"]``, as the kit's own does::

    def run_online() -> None:
        connection = context.config.attributes["connection"]
        context.configure(connection=connection, target_metadata=HiringBase.metadata)
        with context.begin_transaction():
            context.run_migrations()
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from sqlalchemy import text

from raw.coordinator.db.database import _MIGRATION_LOCK, Database, _run, sqlite_file
from raw.coordinator.db.heads import (
    SYSTEM_VERSION_TABLE,
    at_head,
    migrations_folder,
    script_head,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from raw.project import Project


def _upgrade(connection: Connection, location: Path, root: Path, revision: str) -> str | None:
    if revision == "head":
        head = script_head(location / "versions")
        if at_head(connection, SYSTEM_VERSION_TABLE, head):
            return head
    # Lazy: alembic loads only to migrate, not for every use of the database.
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    if str(root) not in sys.path:  # env.py imports the system's models
        sys.path.insert(0, str(root))
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    current: str | None = MigrationContext.configure(connection).get_current_revision()
    return current


async def upgrade_system(db: Database, project: Project, *, revision: str = "head") -> str | None:
    """Migrate the system's own tables; None when it has no migrations folder."""
    location = migrations_folder(project)
    if location is None:
        return None
    path = sqlite_file(db.url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    async def migrate(conn: AsyncConnection) -> str | None:
        if db.dialect == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        current: str | None = await conn.run_sync(_upgrade, location, project.root, revision)
        return current

    result: str | None = await _run(db, migrate, write=True)
    return result

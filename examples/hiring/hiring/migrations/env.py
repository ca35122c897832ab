"""Alembic environment for the hiring system's own tables (run by ``raw db upgrade``).

The kit hands over a connection in a transaction (``config.attributes["connection"]``).
Write a new revision with ``alembic -c hiring/migrations/alembic.ini revision
--autogenerate -m "..."`` against a database at head.
"""

from __future__ import annotations

from alembic import context
from hiring.tables import HiringBase
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

config = context.config


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=HiringBase.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if isinstance(given, Connection):
    _migrate(given)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=NullPool)
    with engine.connect() as connection:
        _migrate(connection)
        connection.commit()
    engine.dispose()

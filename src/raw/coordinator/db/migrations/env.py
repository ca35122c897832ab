"""Alembic environment for the kit's own tables (``raw db upgrade``).

Run programmatically by :func:`raw.coordinator.db.database.upgrade`, which hands
over a connection already in a transaction (``config.attributes["connection"]``).
The version table is ``raw_alembic_version`` so a system's own migrations, with
their ``alembic_version``, live beside these in the same database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from raw.coordinator.db.database import VERSION_TABLE, normalize_url
from raw.coordinator.db.models import KitBase

config = context.config
target_metadata = KitBase.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=normalize_url(config.get_main_option("sqlalchemy.url") or "", sync=True),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _migrate(given)
        return
    url = normalize_url(config.get_main_option("sqlalchemy.url") or "", sync=True)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _migrate(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

"""Trace ids: the inbox record's traceparent and trace id, the run index's trace id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite alters a table by copying it; PostgreSQL gets plain ALTERs.
    with op.batch_alter_table("raw_inbox") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("raw_runs") as batch:
        batch.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_runs") as batch:
        batch.drop_column("trace_id")
    with op.batch_alter_table("raw_inbox") as batch:
        batch.drop_column("trace_id")
        batch.drop_column("traceparent")

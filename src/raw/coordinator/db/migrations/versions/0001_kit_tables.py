"""The kit's tables: webhook deliveries, the inbox, the RAW run index.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "raw_webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("scheme", sa.String(length=50), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("body_purged_at", _utc(), nullable=True),
        sa.Column("entity_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_raw_webhook_deliveries"),
        sa.UniqueConstraint("route", "delivery_key", name="uq_raw_delivery_key"),
    )
    op.create_index(
        "ix_raw_webhook_deliveries_correlation_id", "raw_webhook_deliveries", ["correlation_id"]
    )
    op.create_index(
        "ix_raw_webhook_deliveries_entity_key", "raw_webhook_deliveries", ["entity_key"]
    )

    op.create_table(
        "raw_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("target_process_id", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("done_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_raw_inbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_raw_inbox_idempotency_key"),
    )
    op.create_index("ix_raw_inbox_correlation_id", "raw_inbox", ["correlation_id"])
    op.create_index("ix_raw_inbox_delivery_id", "raw_inbox", ["delivery_id"])
    op.create_index("ix_raw_inbox_due", "raw_inbox", ["status", "next_attempt_at"])

    op.create_table(
        "raw_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("workflow", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dry", sa.Boolean(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.Column("entry_point", sa.String(length=50), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_raw_runs"),
    )
    op.create_index("ix_raw_runs_correlation_id", "raw_runs", ["correlation_id"])
    op.create_index("ix_raw_runs_started_at", "raw_runs", ["started_at"])
    op.create_index("ix_raw_runs_status", "raw_runs", ["status"])
    op.create_index("ix_raw_runs_workflow", "raw_runs", ["workflow"])


def downgrade() -> None:
    op.drop_table("raw_runs")
    op.drop_table("raw_inbox")
    op.drop_table("raw_webhook_deliveries")

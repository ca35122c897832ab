"""The candidates table.

Revision ID: 0001_candidates
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_candidates"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hiring_candidates",
        sa.Column("candidate_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("cv_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("qualified", sa.Boolean(), nullable=True),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("llm", sa.String(16), nullable=True),
        sa.Column("call_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("call_attempts", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cv_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_hiring_candidates")),
    )
    op.create_index(
        op.f("ix_hiring_candidates_status"), "hiring_candidates", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_hiring_candidates_submitted_at"),
        "hiring_candidates",
        ["submitted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hiring_candidates_submitted_at"), table_name="hiring_candidates")
    op.drop_index(op.f("ix_hiring_candidates_status"), table_name="hiring_candidates")
    op.drop_table("hiring_candidates")

"""The system's own state: one row per candidate, beside the kit's tables.

Migrated by ``raw db upgrade`` from ``hiring/migrations`` (named in
``system.coordinator.migrations``). The webhook handler writes the first row; the
hiring process is the only writer of its status after that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES = (
    "received",  # the form arrived; the process is starting
    "screening",  # analyze-cv runs
    "rejected",
    "awaiting-booking",  # the scheduling email went out
    "reminded",  # 7 days without a booking: a reminder went out
    "no-booking",  # still none after the reminder: withdrawn by us
    "call-scheduled",
    "calling",
    "call-retry",  # not answered: another attempt later
    "unreachable",  # every attempt unanswered
    "summarising",
    "completed",
    "withdrawn",  # the candidate withdrew
)


class HiringBase(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Candidate(HiringBase):
    __tablename__ = "hiring_candidates"

    candidate_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(32))
    position: Mapped[str] = mapped_column(String(200))
    cv_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    qualified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    llm: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="'recorded' or 'provider': where the analysis came from"
    )
    call_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    call_attempts: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cv_erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def booking_token(row: Candidate) -> str:
    """What the candidate's booking link carries to show a booking came through it.

    The correlation id the coordinator gave the delivery that created the row: 128
    random bits, kept on the row, written only into the candidate's own emails (and
    shown to operators). It cannot be worked out from the email address, as the
    candidate id can (which stays a hash of it, so a CV sent again finds the same
    candidate and process).
    """
    return row.correlation_id or ""

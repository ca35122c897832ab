"""The kit's own tables, beside which the user's models live (with their own migrations).

``KitBase.metadata`` holds only the kit's tables; Alembic migrates them from the
revisions shipped in ``raw/coordinator/db/migrations``. Times are stored in UTC.

- ``raw_webhook_deliveries``: every accepted delivery, once per (route, delivery
  key); the first answer is kept so a repeat gets it back unchanged.
- ``raw_inbox``: the action a delivery asks for, committed in the same transaction
  as the delivery and the user's entity change, taken by a dispatcher under a
  lease, retried with backoff, dead-lettered after the configured attempts.
- ``raw_runs``: an index of RAW runs from every entry point (CLI, coordinator,
  worker), with the manifest and the end of the log, so the API sees runs made on
  other machines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class KitBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp in UTC on PostgreSQL and SQLite alike.

    SQLite keeps no zone: what is written is turned to UTC first, and what is read
    back gets UTC again, so an API returns ``...Z`` on either database. Use it for
    a system's own tables too (``mapped_column(UTCDateTime())``).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # naive values are taken as UTC, as the kit writes them
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Delivery(KitBase):
    __tablename__ = "raw_webhook_deliveries"
    __table_args__ = (UniqueConstraint("route", "delivery_key", name="uq_raw_delivery_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route: Mapped[str] = mapped_column(String(200))
    """The route's name from its declaration."""
    delivery_key: Mapped[str] = mapped_column(String(300))
    """The delivery id (a scheme's header) or the key taken from the body."""
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scheme: Mapped[str] = mapped_column(String(50))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The first answer's JSON body, returned again to every repeat."""
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The raw body, kept for the route's retention period, then purged."""
    body_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    entity_key: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    """The business key of the entity the delivery concerns (for erasure on request)."""


class InboxRecord(KitBase):
    __tablename__ = "raw_inbox"
    __table_args__ = (Index("ix_raw_inbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    route: Mapped[str] = mapped_column(String(200))
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What to do: {"kind": "run_workflow"|"start_process"|"signal"|"signal_with_start", ...}."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The validated body the action works on."""
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    """Stable across attempts: the RAW run's self.idempotency_key, the signal's key."""
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    target_process_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending | in_progress | done | dead"""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    traceparent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The W3C traceparent of the webhook route's span (tracing on), the dispatcher's parent."""
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The delivery's trace id (32 hex), for finding its trace in a tracing backend."""


class RunIndex(KitBase):
    __tablename__ = "raw_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    dry: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(nullable=True)
    entry_point: Mapped[str | None] = mapped_column(String(50), nullable=True)
    host: Mapped[str | None] = mapped_column(String(200), nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    log_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The run's trace id (32 hex) when it was traced."""

"""What the operator page reads from the database: entities, the inbox, deliveries, runs.

The same tables and the same views as ``/api/...`` (:class:`InboxRecordView`,
:class:`DeliveryView`, :class:`RunRecord`), so what a page shows is what the API
answers, secret-looking fields hidden alike. Each function is one query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy import column, func, select, table
from sqlalchemy.exc import SQLAlchemyError

from raw.coordinator.api import DeliveryView, InboxRecordView
from raw.coordinator.db.models import Delivery, InboxRecord, RunIndex
from raw.coordinator.db.run_index import RunRecord

if TYPE_CHECKING:
    from sqlalchemy.sql.expression import TableClause

    from raw.config.coordinator import EntityConfig
    from raw.coordinator.db.database import Database
    from raw.coordinator.metrics import CoordinatorMetrics

__all__ = [
    "FAILED_RUN_STATUSES",
    "EntityCounts",
    "ProcessWebhook",
    "RefusedCount",
    "dead_letters",
    "entity_counts",
    "entity_status",
    "failed_run_count",
    "failed_runs",
    "inbox_counts",
    "process_runs",
    "process_webhooks",
    "recent_deliveries",
    "refused_counts",
]

FAILED_RUN_STATUSES = ("failed", "timed_out", "invalid_input", "not_found", "cancelled")
"""Run statuses the page lists as failed (``succeeded`` and ``running`` are not)."""


class EntityCounts(BaseModel):
    """One entity table's rows by status (``error`` when it could not be read)."""

    name: str
    table: str
    counts: dict[str, int] = Field(default_factory=dict)
    total: int = 0
    error: str | None = None


class ProcessWebhook(BaseModel):
    """A delivery whose inbox record targeted a process, with what became of it."""

    record: InboxRecordView
    delivery: DeliveryView | None = None


class RefusedCount(BaseModel):
    """Webhook requests refused since this server started, by route and outcome."""

    route: str
    outcome: str
    count: int


def _table(entity: EntityConfig, *columns: str) -> TableClause:
    schema, _, name = entity.table.rpartition(".")
    return table(name, *(column(c) for c in columns), schema=schema or None)


async def entity_counts(db: Database, entities: list[EntityConfig]) -> list[EntityCounts]:
    """Each declared entity table counted by its status column (one query per table)."""
    found: list[EntityCounts] = []
    for entity in entities:
        rows_of = _table(entity, entity.status)
        status = rows_of.c[entity.status]
        query = select(status, func.count()).select_from(rows_of).group_by(status)
        try:
            async with db.read() as session:
                rows = (await session.execute(query)).all()
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            found.append(EntityCounts(name=entity.name, table=entity.table, error=reason))
            continue
        counts = {str(value): int(n) for value, n in rows}
        found.append(
            EntityCounts(
                name=entity.name, table=entity.table, counts=counts, total=sum(counts.values())
            )
        )
    return found


async def entity_status(db: Database, entity: EntityConfig, key: str) -> str | None:
    """The status of the entity with ``key`` (needs the entity's ``key`` column), or None."""
    if entity.key is None:
        return None
    rows_of = _table(entity, entity.status, entity.key)
    query = (
        select(rows_of.c[entity.status])
        .select_from(rows_of)
        .where(rows_of.c[entity.key] == key)
        .limit(1)
    )
    async with db.read() as session:
        value = (await session.execute(query)).scalar()
    return None if value is None else str(value)


async def inbox_counts(db: Database) -> dict[str, int]:
    """Inbox records by status (the depth the metrics report)."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(InboxRecord.status, func.count()).group_by(InboxRecord.status)
            )
        ).all()
    return {str(status): int(n) for status, n in rows}


async def dead_letters(db: Database, *, limit: int = 100) -> list[InboxRecordView]:
    """Dead inbox records, newest first, as ``GET /api/inbox?status=dead`` lists them."""
    query = (
        select(InboxRecord)
        .where(InboxRecord.status == "dead")
        .order_by(InboxRecord.id.desc())
        .limit(limit)
    )
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
        return [InboxRecordView.of(row) for row in rows]


async def recent_deliveries(
    db: Database, *, route: str | None = None, limit: int = 50
) -> list[DeliveryView]:
    """Accepted deliveries, newest first, bodies redacted, as ``GET /api/deliveries``."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if route is not None:
        query = query.where(Delivery.route == route)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
        return [DeliveryView.of(row) for row in rows]


def refused_counts(metrics: CoordinatorMetrics) -> list[RefusedCount]:
    """Requests refused since start (bad signature, invalid body...), from the metrics."""
    found: list[RefusedCount] = []
    for metric in metrics.deliveries.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            outcome = sample.labels.get("outcome", "")
            if outcome in ("accepted", "duplicate") or sample.value <= 0:
                continue
            found.append(
                RefusedCount(route=sample.labels["route"], outcome=outcome, count=int(sample.value))
            )
    return sorted(found, key=lambda r: (r.route, r.outcome))


_RUN_SUMMARY = [c for c in RunIndex.__table__.columns if c.name != "manifest"]


async def failed_runs(db: Database, *, limit: int = 50) -> list[RunRecord]:
    """Runs that did not succeed, newest first, each with the end of its log."""
    query = (
        select(*_RUN_SUMMARY)
        .where(RunIndex.status.in_(FAILED_RUN_STATUSES))
        .order_by(RunIndex.started_at.desc(), RunIndex.run_id.desc())
        .limit(limit)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).mappings().all()
    return [RunRecord.model_validate(dict(row)) for row in rows]


async def failed_run_count(db: Database) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(RunIndex)
            .where(RunIndex.status.in_(FAILED_RUN_STATUSES))
        )
    return int(count or 0)


async def process_webhooks(db: Database, process_id: str) -> list[ProcessWebhook]:
    """The deliveries that reached a process (by the inbox's target), oldest first."""
    query = (
        select(InboxRecord, Delivery)
        .outerjoin(Delivery, Delivery.id == InboxRecord.delivery_id)
        .where(InboxRecord.target_process_id == process_id)
        .order_by(InboxRecord.id)
        .limit(500)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
        return [
            ProcessWebhook(
                record=InboxRecordView.of(record),
                delivery=DeliveryView.of(delivery) if delivery is not None else None,
            )
            for record, delivery in rows
        ]


async def process_runs(db: Database, process_id: str) -> list[RunRecord]:
    """The RAW runs a process made, oldest first, with their manifests.

    A run made by a process's activity carries the idempotency key
    ``<process id>:<run id>:<activity id>`` (see :mod:`raw.orchestrator.activity`).
    """
    made_by = RunIndex.idempotency_key.startswith(f"{process_id}:", autoescape=True)
    query = select(RunIndex).where(made_by).order_by(RunIndex.started_at).limit(500)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
        columns = RunIndex.__table__.columns
        return [
            RunRecord.model_validate({c.name: getattr(row, c.name) for c in columns})
            for row in rows
        ]

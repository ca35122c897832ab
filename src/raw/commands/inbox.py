"""``raw db deliveries | dead-letters | retry``: the coordinator's deliveries and its inbox.

The same views the coordinator's API answers (``GET /api/deliveries``, ``GET
/api/inbox?status=dead``, ``POST /api/inbox/{id}/retry``), read from the project's
database (``DATABASE_URL``, else the config's, else ``.raw/coordinator.db``), so they
work whether or not the coordinator runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from raw.commands.document import Document
from raw.coordinator.api import DeliveryView, InboxRecordView
from raw.coordinator.db.database import (
    Database,
    DatabaseUnavailableError,
    database_url,
    failure_reason,
)
from raw.coordinator.db.models import Delivery, InboxRecord
from raw.coordinator.dead_letters import retry_dead_letter
from raw.project import find_project

__all__ = [
    "dead_letters_document",
    "deliveries_document",
    "in_database",
    "retry_dead_letter_document",
]


async def in_database(
    project_dir: str | Path | None, work: Callable[[Database], Awaitable[Document]]
) -> Document:
    """Open the project's database for ``work``; a missing table or server is exit 4."""
    url = database_url(find_project(project_dir))
    try:
        async with Database(url, pool_size=1, max_overflow=0) as db:
            return await work(db)
    except (OSError, SQLAlchemyError) as exc:
        reason = failure_reason(exc, url)
        if "no such table" in reason or "does not exist" in reason:
            reason += " (run 'raw db upgrade' first)"
        raise DatabaseUnavailableError(url, reason) from None


async def deliveries_document(db: Database, *, route: str | None, limit: int) -> Document:
    """Recent webhook deliveries, newest first, secrets hidden (``GET /api/deliveries``)."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(max(limit, 1))
    if route is not None:
        query = query.where(Delivery.route == route)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
        views = [DeliveryView.of(row).model_dump(mode="json") for row in rows]
    return Document({"deliveries": views})


async def dead_letters_document(db: Database, *, route: str | None, limit: int) -> Document:
    """Inbox records the dispatcher gave up on, newest first (``GET /api/inbox?status=dead``)."""
    query = (
        select(InboxRecord)
        .where(InboxRecord.status == "dead")
        .order_by(InboxRecord.id.desc())
        .limit(max(limit, 1))
    )
    if route is not None:
        query = query.where(InboxRecord.route == route)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
        views = [InboxRecordView.of(row).model_dump(mode="json") for row in rows]
    return Document({"records": views})


async def retry_dead_letter_document(db: Database, record_id: int) -> Document:
    """A dead letter back to pending, due now, attempts reset (``POST /api/inbox/{id}/retry``)."""
    record = await retry_dead_letter(db, record_id)
    return Document(InboxRecordView.of(record).model_dump(mode="json"))

"""Dead letters retried by hand: ``POST /api/inbox/{id}/retry`` and the operator pages.

A record the dispatcher gave up on is ``dead``; :func:`retry_dead_letter` sends it
back, due now, with its attempts reset. Errors:

    RawError
    └── InboxRecordError
        ├── InboxRecordNotFoundError   no inbox record with that id (HTTP 404)
        └── InboxRecordNotDeadError    the record is not a dead letter (HTTP 409)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from raw import clock
from raw.coordinator.db.models import InboxRecord
from raw.coordinator.db.wakeup import inbox_bell, notify_due
from raw.errors import RawError

__all__ = [
    "InboxDatabase",
    "InboxRecordError",
    "InboxRecordNotDeadError",
    "InboxRecordNotFoundError",
    "retry_dead_letter",
]


T = TypeVar("T")


class InboxDatabase(Protocol):
    """What the dispatcher needs from :class:`raw.coordinator.db.database.Database`."""

    @property
    def dialect(self) -> str: ...

    def write(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def run_write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T: ...


class InboxRecordError(RawError):
    """A request about one inbox record that cannot be met."""

    def __init__(self, record_id: int, message: str) -> None:
        self.record_id = record_id
        super().__init__(message)


class InboxRecordNotFoundError(InboxRecordError):
    status_code = 404

    def __init__(self, record_id: int) -> None:
        super().__init__(
            record_id,
            f"No inbox record {record_id}. GET /api/inbox lists the records and their ids.",
        )


class InboxRecordNotDeadError(InboxRecordError):
    status_code = 409

    def __init__(self, record_id: int, status: str) -> None:
        self.status = status
        super().__init__(
            record_id,
            f"Inbox record {record_id} is {status}, not dead: only a dead letter can be "
            "retried by hand (the dispatcher retries the others itself).",
        )


async def retry_dead_letter(db: InboxDatabase, record_id: int) -> InboxRecord:
    """Send a dead letter back to the dispatcher: ``pending``, attempts reset, due now."""
    now = clock.now()
    async with db.write() as session:
        record = await session.get(InboxRecord, record_id)
        if record is None:
            raise InboxRecordNotFoundError(record_id)
        if record.status != "dead":
            raise InboxRecordNotDeadError(record_id, record.status)
        record.status = "pending"
        record.attempts = 0
        record.next_attempt_at = now
        record.lease_owner = None
        record.lease_expires_at = None
        record.updated_at = now
        await session.flush()
        await session.refresh(record)
        session.expunge(record)  # handed back loaded, not expired by the commit
        await notify_due(session, db.dialect)
    inbox_bell(db).ring()
    return record
